// The chat service; see README.md.
export { loadChatConfig, chatConfigSchema, CHAT_ENV, type ChatConfig, type LoadChatConfigOptions } from './config.js';
export { startChatServer, MIGRATIONS_DIR, type ChatServerHandle, type StartChatServerOptions } from './server.js';
export { createChatHandlers, type ChatHandlersOptions } from './grpc-handlers.js';
export { MemoryRunLog, type RunLog, type SubscribeOptions } from './run-log.js';
export { planPrompt, estimateTokensByChars, type PromptPlan, type PromptPlanInput, type HistoryMessage } from './prompt-plan.js';
export { RUN_ERRORS, type RunErrorCode } from './errors.js';
