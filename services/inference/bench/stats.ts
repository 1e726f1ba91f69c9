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

/**
 * Tokens per second while every stream is decoding at once: from the moment the last stream got its
 * first token to the moment the first stream ended. Prefill of late arrivals is outside the window,
 * so this is the batch's steady decode rate.
 */
export function steadyDecodeRate(streams: readonly { deltas: readonly (readonly [number, number])[]; doneAtMs: number }[]): number {
  const start = Math.max(...streams.map((s) => s.deltas[0]?.[0] ?? Infinity));
  const end = Math.min(...streams.map((s) => s.doneAtMs));
  if (!(end > start)) return Number.NaN;
  const tokens = streams.reduce((n, s) => n + s.deltas.reduce((m, [t, count]) => (t > start && t <= end ? m + count : m), 0), 0);
  return tokens / ((end - start) / 1000);
}

/** A level as every engine reports it (over rounds: each number the median of the rounds'). */
export interface Level {
  readonly concurrency: number;
  readonly decodeTokensPerSecond: number;
  readonly ttftP50Ms: number;
  readonly ttftP95Ms: number;
}
export interface Row {
  readonly engine: string;
  readonly precision: string;
  readonly levels: readonly Level[];
  readonly peakRssMiB: number;
  readonly note?: string;
}

export const median = (values: readonly number[]): number => percentile(values.filter(Number.isFinite), 50);

/** One row from the same part's rounds: per level and number, the median; peak RSS, the highest. */
export function mergeRounds(rounds: readonly Row[]): Row & { readonly rounds: number } {
  const first = rounds[0]!;
  return {
    engine: first.engine,
    precision: first.precision,
    rounds: rounds.length,
    peakRssMiB: Math.max(...rounds.map((r) => r.peakRssMiB)),
    levels: first.levels.map(({ concurrency: c }) => {
      const at = rounds.map((r) => r.levels.find((l) => l.concurrency === c)!);
      return { concurrency: c, decodeTokensPerSecond: median(at.map((l) => l.decodeTokensPerSecond)), ttftP50Ms: median(at.map((l) => l.ttftP50Ms)), ttftP95Ms: median(at.map((l) => l.ttftP95Ms)) };
    }),
  };
}

