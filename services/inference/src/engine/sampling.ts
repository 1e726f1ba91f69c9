// Turns one row of logits into the next token: repetition penalty → temperature → top-k → top-p → draw.
// Pure apart from the injected random source, so a seed reproduces a generation exactly.
import type { SamplingParams } from './types.js';

export type RandomSource = () => number;

/** xoshiro128**: small, fast, and good enough to make `seed` reproducible across runs and platforms. */
export function seededRandom(seed: number): RandomSource {
  // splitmix32 spreads a possibly small seed over the 128-bit state.
  let x = seed >>> 0 || 0x9e3779b9;
  const next32 = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next32();
  let b = next32();
  let c = next32();
  let d = next32() | 1;
  return () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
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

interface Candidate {
  id: number;
  logit: number;
}

/** The k largest logits, best first, in one pass (k is small: a sorted insertion buffer beats a heap). */
function topKCandidates(logits: Float32Array, k: number): Candidate[] {
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
  return Array.from({ length: size }, (_, j) => ({ id: ids[j]!, logit: values[j]! }));
}

/**
 * Candidates whose probability could matter, best first. Without top-k, tokens more than ~27 nats
 * below the best carry less than 1e-12 of the mass each; dropping them avoids sorting the vocabulary.
 */
function plausibleCandidates(logits: Float32Array, temperature: number): Candidate[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  const floor = max - 27.6 * temperature;
  const out: Candidate[] = [];
  for (let i = 0; i < logits.length; i++) if (logits[i]! >= floor) out.push({ id: i, logit: logits[i]! });
  return out.sort((p, q) => q.logit - p.logit);
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
  const candidates =
    params.topK > 0 && params.topK < logits.length ? topKCandidates(logits, params.topK) : plausibleCandidates(logits, params.temperature);
  const best = candidates[0]!.logit;
  const weights = candidates.map((c) => Math.exp((c.logit - best) / params.temperature));
  const total = weights.reduce((s, w) => s + w, 0);
  // Keep the smallest prefix whose mass reaches top_p (always at least one token).
  let kept = 0;
  let mass = 0;
  while (kept < candidates.length && (kept === 0 || mass / total < params.topP)) mass += weights[kept++]!;
  let r = random() * mass;
  for (let i = 0; i < kept; i++) {
    r -= weights[i]!;
    if (r < 0) return candidates[i]!.id;
  }
  return candidates[kept - 1]!.id;
}
