// A port nobody listens on right now, for servers that must be told a port up front.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The kernel's ephemeral port range (Linux), where listen(0) and outgoing connections take ports. */
export function ephemeralPortRange(): readonly [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // Not Linux: the IANA range most other systems use.
  }
  return [49152, 65535];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function kernelChosenPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A free port outside the ephemeral range. A port listen(0) hands out is one the kernel also gives
 * any outgoing connection as its source port, so between choosing it and binding it another
 * process's connection can take it (EADDRINUSE, seen in the test suite); ports below the range are
 * only ever taken by someone binding them on purpose.
 */
export async function freePort(): Promise<number> {
  const [low, high] = ephemeralPortRange();
  const windows = [
    [10_000, low - 1],
    [high + 1, 65_535],
  ].filter(([from, to]) => to! >= from!) as [number, number][];
  const size = windows.reduce((n, [from, to]) => n + to - from + 1, 0);
  for (let attempt = 0; attempt < 64 && size > 0; attempt++) {
    let pick = Math.floor(Math.random() * size);
    for (const [from, to] of windows) {
      if (pick <= to - from) {
        const port = from + pick;
        if (await canListen(port)) return port;
        break;
      }
      pick -= to - from + 1;
    }
  }
  return kernelChosenPort();
}
