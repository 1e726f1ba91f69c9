// Which process owns a run, and how a stop reaches it. A run executes in exactly one chat replica;
// stops and session deletions may arrive at any replica, and readers anywhere must be able to tell a
// run whose owner died from one that is merely quiet.

/** Why a run was ended from outside: by its user, with its session, or by our own shutdown. */
export type StopReason = 'user' | 'session_deleted' | 'shutdown';

/** What to stop: one run, or every run of a session (it was deleted). */
export type StopTarget = { readonly kind: 'run'; readonly runId: string } | { readonly kind: 'session'; readonly sessionId: string };

export interface RunControl {
  /** 'memory' (one process) or 'redis' (shared by replicas); logged at start. */
  readonly mode: 'memory' | 'redis';
  /** Marks the run as owned by this process until `release` (kept alive while the process lives). */
  claim(runId: string): Promise<void>;
  release(runId: string): Promise<void>;
  /** Whether a live process owns the run. Throws when that cannot be known (store away). */
  isOwned(runId: string): Promise<boolean>;
  /** Delivers a stop to whichever process owns the target's runs (this one included). */
  requestStop(target: StopTarget, reason: StopReason): Promise<void>;
  /** Where this process receives stops (its own requests included). */
  onStop(handler: (target: StopTarget, reason: StopReason) => void): void;
  close(): Promise<void>;
}

/** One process: every run is owned here while it runs, and stops are delivered by a direct call. */
export class MemoryRunControl implements RunControl {
  readonly mode = 'memory' as const;
  private readonly owned = new Set<string>();
  private readonly handlers: ((target: StopTarget, reason: StopReason) => void)[] = [];

  claim(runId: string): Promise<void> {
    this.owned.add(runId);
    return Promise.resolve();
  }

  release(runId: string): Promise<void> {
    this.owned.delete(runId);
    return Promise.resolve();
  }

  isOwned(runId: string): Promise<boolean> {
    return Promise.resolve(this.owned.has(runId));
  }

  requestStop(target: StopTarget, reason: StopReason): Promise<void> {
    for (const handler of this.handlers) handler(target, reason);
    return Promise.resolve();
  }

  onStop(handler: (target: StopTarget, reason: StopReason) => void): void {
    this.handlers.push(handler);
  }

  close(): Promise<void> {
    this.owned.clear();
    return Promise.resolve();
  }
}
