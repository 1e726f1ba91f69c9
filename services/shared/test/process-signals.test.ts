import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { onTerminate } from '../src/index.js';
import { exitWithParentFromEnv } from '../src/process-signals.js';

const logger = pino({ level: 'silent' });
// A signal nothing else in the test process listens to, delivered with process.emit (no real signal).
const SIGNAL = 'SIGUSR2' as const;

function exitCode(): { exit: (code: number) => void; code: Promise<number> } {
  let exit!: (code: number) => void;
  const code = new Promise<number>((resolve) => (exit = resolve));
  return { exit, code };
}

describe('onTerminate', () => {
  it('runs the handler once and exits 0', async () => {
    const { exit, code } = exitCode();
    let runs = 0;
    const off = onTerminate(async () => void runs++, { logger, signals: [SIGNAL], exit });
    process.emit(SIGNAL, SIGNAL);
    process.emit(SIGNAL, SIGNAL);
    expect(await code).toBe(0);
    expect(runs).toBe(1);
    off();
  });

  it('exits 1 when the handler fails', async () => {
    const { exit, code } = exitCode();
    const off = onTerminate(() => Promise.reject(new Error('stuck')), { logger, signals: [SIGNAL], exit });
    process.emit(SIGNAL, SIGNAL);
    expect(await code).toBe(1);
    off();
  });
});

describe('exitWithParentFromEnv', () => {
  it('is on only when the supervisor asked for it, so containers and tests never watch their parent', () => {
    expect(exitWithParentFromEnv({})).toBeUndefined();
    expect(exitWithParentFromEnv({ FREECHAT_EXIT_WITH_PARENT: '0' })).toBeUndefined();
    expect(exitWithParentFromEnv({ FREECHAT_EXIT_WITH_PARENT: '1' })).toEqual({ graceMs: 10_000 });
  });
});
