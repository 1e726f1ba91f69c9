export { ConfigError, type ConfigIssue } from './errors.js';
export { loadConfig, deepMerge, deepFreeze, serviceConfigBase, type LoadConfigOptions, type DeepReadonly } from './config.js';
export { createLogger, LOG_LEVELS, type CreateLoggerOptions, type Logger } from './logger.js';
export { createWallClock, nsToTimestamp, type WallClock } from './clock.js';
export {
  createGrpcServer,
  bindGrpcServer,
  type CreateGrpcServerOptions,
  type GrpcServerHandle,
  type GrpcServiceRegistration,
  type ShutdownOptions,
} from './grpc-server.js';
export {
  createGrpcTransport,
  grpcTransportConfig,
  GRPC_TRANSPORT_ENV,
  DEFAULT_MAX_MESSAGE_BYTES,
  PLAINTEXT_TRANSPORT_CONFIG,
  type GrpcTransport,
  type GrpcTransportConfig,
} from './grpc-transport.js';
export { onTerminate, type OnTerminateOptions } from './process-signals.js';
export * from './discovery/index.js';
export { checkGrpcHealth, checkServiceHealth, type HealthCheckOptions, type HealthState } from './grpc-health-client.js';
export { freePort } from './free-port.js';
export { float32ToShortest } from './float32.js';
export {
  verifyAccessToken,
  parseJwks,
  AccessTokenError,
  ACCESS_TOKEN_ERROR_REASONS,
  ACCESS_TOKEN_ISSUER,
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_TYPE,
  type AccessTokenErrorReason,
  type AccessTokenSubject,
  type JsonWebKeySet,
  type JsonWebKeyMembers,
  type VerifyAccessTokenOptions,
} from './access-tokens.js';
export { mapError, toServiceError, type MappedStatus } from './grpc-errors.js';
export { JwksCache, decideJwks, peekKid, type JwksState, type JwksDecision, type JwksCacheOptions } from './jwks-cache.js';
export {
  callerMetadata,
  bearerTokenOf,
  parseBearer,
  createCallerVerifier,
  UnauthenticatedCallerError,
  CallerKeysUnavailableError,
  CALLER_TOKEN_KEY,
  type CallerVerifier,
  type CallerVerifierOptions,
} from './caller.js';
export { drained, ATTACH_STATE_KEY, ATTACH_LIVE } from './grpc-streams.js';
export { runServiceMain, type ServiceMainOptions, type StartedService } from './service-main.js';
export { createRedisClient, redisReady, redisConfigSchema, redactRedisUrl, REDIS_ENV, type CreateRedisClientOptions, type Redis } from './redis.js';
export {
  startServiceMetrics,
  createMetricsRegistry,
  metricsConfig,
  metricsEnv,
  secondsSince,
  type MetricsConfig,
  type Registry,
  type ServiceMetrics,
  type StartServiceMetricsOptions,
} from './telemetry/metrics.js';
export { defineGrpcMetrics, GRPC_LABELS, GRPC_SECONDS_BUCKETS, type GrpcMetrics, type GrpcType } from './telemetry/grpc-metrics.js';
// The metric classes, so services define metrics without their own prom-client dependency.
export { Counter, Gauge, Histogram } from 'prom-client';
export { defineStreamMetrics, STREAM_HOPS, STREAM_SECONDS_BUCKETS, type StreamHop, type StreamMetrics } from './telemetry/stream-metrics.js';
export {
  setupTracing,
  tracingEnabled,
  tracesEndpoint,
  tracesExportersFromEnv,
  DEFAULT_ZIPKIN_ENDPOINT,
  samplerFromEnv,
  resourceAttributesFromEnv,
  startSpan,
  withContext,
  addSpanEvent,
  setSpanAttributes,
  activeTraceIds,
  injectTraceContext,
  extractTraceContext,
  extractHttpTraceContext,
  withTraceMetadata,
  SpanKind,
  SpanStatusCode,
  type SetupTracingOptions,
  type TracingHandle,
  type SpanHandle,
} from './telemetry/tracing.js';
export { traceGrpcImplementation } from './telemetry/grpc-tracing.js';
