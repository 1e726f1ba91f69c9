export { PRESETS, PRESET_NAMES, QWEN3_VOCAB_SIZE, getPreset, isPresetName } from './presets.js';
export type { PresetName, Qwen3Dims } from './presets.js';
export { SeededRandom } from '../seeded-random.js';
export { GraphBuilder, ONNX_IR_VERSION, ONNX_OPSET, serializeModel } from './onnx-graph-builder.js';
export type {
  AttributeValue,
  ConstantSpec,
  Dim,
  ElementType,
  ExternalLocation,
  GraphDescription,
  NodeSpec,
  ValueSpec,
  WeightInit,
  WeightSpec,
} from './onnx-graph-builder.js';
export { DIM, buildQwen3Graph, qwen3WeightNames, rotaryInverseFrequencies } from './qwen3-graph.js';
export {
  BOS_TOKEN_ID,
  DEFAULT_SEED,
  EOS_TOKEN_ID,
  GENERATION_CONFIG,
  MODEL_BUILDER_VERSION,
  MODEL_FILE,
  buildModelDir,
  externalDataFileName,
  isModelDirCurrent,
  makeConfig,
} from './write-model-dir.js';
export type { BuildModelDirOptions, BuildModelDirResult, BuiltInModelInfo, Qwen3ModelConfig } from './write-model-dir.js';
