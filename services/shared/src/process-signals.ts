// Turns SIGTERM/SIGINT into one orderly shutdown and a meaningful exit code.
import type { Logger } from 'pino';

export interface OnTerminateOptions {
  readonly logger: Logger;
  readonly signals?: readonly NodeJS.Signals[];
  /** Injected so tests can observe the exit code without ending the test process. */
  readonly exit?: (code: number) => void;
}

/** Runs `handler` once on the first signal, then exits 0 (1 if it threw). Returns an unsubscribe. */
export function onTerminate(handler: (signal: NodeJS.Signals) => Promise<void>, options: OnTerminateOptions): () => void {
  const { logger, signals = ['SIGTERM', 'SIGINT'], exit = (code: number) => process.exit(code) } = options;
  let started = false;
  const listener = (signal: NodeJS.Signals): void => {
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
  return () => {
    for (const s of signals) process.off(s, listener);
  };
}
