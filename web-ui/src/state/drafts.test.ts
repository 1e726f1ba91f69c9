import { describe, expect, it } from 'vitest';
import { createDraftStore, draftKey, type DraftStorage } from './drafts';

const memory = (): DraftStorage & { keys: () => string[] } => {
  const map = new Map<string, string>();
  return {
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
    keys: () => [...map.keys()],
  };
};

describe('draft store', () => {
  it('keeps a draft per conversation and one for the new chat', () => {
    const storage = memory();
    const drafts = createDraftStore(storage, 'u1');
    drafts.save('s1', 'half a question');
    drafts.save(null, 'a new one');
    expect(drafts.load('s1')).toBe('half a question');
    expect(drafts.load(null)).toBe('a new one');
    expect(drafts.load('s2')).toBe('');
    expect(storage.keys().sort()).toEqual([draftKey('u1', null), draftKey('u1', 's1')].sort());
  });

  it('keeps each user’s drafts apart', () => {
    const storage = memory();
    createDraftStore(storage, 'u1').save('s1', 'mine');
    expect(createDraftStore(storage, 'u2').load('s1')).toBe('');
    expect(createDraftStore(storage, 'u1').load('s1')).toBe('mine');
  });

  it('removes a draft saved empty or blank (sent, or erased)', () => {
    const storage = memory();
    const drafts = createDraftStore(storage, 'u1');
    drafts.save('s1', 'text');
    drafts.save('s1', '  \n');
    expect(drafts.load('s1')).toBe('');
    expect(storage.keys()).toEqual([]);
  });

  it('keeps whitespace inside a draft as typed', () => {
    const drafts = createDraftStore(memory(), 'u1');
    drafts.save('s1', 'line one\n\n  line two ');
    expect(drafts.load('s1')).toBe('line one\n\n  line two ');
  });

  it('carries on when the storage refuses', () => {
    const refusing: DraftStorage = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {
        throw new Error('SecurityError');
      },
    };
    const drafts = createDraftStore(refusing, 'u1');
    expect(() => drafts.save('s1', 'x')).not.toThrow();
    expect(drafts.load('s1')).toBe('');
  });
});
