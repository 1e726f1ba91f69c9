// What the next engine step does, decided from counts alone so the policy is testable without a model.

export interface SchedulerCounts {
  readonly running: number;
  readonly prefilling: number;
  readonly waiting: number;
  readonly maxBatchSize: number;
}

export interface StepPlan {
  /** Waiting requests to move into prefill now (FIFO). */
  readonly admit: number;
  /** Whether to run one prefill chunk for the oldest prefilling sequence. */
  readonly prefill: boolean;
  /** Whether to run one decode step for every running sequence. */
  readonly decode: boolean;
}

/**
 * Running sequences decode every step; at most one prefill chunk is interleaved per step, so a long
 * prompt arriving delays the others' next token by one chunk, not by its whole prompt.
 */
export function planStep(c: SchedulerCounts): StepPlan {
  const free = c.maxBatchSize - c.running - c.prefilling;
  const admit = Math.max(0, Math.min(c.waiting, free));
  return { admit, prefill: c.prefilling + admit > 0, decode: c.running > 0 };
}

/** The next slice of a prompt to prefill. */
export function nextChunk(promptLength: number, prefilled: number, chunkTokens: number): { start: number; end: number } {
  return { start: prefilled, end: Math.min(promptLength, prefilled + chunkTokens) };
}
