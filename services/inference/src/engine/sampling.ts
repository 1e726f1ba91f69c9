// Turns one row of logits into the next token: repetition penalty → temperature → top-k → top-p → draw.
// Pure apart from the injected random source, so a seed reproduces a generation exactly.
import { SeededRandom } from '../seeded-random.js';
import type { SamplingParams } from './types.js';

export type RandomSource = () => number;

/** A draw source seeded per request, so `seed` reproduces a generation exactly. */
export function seededRandom(seed: number): RandomSource {
  const rng = new SeededRandom(seed);
  return () => rng.next();
}

/** HF semantics: a seen token's logit is divided by the penalty if positive, multiplied if negative. */
export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of seen) {
    const v = logits[id]!;
    logits[id] = v > 0 ? v / penalty : v * penalty;
  }
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** The k largest logits' ids in one pass (k is small: a sorted insertion buffer beats a heap). */
function topKIds(logits: Float32Array, k: number): Int32Array {
  const ids = new Int32Array(k);
  const values = new Float32Array(k).fill(-Infinity);
  let size = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (size === k && v <= values[k - 1]!) continue;
    let pos = size < k ? size++ : k - 1;
    while (pos > 0 && values[pos - 1]! < v) {
      values[pos] = values[pos - 1]!;
      ids[pos] = ids[pos - 1]!;
      pos--;
    }
    values[pos] = v;
    ids[pos] = i;
  }
  return ids.subarray(0, size);
}

/**
 * The smallest weight still inside the nucleus: the largest weights, taken in order, until their
 * mass reaches top_p. A native numeric sort of the weights avoids sorting id/logit pairs.
 */
function nucleusThreshold(weights: Float64Array, total: number, topP: number): number {
  if (topP >= 1) return 0;
  const sorted = Float64Array.from(weights).sort();
  let mass = 0;
  for (let j = sorted.length - 1; j >= 0; j--) {
    mass += sorted[j]!;
    if (mass >= topP * total) return sorted[j]!;
  }
  return 0;
}

/** Samples the next token id. Mutates `logits` (the penalty is applied in place). */
export function sampleToken(
  logits: Float32Array,
  params: Pick<SamplingParams, 'temperature' | 'topK' | 'topP' | 'repetitionPenalty'>,
  seen: Iterable<number>,
  random: RandomSource,
): number {
  applyRepetitionPenalty(logits, seen, params.repetitionPenalty);
  if (params.temperature === 0) return argmax(logits);
  const ids = params.topK > 0 && params.topK < logits.length ? topKIds(logits, params.topK) : undefined;
  const count = ids ? ids.length : logits.length;
  const logitOf = ids ? (j: number) => logits[ids[j]!]! : (j: number) => logits[j]!;
  let max = -Infinity;
  for (let j = 0; j < count; j++) max = Math.max(max, logitOf(j));
  const weights = new Float64Array(count);
  let total = 0;
  for (let j = 0; j < count; j++) total += weights[j] = Math.exp((logitOf(j) - max) / params.temperature);
  const threshold = nucleusThreshold(weights, total, params.topP);
  let kept = 0;
  for (let j = 0; j < count; j++) if (weights[j]! >= threshold) kept += weights[j]!;
  let r = random() * kept;
  let last = 0;
  for (let j = 0; j < count; j++) {
    if (weights[j]! < threshold) continue;
    last = j;
    r -= weights[j]!;
    if (r < 0) break;
  }
  return ids ? ids[last]! : last;
}
