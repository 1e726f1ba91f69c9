// Builds the gateway's fastify application: external wrappers, then the app's own plugins, then one
// route plugin per resource group. Starting a listener is server.ts's business.
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from '@freechat/shared';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { GatewayConfig } from './config.js';
import { classifyError } from './errors.js';
import authenticate from './plugins/app/authenticate.js';
import cors from './plugins/app/cors.js';
import sseStreams from './plugins/app/sse-streams.js';
import upstreams from './plugins/app/upstreams.js';
import webUi from './plugins/external/web-ui.js';
import authRoutes from './routes/auth.js';
import healthRoutes from './routes/health.js';
import messageRoutes from './routes/messages.js';
import modelRoutes from './routes/models.js';
import runRoutes from './routes/runs.js';
import sessionRoutes from './routes/sessions.js';
import usageRoutes from './routes/usage.js';

export interface BuildAppOptions {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  /** Milliseconds since the epoch, for token expiry; default Date.now. */
  readonly now?: () => number;
}

export function buildApp(options: BuildAppOptions): FastifyInstance {
  const { config, logger } = options;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.http.bodyLimitBytes,
    // Idle keep-alive sockets are closed on shutdown; open event streams are ended by sse-streams.
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();
  // TypeBox validates what the schemas declare: unknown fields are refused (fastify's default Ajv
  // would drop them), and JSON bodies are never coerced ("5" is not 5), while query strings and
  // params, which are text, are converted to their declared types.
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // JSON only: text/plain bodies are 415 like any other type.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((error, request, reply) => {
    const { apiError, unexpected } = classifyError(error);
    if (unexpected) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: apiError.code, cause: (error as Error).message }, 'request refused');
    return reply.code(apiError.status).send(apiError.toBody());
  });

  // External wrappers
  void app.register(webUi, { dir: config.webUi.dir });
  // The app's own shared services
  void app.register(upstreams, {
    discovery: config.discovery,
    staticAddresses: { auth: config.upstreams.auth, chat: config.upstreams.chat, inference: config.upstreams.inference },
    callTimeoutMs: config.upstreams.callTimeoutMs,
    logger,
  });
  void app.register(sseStreams, { heartbeatMs: config.sse.heartbeatMs });
  void app.register(authenticate, {
    jwksRefetchMinIntervalMs: config.auth.jwksRefetchMinIntervalMs,
    ...(options.now && { now: options.now }),
  });
  void app.register(cors, { allowedOrigins: config.http.corsOrigins });
  // Routes, one plugin per resource group
  void app.register(healthRoutes);
  void app.register(authRoutes);
  void app.register(sessionRoutes);
  void app.register(messageRoutes);
  void app.register(runRoutes);
  void app.register(usageRoutes);
  void app.register(modelRoutes, { cacheMs: config.models.cacheMs, ...(options.now && { now: options.now }) });

  return app;
}
