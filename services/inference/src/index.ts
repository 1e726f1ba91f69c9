export { loadInferenceConfig, inferenceConfigSchema, INFERENCE_ENV, type InferenceConfig, type LoadInferenceConfigOptions } from './config.js';
export { planModelSource, resolveModel, BUILT_IN_MODEL_ID, type ModelPlan, type ResolvedModel, type ResolveModelOptions } from './model-source.js';
export { selectHubFiles } from './hub-files.js';
export { createInferenceHandlers, type InferenceHandlersOptions } from './grpc-handlers.js';
export {
  startInferenceServer,
  defaultEngineFactory,
  defaultModelResolver,
  type EngineFactory,
  type ModelResolver,
  type InferenceServerHandle,
  type StartInferenceServerOptions,
} from './server.js';
export { withGenerate, type GenerateTransform } from './engine/index.js';
