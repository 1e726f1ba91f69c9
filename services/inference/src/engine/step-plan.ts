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
  /** Whether to prefill (up to the step's prompt-token budget, see planPrefills). */
  readonly prefill: boolean;
  /** Whether to run one decode step for every running sequence. */
  readonly decode: boolean;
}

/**
 * Running sequences decode every step; at most one step's prefill budget is interleaved per step, so
 * a long prompt arriving delays the others' next token by one budget's worth, not by its whole prompt.
 */
export function planStep(c: SchedulerCounts): StepPlan {
  const free = c.maxBatchSize - c.running - c.prefilling;
  const admit = Math.max(0, Math.min(c.waiting, free));
  return { admit, prefill: c.prefilling + admit > 0, decode: c.running > 0 };
}
