// Small, pure helpers for benchmark numbers.

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

/** Deterministic user prompts of roughly `words` words, different from each other. */
export function benchPrompts(count: number, words: number): string[] {
  const vocabulary = ['river', 'engine', 'quiet', 'market', 'lantern', 'orbit', 'copper', 'meadow', 'signal', 'harbor', 'winter', 'puzzle'];
  return Array.from({ length: count }, (_, i) =>
    `Request ${i}: ` + Array.from({ length: words }, (_, w) => vocabulary[(i * 7 + w * 5 + (w >> 2)) % vocabulary.length]).join(' '),
  );
}
