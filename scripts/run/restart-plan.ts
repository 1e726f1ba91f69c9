// Whether `make run` restarts a service that exited on its own, and when: a pure function of the
// service's recent exits and the clock, so the policy is tested without starting anything.

export interface RestartPolicy {
  /** Delay before the first restart; each further restart within the window doubles it. */
  readonly initialDelayMs: number;
  /** The doubling stops here. */
  readonly maxDelayMs: number;
  /** More exits than this within `windowMs` is a crash loop: the service is given up on. */
  readonly maxRestarts: number;
  readonly windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 30_000, maxRestarts: 5, windowMs: 120_000 };

export interface ExitRecord {
  /** When it exited (ms since the epoch). */
  readonly at: number;
  readonly code: number | null;
  readonly signal: string | null;
}

export type RestartDecision =
  | { readonly kind: 'restart'; readonly delayMs: number; /** 1 for the first restart within the window. */ readonly attempt: number }
  | { readonly kind: 'give-up'; readonly reason: string };

/** `history`: every exit of `name` so far, oldest first, the one just seen included. */
export function planRestart(name: string, history: readonly ExitRecord[], now: number, policy: RestartPolicy): RestartDecision {
  const recent = history.filter((exit) => now - exit.at <= policy.windowMs);
  if (recent.length > policy.maxRestarts) {
    return {
      kind: 'give-up',
      reason:
        `${name} exited ${recent.length} times within ${formatMs(policy.windowMs)} (exit codes: ${recent.map(describeExit).join(', ')}); ` +
        `the limit is ${policy.maxRestarts} restarts per ${formatMs(policy.windowMs)}, so it is not restarted again (the rest keeps running)`,
    };
  }
  const attempt = Math.max(1, recent.length);
  return { kind: 'restart', attempt, delayMs: Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1)) };
}

/** `1`, or the signal's name when a signal ended it. */
export function describeExit(exit: Pick<ExitRecord, 'code' | 'signal'>): string {
  return exit.signal ?? String(exit.code);
}

/** The policy with `FREECHAT_RESTART_*` overrides; a bad value is an error naming the variable. */
export function restartPolicyFromEnv(env: Readonly<Record<string, string | undefined>>): RestartPolicy {
  const read = (variable: string, fallback: number, min: number): number => {
    const value = env[variable];
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`${variable} must be a whole number of at least ${min}, not "${value}"`);
    return n;
  };
  const initialDelayMs = read('FREECHAT_RESTART_DELAY_MS', DEFAULT_RESTART_POLICY.initialDelayMs, 0);
  return {
    initialDelayMs,
    maxDelayMs: Math.max(initialDelayMs, read('FREECHAT_RESTART_MAX_DELAY_MS', DEFAULT_RESTART_POLICY.maxDelayMs, 0)),
    maxRestarts: read('FREECHAT_RESTART_LIMIT', DEFAULT_RESTART_POLICY.maxRestarts, 0),
    windowMs: read('FREECHAT_RESTART_WINDOW_MS', DEFAULT_RESTART_POLICY.windowMs, 1),
  };
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
