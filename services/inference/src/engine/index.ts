export { createOnnxEngine, shouldSpinThreads, type OnnxEngineOptions, type EngineLogger, type ThreadSpinning } from './onnx-engine.js';
export { loadChatTokenizer, type ChatTokenizer } from './chat-tokenizer.js';
export { readModelFiles, type ModelFiles } from './model-files.js';
export { InvalidArgumentError, ResourceExhaustedError, UnavailableError } from './errors.js';
export type * from './types.js';
export { withGenerate, type GenerateTransform } from './with-generate.js';
