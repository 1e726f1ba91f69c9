// Tag normalisation and the other session metadata checks, as pure functions.
import { describe, expect, it } from 'vitest';
import { normaliseTag, normaliseTags, validateModel, validateSystemPrompt } from '../src/validation.js';

describe('normaliseTags', () => {
  it('trims, lower-cases, folds inner whitespace and drops duplicates in order', () => {
    expect(normaliseTags(['  Work ', 'ideas', 'WORK', 'Side   Project', 'side project'])).toEqual(['work', 'ideas', 'side project']);
  });

  it('treats composed and decomposed accents as the same tag', () => {
    expect(normaliseTags(['Caf\u00e9', 'cafe\u0301'])).toEqual(['caf\u00e9']);
  });

  it('allows no tags at all (clearing them)', () => {
    expect(normaliseTags([])).toEqual([]);
  });

  it('refuses an empty tag, one over 40 characters and unstorable text', () => {
    expect(() => normaliseTags(['ok', '   '])).toThrow(/^tags: must not be empty/);
    expect(normaliseTags(['😀'.repeat(40)])).toEqual(['😀'.repeat(40)]);
    expect(() => normaliseTags(['x'.repeat(41)])).toThrow(/^tags: must be at most 40/);
    expect(() => normaliseTags(['a\u0000'])).toThrow(/^tags:/);
  });

  it('allows 10 distinct tags, counted after duplicates are dropped, and refuses 11', () => {
    const ten = Array.from({ length: 10 }, (_, i) => `t${i}`);
    expect(normaliseTags([...ten, 'T0', ' t1 '])).toEqual(ten);
    expect(() => normaliseTags([...ten, 't10'])).toThrow(/^tags: must be at most 10/);
  });

  it('names the field it checks', () => {
    expect(normaliseTag('tag', ' Go ')).toBe('go');
    expect(() => normaliseTag('tag', '')).toThrow(/^tag:/);
  });
});

describe('system prompt and model', () => {
  it('keeps a system prompt as written, up to 8000 characters', () => {
    expect(validateSystemPrompt('  Be brief.\n')).toBe('  Be brief.\n');
    expect(validateSystemPrompt('')).toBe('');
    expect(() => validateSystemPrompt('x'.repeat(8001))).toThrow(/^system_prompt:/);
  });

  it('trims a model id, up to 200 characters', () => {
    expect(validateModel(' qwen3-0.6b ')).toBe('qwen3-0.6b');
    expect(() => validateModel('m'.repeat(201))).toThrow(/^model:/);
    expect(() => validateModel('a\u0000')).toThrow(/^model:/);
  });
});
