// Builds the gateway's fastify application: external wrappers, then the app's own plugins, then one
// route plugin per resource group. Starting a listener is server.ts's business.
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createGrpcTransport, createMetricsRegistry, defineGrpcMetrics, type GrpcMetrics, type Logger, type Registry } from '@freechat/shared';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { GatewayConfig } from './config.js';
import { classifyError } from './errors.js';
import authenticate from './plugins/app/authenticate.js';
import cors from './plugins/app/cors.js';
import connectionDrain from './plugins/app/connection-drain.js';
import sseStreams from './plugins/app/sse-streams.js';
import upstreams from './plugins/app/upstreams.js';
import rateLimit from './plugins/external/rate-limit.js';
import httpMetrics from './plugins/external/http-metrics.js';
import { gatewayMetrics } from './metrics.js';
import httpTracing from './plugins/external/http-tracing.js';
import securityHeaders from './plugins/external/security-headers.js';
import webUi from './plugins/external/web-ui.js';
import apiDocs from './plugins/external/api-docs.js';
import openapi from './plugins/external/openapi.js';
import authRoutes from './routes/auth.js';
import conversationRoutes from './routes/conversations.js';
import healthRoutes from './routes/health.js';
import messageRoutes from './routes/messages.js';
import modelRoutes from './routes/models.js';
import runRoutes from './routes/runs.js';
import searchRoutes from './routes/search.js';
import sessionRoutes from './routes/sessions.js';
import settingsRoutes from './routes/settings.js';
import shareRoutes from './routes/shares.js';
import usageRoutes from './routes/usage.js';

export interface BuildAppOptions {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  /** Milliseconds since the epoch, for token expiry; default Date.now. */
  readonly now?: () => number;
  /** Where the gateway's metrics go (startServiceMetrics); default a registry of its own, not served. */
  readonly metrics?: { readonly registry: Registry; readonly grpc: GrpcMetrics };
}

/**
 * Pure: how a request appears in logs. The path without its query string (queries can carry
 * secrets: resume ids, tokens a client put there by mistake), and the route template.
 */
export function serializeRequestForLog(request: Pick<FastifyRequest, 'method' | 'url' | 'ip'> & { routeOptions?: { url?: string | undefined } }) {
  return {
    method: request.method,
    path: request.url.split('?')[0],
    ...(request.routeOptions?.url && { route: request.routeOptions.url }),
    remoteAddress: request.ip,
  };
}

/** Pure: a thrown value as something pino's `err` serializer logs with its message and stack. */
export function errorForLog(error: unknown): Error {
  if (error instanceof Error) return error;
  return new Error(`non-Error thrown: ${typeof error === 'string' ? error : Object.prototype.toString.call(error)}`);
}

export function buildApp(options: BuildAppOptions): FastifyInstance {
  const { config, logger } = options;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
    // Idle keep-alive sockets are closed on shutdown, after connection-drain asked clients to drop
    // them; open event streams are ended by sse-streams.
    forceCloseConnections: 'idle',
    // Every request's logger: its `req` without the query string.
    childLoggerFactory: (parent, bindings, childOptions) =>
      parent.child(bindings, { ...childOptions, serializers: { ...childOptions.serializers, req: serializeRequestForLog } }),
  }).withTypeProvider<TypeBoxTypeProvider>();
  // TypeBox validates what the schemas declare: unknown fields are refused (fastify's default Ajv
  // would drop them), and JSON bodies are never coerced ("5" is not 5), while query strings and
  // params, which are text, are converted to their declared types.
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // JSON only: text/plain bodies are 415 like any other type.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((error, request, reply) => {
    const { apiError, unexpected } = classifyError(error);
    if (unexpected) request.log.error({ err: errorForLog(error) }, 'request failed');
    else request.log.info({ code: apiError.code, cause: (error as Error).message }, 'request refused');
    return reply.code(apiError.status).send(apiError.toBody());
  });

  const registry = options.metrics?.registry ?? createMetricsRegistry('gateway');
  const metrics = gatewayMetrics(registry);
  // External wrappers: headers and limits first, so they cover every route, the UI and 404s.
  void app.register(httpMetrics, { metrics });
  // First, so its span covers every other hook.
  void app.register(httpTracing);
  void app.register(securityHeaders);
  void app.register(rateLimit, { config: config.rateLimit, redisUrl: config.redis.url, logger, metrics, ...(options.now && { now: options.now }) });
  void app.register(webUi, { dir: config.webUi.dir });
  // The app's own shared services
  void app.register(upstreams, {
    discovery: config.discovery,
    staticAddresses: { auth: config.upstreams.auth, chat: config.upstreams.chat, inference: config.upstreams.inference },
    callTimeoutMs: config.upstreams.callTimeoutMs,
    transport: createGrpcTransport(config.grpc, 'gateway'),
    logger,
    grpcMetrics: options.metrics?.grpc ?? defineGrpcMetrics(registry),
  });
  void app.register(connectionDrain);
  void app.register(sseStreams, { heartbeatMs: config.sse.heartbeatMs, metrics });
  void app.register(authenticate, {
    jwksRefetchMinIntervalMs: config.auth.jwksRefetchMinIntervalMs,
    redisUrl: config.redis.url,
    logger,
    ...(options.now && { now: options.now }),
  });
  void app.register(cors, { allowedOrigins: config.http.corsOrigins });
  // Before the routes: the OpenAPI document is collected from each route's schema as it is added.
  void app.register(openapi);
  void app.register(apiDocs);
  // Routes, one plugin per resource group
  void app.register(healthRoutes);
  void app.register(authRoutes);
  void app.register(sessionRoutes);
  void app.register(messageRoutes);
  void app.register(runRoutes);
  void app.register(conversationRoutes);
  void app.register(shareRoutes);
  void app.register(usageRoutes);
  void app.register(settingsRoutes);
  void app.register(searchRoutes);
  void app.register(modelRoutes, { cacheMs: config.models.cacheMs, ...(options.now && { now: options.now }) });

  return app;
}
