/**
 * `npm run model:build -- --preset <name> --out <dir> [--seed N] [--attention read-cache|gqa|standard] [--weights float32|int8|int4] [--projections fused|separate] [--force]`
 * Builds a built-in Qwen3-architecture model directory; skips the work when an identical build is already there.
 */
import { parseArgs } from 'node:util';
import { PRESET_NAMES, isPresetName } from './presets.js';
import { SERVED_LAYOUT, type AttentionKind, type ProjectionLayout, type WeightFormat } from './qwen3-graph.js';
import { DEFAULT_SEED, buildModelDir, isModelDirCurrent } from './write-model-dir.js';

const USAGE = `usage: model:build --preset <${PRESET_NAMES.join('|')}> --out <dir> [--seed <uint32>] [--attention read-cache|gqa|standard] [--weights float32|int8|int4] [--projections fused|separate] [--force]
  --attention standard: plain attention with past/present tensors, shaped as onnx-community's exports;
              gqa: GroupQueryAttention, as onnxruntime-genai's graphs (default read-cache: attention that only reads the cache)
  --weights int8|int4: projections and LM head as MatMulNBits over block-quantized weights (default float32)
  --projections separate: q/k/v and gate/up as separate products (default fused, separate with --attention standard)`;
const ATTENTION: readonly AttentionKind[] = ['read-cache', 'gqa', 'standard'];
const WEIGHTS: readonly WeightFormat[] = ['float32', 'int8', 'int4'];
const PROJECTIONS: readonly ProjectionLayout[] = ['fused', 'separate'];

interface CliOptions {
  readonly preset: string;
  readonly out: string;
  readonly seed: number;
  readonly attention: AttentionKind;
  readonly weights: WeightFormat;
  readonly projections?: ProjectionLayout;
  readonly force: boolean;
}

export function parseCliArgs(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      preset: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      attention: { type: 'string', default: SERVED_LAYOUT.attention },
      weights: { type: 'string', default: SERVED_LAYOUT.weights },
      projections: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) throw new UsageError(USAGE);
  if (!values.preset || !isPresetName(values.preset)) throw new UsageError(`missing or unknown --preset\n${USAGE}`);
  if (!values.out) throw new UsageError(`missing --out\n${USAGE}`);
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed must be a uint32\n${USAGE}`);
  const attention = ATTENTION.find((a) => a === values.attention);
  if (!attention) throw new UsageError(`--attention must be one of ${ATTENTION.join(', ')}\n${USAGE}`);
  const weights = WEIGHTS.find((w) => w === values.weights);
  if (!weights) throw new UsageError(`--weights must be one of ${WEIGHTS.join(', ')}\n${USAGE}`);
  const projections = PROJECTIONS.find((p) => p === values.projections);
  if (values.projections !== undefined && !projections) throw new UsageError(`--projections must be fused or separate\n${USAGE}`);
  return { preset: values.preset, out: values.out, seed, attention, weights, ...(projections && { projections }), force: values.force ?? false };
}

class UsageError extends Error {}

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    options = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  const layout = { attention: options.attention, weights: options.weights, ...(options.projections && { projections: options.projections }) };
  if (!options.force && (await isModelDirCurrent(options.out, options.preset, options.seed, layout))) {
    process.stdout.write(`${options.out} is up to date (preset ${options.preset}, seed ${options.seed}); use --force to rebuild\n`);
    return;
  }
  const started = performance.now();
  const { dir } = await buildModelDir({ preset: options.preset, outDir: options.out, seed: options.seed, layout });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`built ${options.preset} (seed ${options.seed}) into ${dir} in ${seconds}s\n`);
}

await main();
