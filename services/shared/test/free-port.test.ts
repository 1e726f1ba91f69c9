// freePort hands out ports a server can bind, outside the range the kernel gives outgoing
// connections (where a chosen port could be taken before the server binds it).
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralPortRange, freePort } from '../src/free-port.js';

const listen = (port: number): Promise<() => Promise<void>> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(() => new Promise((done) => server.close(() => done()))));
  });

describe('freePort', () => {
  it('gives bindable ports outside the ephemeral range, and never one already listened on', async () => {
    const [low, high] = ephemeralPortRange();
    const closers: (() => Promise<void>)[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const port = await freePort();
        expect(port >= low && port <= high, `port ${port} inside ${low}-${high}`).toBe(false);
        // Held open: the next picks must avoid it.
        closers.push(await listen(port));
      }
    } finally {
      await Promise.all(closers.map((close) => close()));
    }
  });
});
