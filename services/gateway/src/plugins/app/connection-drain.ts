// Keep-alive connections outlive the gateway's removal from Consul and from a Kubernetes Service:
// clients reuse them until the server closes them, and closing one just as a client sends a request
// on it kills that request ("other side closed", seen while rolling the gateway under load). So a
// closing gateway first drains: every response says `Connection: close`, and each client drops its
// connection after its next answer; only then is the server closed (idle sockets with it). Event
// streams are not waited for: sse-streams ends them next, and their clients resume elsewhere.
import type { FastifyPluginAsync } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { sharedPlugin } from '../shared-plugin.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Starts answering `Connection: close`; resolves when only event streams are left, or after `maxMs`. */
    drainConnections(maxMs: number): Promise<void>;
  }
}

const connectionDrain: FastifyPluginAsync = async (app) => {
  let draining = false;
  app.addHook('onRequest', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });
  const openConnections = (): Promise<number> =>
    new Promise((resolve) => app.server.getConnections((error, count) => resolve(error ? 0 : count)));
  app.decorate('drainConnections', async (maxMs: number) => {
    draining = true;
    const deadline = Date.now() + maxMs;
    const busy = async () => (await openConnections()) > (app.hasDecorator('sseStreams') ? app.sseStreams.size : 0);
    while (Date.now() < deadline && (await busy())) await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
  });
};

export default sharedPlugin('connection-drain', connectionDrain);
