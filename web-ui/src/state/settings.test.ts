import { describe, expect, it } from 'vitest';
import { pathForSession, sessionIdFromPath } from './route';
import {
  addEdits,
  applyChange,
  changedFields,
  DEFAULT_SETTINGS,
  editsAfterSave,
  LIMITS,
  maxTokensBound,
  parseSettings,
  settingsFrom,
  themeAttribute,
  withEdits,
  withModelLimit,
} from './settings';

describe('parseSettings', () => {
  it('falls back per field and clamps', () => {
    expect(parseSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings('not json')).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings('{"thinking":false,"temperature":9,"maxTokens":"x","theme":"sepia"}')).toEqual({ ...DEFAULT_SETTINGS, thinking: false, temperature: 2 });
    expect(parseSettings('{"theme":"dark"}')).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark' });
  });

  it('reads the server’s answer the same way, ignoring what the UI does not use', () => {
    expect(settingsFrom({ thinking: false, temperature: 0.3, maxTokens: 300, theme: 'light', language: 'fr' })).toEqual({
      thinking: false,
      temperature: 0.3,
      maxTokens: 300,
      theme: 'light',
    });
    expect(settingsFrom(null)).toEqual(DEFAULT_SETTINGS);
  });
});

describe('edits not yet saved', () => {
  const saved = { ...DEFAULT_SETTINGS, temperature: 1 };

  it('are the fields that changed, the latest value winning', () => {
    expect(changedFields(saved, { ...saved, theme: 'dark' })).toEqual({ theme: 'dark' });
    expect(changedFields(saved, saved)).toEqual({});
    const once = addEdits({}, saved, { ...saved, temperature: 1.5 });
    const twice = addEdits(once, { ...saved, temperature: 1.5 }, { ...saved, temperature: 1.7, thinking: false });
    expect(twice).toEqual({ temperature: 1.7, thinking: false });
  });

  it('win over the server’s answer until saved', () => {
    const server = { ...DEFAULT_SETTINGS, theme: 'dark' as const, maxTokens: 256 };
    expect(withEdits(server, { temperature: 0.2 })).toEqual({ ...server, temperature: 0.2 });
    expect(withEdits(server, {})).toEqual(server);
  });

  it('are done once saved, unless changed again meanwhile', () => {
    expect(editsAfterSave({ temperature: 1.7, thinking: false }, { temperature: 1.7, thinking: false })).toEqual({});
    expect(editsAfterSave({ temperature: 1.9, thinking: false }, { temperature: 1.7, thinking: false })).toEqual({ temperature: 1.9 });
  });
});

describe('the theme', () => {
  it('pins light or dark on the page, and leaves System to the media query', () => {
    expect(themeAttribute('dark')).toBe('dark');
    expect(themeAttribute('light')).toBe('light');
    expect(themeAttribute('system')).toBeUndefined();
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

  it('keeps the stored maxTokens when the panel changes something else on the clamped settings', () => {
    const stored = { ...DEFAULT_SETTINGS, maxTokens: 4096 };
    const shown = withModelLimit(stored, 2048);
    expect(applyChange(stored, 2048, { ...shown, theme: 'dark' })).toEqual({ ...stored, theme: 'dark' });
    expect(applyChange(stored, 2048, { ...shown, maxTokens: 1000 })).toEqual({ ...stored, maxTokens: 1000 });
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
