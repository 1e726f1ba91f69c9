// The gateway service; see README.md.
export { loadGatewayConfig, gatewayConfigSchema, GATEWAY_ENV, type GatewayConfig, type LoadGatewayConfigOptions } from './config.js';
export { buildApp, type BuildAppOptions } from './app.js';
export { startGatewayServer, type StartGatewayServerOptions, type GatewayServerHandle } from './server.js';
export { ApiError, ERRORS, classifyError, fromGrpcStatus, type ErrorCode, type ErrorBody } from './errors.js';
export { createGatewayClients, type GatewayClients } from './rpc.js';
export { formatSseEvent, type SseEvent } from './sse.js';
export { parseLastEventId, formatEventId } from './mapping.js';
