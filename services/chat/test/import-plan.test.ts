// The pure import plan: new ids for everything, parents linked through them, the current leaf
// carried over, times that keep branches in order, and the first problem named.
import { describe, expect, it } from 'vitest';
import { IMPORTED_TITLE, MAX_IMPORT_CONVERSATIONS, planImport, type ImportedConversationInput, type ImportedMessageInput } from '../src/import-plan.js';
import { parentsFirst } from '../src/tree-order.js';

const now = new Date('2026-12-01T00:00:00Z');
const ids = () => {
  let n = 0;
  return () => `id-${++n}`;
};
const msg = (ref: string, parentRef: string, role: 'user' | 'assistant', extra: Partial<ImportedMessageInput> = {}): ImportedMessageInput => ({
  ref,
  parentRef,
  role,
  content: `text of ${ref}`,
  reasoning: '',
  status: 'unspecified',
  createdAt: undefined,
  ...extra,
});
const conversation = (messages: ImportedMessageInput[], extra: Partial<ImportedConversationInput> = {}): ImportedConversationInput => ({
  title: 'Imported',
  createdAt: new Date('2024-05-01T00:00:00Z'),
  messages,
  currentLeafRef: '',
  ...extra,
});

describe('planImport', () => {
  it('a tree with an edited question: new ids, parents through them, the chosen leaf, never the file ids', () => {
    const [session] = planImport(
      [
        conversation(
          [
            msg('q1', '', 'user'),
            msg('a1', 'q1', 'assistant', { reasoning: 'thinking', status: 'stopped' }),
            msg('q2', 'a1', 'user'),
            msg('a2', 'q2', 'assistant'),
            msg('q2-edited', 'a1', 'user'),
            msg('a2-edited', 'q2-edited', 'assistant'),
          ],
          { currentLeafRef: 'a2-edited' },
        ),
      ],
      ids(),
      now,
    );
    const byContent = new Map(session!.messages.map((m) => [m.content, m]));
    const idOf = (ref: string) => byContent.get(`text of ${ref}`)!.id;
    expect(session!.messages.map((m) => m.id)).not.toContain('q1');
    expect(byContent.get('text of q1')!.parentId).toBeNull();
    expect(byContent.get('text of q2')!.parentId).toBe(idOf('a1'));
    expect(byContent.get('text of q2-edited')!.parentId).toBe(idOf('a1'));
    expect(byContent.get('text of a2-edited')!.parentId).toBe(idOf('q2-edited'));
    expect(session!.currentLeafId).toBe(idOf('a2-edited'));
    expect(byContent.get('text of a1')).toMatchObject({ status: 'stopped', reasoning: 'thinking' });
    expect(byContent.get('text of q1')!.status).toBe('complete');
    expect(new Set(session!.messages.map((m) => m.id)).size).toBe(6);
    expect(session!.id).not.toBe(idOf('q1'));
  });

  it('without a leaf, the last message; children listed before parents are put after them', () => {
    const [session] = planImport([conversation([msg('a1', 'q1', 'assistant'), msg('q1', '', 'user')])], ids(), now);
    expect(session!.messages.map((m) => m.content)).toEqual(['text of q1', 'text of a1']);
    expect(session!.currentLeafId).toBe(session!.messages[1]!.id);
  });

  it('times: missing ones take the parent time, none goes before its parent; the session sorts by its newest message', () => {
    const [session] = planImport(
      [
        conversation([
          msg('q1', '', 'user', { createdAt: new Date('2024-05-01T10:00:00Z') }),
          msg('a1', 'q1', 'assistant'),
          msg('q2', 'a1', 'user', { createdAt: new Date('2024-04-01T00:00:00Z') }),
          msg('a2', 'q2', 'assistant', { createdAt: new Date('2024-05-02T00:00:00Z') }),
        ]),
      ],
      ids(),
      now,
    );
    expect(session!.messages.map((m) => m.createdAt.toISOString())).toEqual([
      '2024-05-01T10:00:00.000Z',
      '2024-05-01T10:00:00.000Z',
      '2024-05-01T10:00:00.000Z',
      '2024-05-02T00:00:00.000Z',
    ]);
    expect(session!.updatedAt.toISOString()).toBe('2024-05-02T00:00:00.000Z');
    expect(planImport([conversation([], { createdAt: undefined, title: '   ' })], ids(), now)[0]).toMatchObject({ title: IMPORTED_TITLE, createdAt: now, currentLeafId: null });
  });

  it('names the first problem: unknown parent, duplicate ref, a cycle, a streaming status, unstorable text, limits', () => {
    const refused = (conversations: ImportedConversationInput[]) => () => planImport(conversations, ids(), now);
    expect(refused([conversation([msg('a', 'zzz', 'user')])])).toThrow('conversations[0].messages[0].parent_ref: "zzz" is not a message of the conversation');
    expect(refused([conversation([msg('a', '', 'user'), msg('a', '', 'user')])])).toThrow('conversations[0].messages[1].ref: "a" is used by an earlier message');
    expect(refused([conversation([msg('a', 'b', 'user'), msg('b', 'a', 'assistant')])])).toThrow('conversations[0].messages: the parent links form a cycle');
    expect(refused([conversation([msg('a', '', 'assistant', { status: 'streaming' })])])).toThrow('conversations[0].messages[0].status');
    expect(refused([conversation([msg('a', '', 'user', { content: 'nul \u0000' })])])).toThrow('conversations[0].messages[0].content');
    expect(refused([conversation([msg('a', '', 'user')], { currentLeafRef: 'nope' })])).toThrow('conversations[0].current_leaf_ref');
    expect(refused([])).toThrow('the file holds no conversation');
    expect(refused(Array.from({ length: MAX_IMPORT_CONVERSATIONS + 1 }, () => conversation([])))).toThrow(`at most ${MAX_IMPORT_CONVERSATIONS} conversations per import`);
    expect(refused([conversation(Array.from({ length: 20_001 }, (_, i) => msg(`m${i}`, '', 'user')))])).toThrow('at most 20000 messages per import (this file has 20001)');
  });
});

describe('parentsFirst', () => {
  it('puts every parent before its children, depth first, keeping the given order among siblings', () => {
    const ordered = parentsFirst([
      { id: 'c', parentId: 'b' },
      { id: 'b', parentId: 'a' },
      { id: 'x', parentId: 'a' },
      { id: 'a', parentId: null },
    ]);
    expect(ordered.map((m) => m.id)).toEqual(['a', 'b', 'c', 'x']);
  });
});
