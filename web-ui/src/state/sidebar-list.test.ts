import { describe, expect, it } from 'vitest';
import type { Session } from '../api/types';
import { extraResults, groupSessions, parseTags, snippetParts } from './sidebar-list';

const session = (id: string, title: string, extra: Partial<Session> = {}): Session => ({
  id,
  title,
  createdAt: null,
  updatedAt: null,
  currentLeafId: null,
  answering: false,
  pinned: false,
  tags: [],
  systemPrompt: '',
  model: '',
  ...extra,
});

describe('groupSessions', () => {
  const list = [
    session('1', 'Garden plan', { pinned: true, tags: ['home'] }),
    session('2', 'Bread', { tags: ['food', 'home'] }),
    session('3', 'Garden tools'),
    session('4', 'Taxes', { pinned: true }),
  ];
  const ids = (groups: ReturnType<typeof groupSessions>) => [groups.pinned.map((s) => s.id), groups.others.map((s) => s.id)];

  it('puts pinned conversations apart, each group in list order', () => {
    expect(ids(groupSessions(list, '', null))).toEqual([['1', '4'], ['2', '3']]);
  });

  it('orders each group by latest activity, whatever the order it was given in', () => {
    const at = (id: string, updatedAt: string, pinned = false) => session(id, id, { updatedAt, pinned });
    const groups = groupSessions([at('a', '2026-01-01T00:00:01.000Z', true), at('b', '2026-01-01T00:00:03.000Z'), at('c', '2026-01-01T00:00:02.000Z'), at('d', '2026-01-01T00:00:04.000Z')], '', null);
    expect(ids(groups)).toEqual([['a'], ['d', 'b', 'c']]);
  });

  it('filters by title, any case, and by tag', () => {
    expect(ids(groupSessions(list, ' GARDEN ', null))).toEqual([['1'], ['3']]);
    expect(ids(groupSessions(list, '', 'home'))).toEqual([['1'], ['2']]);
    expect(ids(groupSessions(list, 'bread', 'home'))).toEqual([[], ['2']]);
  });

  it('leaves out search results the filtered list already shows', () => {
    const result = (sessionId: string) => ({ sessionId, messageId: null, title: '', snippet: '', highlights: [] });
    expect(extraResults([result('3'), result('2')], groupSessions(list, 'garden', null)).map((r) => r.sessionId)).toEqual(['2']);
  });
});

describe('parseTags', () => {
  it('splits on commas and drops blanks', () => {
    expect(parseTags(' Work, side project ,, ideas ')).toEqual(['Work', 'side project', 'ideas']);
    expect(parseTags('  ')).toEqual([]);
    expect(parseTags('工作，学习、 ideas')).toEqual(['工作', '学习', 'ideas']);
  });
});

describe('snippetParts', () => {
  it('cuts the snippet into plain and marked parts', () => {
    expect(snippetParts('bake the bread now', [[0, 4], [9, 14]])).toEqual([
      { text: 'bake', marked: true },
      { text: ' the ', marked: false },
      { text: 'bread', marked: true },
      { text: ' now', marked: false },
    ]);
  });

  it('keeps markup-like text as text', () => {
    expect(snippetParts('<b>x</b>', [])).toEqual([{ text: '<b>x</b>', marked: false }]);
  });

  it('tolerates ranges out of order, overlapping or out of bounds', () => {
    expect(snippetParts('abcdef', [[4, 99], [1, 3], [2, 5], [7, 9]])).toEqual([
      { text: 'a', marked: false },
      { text: 'bcdef', marked: true },
    ]);
    expect(snippetParts('abc', [[5, 9]])).toEqual([{ text: 'abc', marked: false }]);
  });
});
