// How the gateway reaches auth, chat and inference, as one decorator: the discovery (Consul or the
// configured addresses) that provides every gRPC channel, and balanced clients over it. This plugin
// opens the discovery and closes it; server.ts registers the gateway through it once listening.
import { createDiscovery, type Discovery, type DiscoveryConfig, type GrpcMetrics, type GrpcTransport, type Logger } from '@freechat/shared';
import type { FastifyPluginAsync } from 'fastify';
import { createGatewayClients, type GatewayClients } from '../../rpc.js';
import { sharedPlugin } from '../shared-plugin.js';

export interface Upstreams {
  readonly clients: GatewayClients;
  readonly discovery: Discovery;
  /** Deadline of every unary call. */
  readonly callTimeoutMs: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    upstreams: Upstreams;
  }
}

export interface UpstreamsPluginOptions extends Record<string, unknown> {
  readonly discovery: DiscoveryConfig;
  /** Where the upstreams are when no Consul is configured. */
  readonly staticAddresses: { readonly auth: string; readonly chat: string; readonly inference: string };
  readonly callTimeoutMs: number;
  /** mTLS or plaintext, and message size limits, of every upstream channel. */
  readonly transport: GrpcTransport;
  readonly logger: Logger;
  /** freechat_grpc_client_* for every upstream call. */
  readonly grpcMetrics?: GrpcMetrics;
}

const upstreams: FastifyPluginAsync<UpstreamsPluginOptions> = async (app, options) => {
  const discovery = createDiscovery({ config: options.discovery, service: 'gateway', logger: options.logger, transport: options.transport, staticAddresses: options.staticAddresses, ...(options.grpcMetrics && { metrics: options.grpcMetrics }) });
  const clients = createGatewayClients(discovery.channels);
  app.decorate('upstreams', { clients, discovery, callTimeoutMs: options.callTimeoutMs });
  app.addHook('onClose', async () => discovery.close());
};

export default sharedPlugin('upstreams', upstreams);
