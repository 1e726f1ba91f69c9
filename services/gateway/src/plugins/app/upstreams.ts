// The gRPC clients of auth, chat and inference as one decorator. Clients this plugin opened, it closes.
import type { FastifyPluginAsync } from 'fastify';
import { closeGatewayClients, createGatewayClients, type GatewayClients, type UpstreamAddresses } from '../../rpc.js';
import { sharedPlugin } from '../shared-plugin.js';

export interface Upstreams {
  readonly clients: GatewayClients;
  readonly addresses: UpstreamAddresses;
  /** Deadline of every unary call. */
  readonly callTimeoutMs: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    upstreams: Upstreams;
  }
}

export interface UpstreamsPluginOptions extends Record<string, unknown> {
  readonly addresses: UpstreamAddresses;
  readonly callTimeoutMs: number;
  /** Clients owned by the caller (left open on close); default: opened here from `addresses`. */
  readonly clients?: GatewayClients;
}

const upstreams: FastifyPluginAsync<UpstreamsPluginOptions> = async (app, options) => {
  const clients = options.clients ?? createGatewayClients(options.addresses);
  app.decorate('upstreams', { clients, addresses: options.addresses, callTimeoutMs: options.callTimeoutMs });
  if (!options.clients) app.addHook('onClose', async () => closeGatewayClients(clients));
};

export default sharedPlugin('upstreams', upstreams);
