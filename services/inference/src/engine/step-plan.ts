// What the next engine step does, decided from counts alone so the policy is testable without a model.

export interface SchedulerCounts {
  readonly running: number;
  readonly prefilling: number;
  readonly waiting: number;
  /** Next-turn prefixes queued for warming (background work: never ahead of a waiting request). */
  readonly warming: number;
  readonly maxBatchSize: number;
  /** The configured prefill chunk: prompt tokens a step may prefill while streams are decoding. */
  readonly chunkTokens: number;
}

export interface StepPlan {
  /** Waiting requests to move into prefill now (FIFO). */
  readonly admit: number;
  /** Queued warmings to move into prefill now: only when no request waits, into slots left free. */
  readonly admitWarm: number;
  /** Prompt tokens this step may prefill (see planPrefills); 0: no prefill. */
  readonly prefillTokens: number;
  /** Whether to run one decode step for every running sequence. */
  readonly decode: boolean;
}

/**
 * With nothing decoding, a step may prefill this many chunks: the chunk exists to bound how long
 * running streams wait for their next token, and with none there is no one to wait, so prompts that
 * arrive together go in one pass (8 × 89 tokens: one pass instead of three passes and two decode
 * steps before the last first token). Still bounded, because a pass's activations (and the logits of
 * a graph that outputs every position) grow with its tokens.
 */
export const IDLE_PREFILL_CHUNKS = 4;

/**
 * Running sequences decode every step; at most one chunk of prefill is interleaved per step, so a long
 * prompt arriving delays the others' next token by one chunk's worth, not by its whole prompt.
 */
export function planStep(c: SchedulerCounts): StepPlan {
  const free = c.maxBatchSize - c.running - c.prefilling;
  const admit = Math.max(0, Math.min(c.waiting, free));
  const admitWarm = c.waiting > 0 ? 0 : Math.max(0, Math.min(c.warming, free));
  const prefilling = c.prefilling + admit + admitWarm > 0;
  const budget = c.running > 0 ? c.chunkTokens : c.chunkTokens * IDLE_PREFILL_CHUNKS;
  return { admit, admitWarm, prefillTokens: prefilling ? budget : 0, decode: c.running > 0 };
}
