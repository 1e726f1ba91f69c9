import { describe, expect, it } from 'vitest';
import { pathForSession, sessionIdFromPath } from './route';
import { DEFAULT_SETTINGS, LIMITS, maxTokensBound, parseSettings, withModelLimit } from './settings';

describe('parseSettings', () => {
  it('falls back per field and clamps', () => {
    expect(parseSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings('not json')).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings('{"thinking":false,"temperature":9,"maxTokens":"x"}')).toEqual({ ...DEFAULT_SETTINGS, thinking: false, temperature: 2 });
  });
});

describe('the model limit', () => {
  it("clamps maxTokens to the model's maxNewTokensLimit, and only then", () => {
    const settings = { ...DEFAULT_SETTINGS, maxTokens: 4096 };
    expect(withModelLimit(settings, 2048)).toEqual({ ...settings, maxTokens: 2048 });
    expect(withModelLimit(settings, 8192)).toBe(settings);
    expect(withModelLimit(settings, undefined)).toBe(settings);
    expect(maxTokensBound(undefined)).toBe(LIMITS.maxTokens.max);
    expect(maxTokensBound(0)).toBe(LIMITS.maxTokens.max);
    expect(maxTokensBound(100_000)).toBe(LIMITS.maxTokens.max);
  });
});

describe('route', () => {
  const id = '0b7c2f4e-1a2b-4c3d-8e9f-001122334455';
  it('round-trips a session path', () => {
    expect(sessionIdFromPath(pathForSession(id))).toBe(id);
    expect(sessionIdFromPath('/')).toBeNull();
    expect(sessionIdFromPath('/c/../../etc')).toBeNull();
  });
});
