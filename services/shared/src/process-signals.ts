// Turns SIGTERM/SIGINT (and, when asked, the death of the parent process) into one orderly
// shutdown and a meaningful exit code.
import type { Logger } from 'pino';

/** Set by `make run`'s supervisor on every service it starts; nothing else sets it. */
export const EXIT_WITH_PARENT_ENV = 'FREECHAT_EXIT_WITH_PARENT';

export interface OnTerminateOptions {
  readonly logger: Logger;
  readonly signals?: readonly NodeJS.Signals[];
  /** Injected so tests can observe the exit code without ending the test process. */
  readonly exit?: (code: number) => void;
  /**
   * Also shut down when the parent process is gone (its IPC channel closes, or without one the
   * process is re-parented), e.g. a supervisor killed with SIGKILL: then `handler` runs as for a
   * signal, and the process exits 1 after `graceMs` whatever it is doing.
   */
  readonly exitWithParent?: { readonly graceMs: number; readonly pollMs?: number };
}

export type TerminationCause = NodeJS.Signals | 'parent-exit';

/** Runs `handler` once on the first signal, then exits 0 (1 if it threw). Returns an unsubscribe. */
export function onTerminate(handler: (signal: TerminationCause) => Promise<void>, options: OnTerminateOptions): () => void {
  const { logger, signals = ['SIGTERM', 'SIGINT'], exit = (code: number) => process.exit(code) } = options;
  let started = false;
  const listener = (signal: TerminationCause): void => {
    if (started) {
      logger.warn({ signal }, 'already shutting down');
      return;
    }
    started = true;
    logger.info({ signal }, 'shutting down');
    handler(signal).then(
      () => {
        logger.info('shutdown complete');
        logger.flush?.();
        exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        logger.flush?.();
        exit(1);
      },
    );
  };
  for (const s of signals) process.on(s, listener);
  const stopWatching = options.exitWithParent
    ? watchParent(() => {
        logger.warn('parent process gone; shutting down');
        setTimeout(() => {
          logger.error({ graceMs: options.exitWithParent!.graceMs }, 'shutdown after the parent exited took too long; exiting');
          logger.flush?.();
          exit(1);
        }, options.exitWithParent!.graceMs).unref();
        listener('parent-exit');
      }, options.exitWithParent.pollMs)
    : () => {};
  return () => {
    for (const s of signals) process.off(s, listener);
    stopWatching();
  };
}

/**
 * Calls `onGone` once when the parent process is gone: at once when the IPC channel to it closes
 * (a child spawned with an `ipc` stdio entry), else when `process.ppid` changes (polled). Keeps
 * nothing alive. Returns an unsubscribe.
 */
export function watchParent(onGone: () => void, pollMs = 1_000): () => void {
  let fired = false;
  const fire = (): void => {
    if (fired) return;
    fired = true;
    stop();
    onGone();
  };
  const parent = process.ppid;
  const timer = setInterval(() => process.ppid !== parent && fire(), pollMs).unref();
  const channel = process.channel;
  if (channel) {
    process.on('disconnect', fire);
    // The channel would otherwise keep the process alive after an orderly shutdown.
    channel.unref();
  }
  function stop(): void {
    clearInterval(timer);
    process.off('disconnect', fire);
  }
  return stop;
}

/** The `exitWithParent` option for a service: on when the supervisor set FREECHAT_EXIT_WITH_PARENT=1. */
export function exitWithParentFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  graceMs = 10_000,
): OnTerminateOptions['exitWithParent'] {
  return env[EXIT_WITH_PARENT_ENV] === '1' ? { graceMs } : undefined;
}
