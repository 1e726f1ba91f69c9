// Closes answers whose process died mid-run: `streaming` rows nobody has touched for a while become
// `error`, keeping their text. Live runs touch their row well within that time, so replicas are safe.
import type { Logger } from '@freechat/shared';

export interface ReaperOptions {
  readonly store: { reapStale(staleAfterMs: number): Promise<number> };
  readonly staleAfterMs: number;
  readonly logger: Logger;
}

export interface Reaper {
  /** One sweep now; resolves with how many messages were closed. */
  sweep(): Promise<number>;
  /** Sweeps every `staleAfterMs` until stopped. */
  start(): void;
  stop(): Promise<void>;
}

export function createReaper(options: ReaperOptions): Reaper {
  const { store, staleAfterMs, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  const sweep = (): Promise<number> => {
    running ??= store
      .reapStale(staleAfterMs)
      .then((count) => {
        if (count > 0) logger.warn({ count }, 'marked messages left streaming by a stopped process as error');
        return count;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  return {
    sweep,
    start() {
      timer ??= setInterval(() => {
        sweep().catch((error: unknown) => logger.warn({ err: error }, 'reaper sweep failed'));
      }, staleAfterMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running?.catch(() => 0);
    },
  };
}
