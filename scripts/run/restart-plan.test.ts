import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART_POLICY, planRestart, restartPolicyFromEnv, type ExitRecord } from './restart-plan.js';

const policy = { initialDelayMs: 500, maxDelayMs: 4_000, maxRestarts: 5, windowMs: 60_000 };
const exit = (at: number, code: number | null = 1, signal: string | null = null): ExitRecord => ({ at, code, signal });

describe('planRestart', () => {
  it('restarts a first crash after the initial delay', () => {
    expect(planRestart('chat', [exit(1_000, null, 'SIGKILL')], 1_000, policy)).toEqual({ kind: 'restart', attempt: 1, delayMs: 500 });
  });

  it('doubles the delay for each exit within the window, up to the cap', () => {
    const history: ExitRecord[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      history.push(exit(10_000 + i * 1_000));
      const decision = planRestart('chat', history, 10_000 + i * 1_000, policy);
      if (decision.kind !== 'restart') throw new Error('expected a restart');
      delays.push(decision.delayMs);
    }
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 4_000]);
  });

  it('gives up past the limit within the window, naming the service, its exit codes and the limit', () => {
    const history = [exit(0, null, 'SIGKILL'), exit(1_000), exit(2_000), exit(3_000), exit(4_000), exit(5_000, 78)];
    const decision = planRestart('inference', history, 5_000, policy);
    expect(decision.kind).toBe('give-up');
    if (decision.kind !== 'give-up') return;
    expect(decision.reason).toContain('inference exited 6 times within 60 s');
    expect(decision.reason).toContain('exit codes: SIGKILL, 1, 1, 1, 1, 78');
    expect(decision.reason).toContain('the limit is 5 restarts per 60 s');
  });

  it('forgets exits older than the window: a service that crashes now and then is always restarted', () => {
    const history = Array.from({ length: 20 }, (_, i) => exit(i * 61_000));
    expect(planRestart('chat', history, 19 * 61_000, policy)).toEqual({ kind: 'restart', attempt: 1, delayMs: 500 });
  });

  it('a limit of 0 never restarts', () => {
    expect(planRestart('chat', [exit(0)], 0, { ...policy, maxRestarts: 0 }).kind).toBe('give-up');
  });
});

describe('restartPolicyFromEnv', () => {
  it('has defaults and takes overrides', () => {
    expect(restartPolicyFromEnv({})).toEqual(DEFAULT_RESTART_POLICY);
    expect(restartPolicyFromEnv({ FREECHAT_RESTART_LIMIT: '2', FREECHAT_RESTART_DELAY_MS: '100', FREECHAT_RESTART_WINDOW_MS: '30000' })).toEqual({
      initialDelayMs: 100,
      maxDelayMs: 30_000,
      maxRestarts: 2,
      windowMs: 30_000,
    });
  });

  it('refuses a bad value, naming the variable', () => {
    expect(() => restartPolicyFromEnv({ FREECHAT_RESTART_LIMIT: 'many' })).toThrow(/FREECHAT_RESTART_LIMIT must be a whole number/);
  });
});
