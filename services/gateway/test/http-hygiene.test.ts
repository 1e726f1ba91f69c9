// What every gateway response carries and what the gateway writes to its log, on the bare app:
// helmet's security headers (strict CSP, no framing, nosniff, Referrer-Policy) on pages, API
// answers and errors; request logs without query strings; a 500's cause logged with its message
// and stack.
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@freechat/shared';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, loadGatewayConfig } from '../src/index.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function start(): { app: FastifyInstance; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      callback();
    },
  });
  const config = loadGatewayConfig({ env: { FREECHAT_WEB_UI_DIR: path.join(tmpdir(), 'freechat-no-ui-built') } });
  app = buildApp({ config, logger: createLogger({ service: 'gateway', level: 'info', destination }) });
  return { app, lines };
}

describe('security headers', () => {
  it('are on pages, API answers and errors: strict CSP, frame-ancestors none, nosniff, Referrer-Policy', async () => {
    const { app } = start();
    app.get('/api/test-boom', async () => {
      throw new Error('boom');
    });
    for (const url of ['/', '/some/client/route', '/api/nothing-here', '/healthz', '/api/test-boom']) {
      const response = await app.inject({ url });
      const csp = String(response.headers['content-security-policy']);
      expect(csp, url).toContain("default-src 'self'");
      expect(csp, url).toContain("script-src 'self'");
      expect(csp, url).toContain("style-src 'self'");
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toContain("object-src 'none'");
      expect(csp, url).not.toContain('unsafe-inline');
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['x-frame-options'], url).toBe('DENY');
      expect(response.headers['referrer-policy'], url).toBe('no-referrer');
    }
    // The placeholder page (no UI built) needs nothing the policy refuses.
    expect((await app.inject({ url: '/' })).body).not.toMatch(/style=|<style|<script/);
  });
});

describe('logs', () => {
  it('never contain a query string, and a 500 logs its cause with message and stack', async () => {
    const { app, lines } = start();
    app.get('/api/test-boom', async () => {
      const cause = new Error('the database said no');
      const error = Object.assign(new Error('kaboom while answering', { cause }), { self: undefined as unknown });
      error.self = error;
      throw error;
    });
    app.get('/api/test-throws-string', async () => {
      throw 'a bare string';
    });
    const boom = await app.inject({ url: '/api/test-boom?lastEventId=secret-resume-id&token=secret-token' });
    expect(boom.statusCode).toBe(500);
    expect(boom.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
    await app.inject({ url: '/api/nothing-here?lastEventId=secret-resume-id' });
    await app.inject({ url: '/some/page?token=secret-token' });
    expect((await app.inject({ url: '/api/test-throws-string' })).statusCode).toBe(500);

    const log = lines.join('\n');
    expect(log).not.toContain('secret');
    const incoming = lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'incoming request');
    expect(incoming.map((line) => line.req.path)).toEqual(['/api/test-boom', '/api/nothing-here', '/some/page', '/api/test-throws-string']);
    expect(incoming[0].req.route).toBe('/api/test-boom');

    const failures = lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request failed');
    expect(failures).toHaveLength(2);
    expect(failures[0].level).toBe('error');
    // pino's err serializer appends the cause chain to the message and the stack.
    expect(failures[0].err.message).toBe('kaboom while answering: the database said no');
    expect(failures[0].err.stack).toMatch(/^Error: kaboom while answering\n\s+at /);
    expect(JSON.stringify(failures[0].err)).toContain('the database said no');
    expect(failures[1].err.message).toBe('non-Error thrown: a bare string');
    expect(failures[1].err.stack).toContain('Error: non-Error thrown');
  });
});
