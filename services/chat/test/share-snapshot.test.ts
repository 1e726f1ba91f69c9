// What a share link stores and serves: the branch reduced to what a reader needs, read back
// defensively (jsonb is input too), and tokens that are 128 random bits in URL-safe form.
import { describe, expect, it } from 'vitest';
import { newShareToken, readSnapshot, SHARE_TOKEN_PATTERN, shareSnapshot } from '../src/share-snapshot.js';

describe('share snapshots', () => {
  it('keeps role, content, thinking and time of each message in branch order, nothing else', () => {
    const snapshot = shareSnapshot('Trip', [
      { role: 'user', content: 'Where?', reasoning: '', createdAt: new Date('2026-01-01T10:00:00Z') },
      { role: 'assistant', content: 'Lisbon', reasoning: 'hills', createdAt: new Date('2026-01-01T10:00:05Z') },
    ]);
    expect(snapshot).toEqual({
      title: 'Trip',
      messages: [
        { role: 'user', content: 'Where?', thinking: '', createdAt: '2026-01-01T10:00:00.000Z' },
        { role: 'assistant', content: 'Lisbon', thinking: 'hills', createdAt: '2026-01-01T10:00:05.000Z' },
      ],
    });
    expect(readSnapshot(JSON.parse(JSON.stringify(snapshot)))).toEqual(snapshot);
  });

  it('reads a malformed stored value as what it can, never throwing', () => {
    expect(readSnapshot(null)).toEqual({ title: '', messages: [] });
    expect(readSnapshot({ title: 5, messages: [{ role: 'system', content: 'x' }, { role: 'user', content: 'hi' }, 'junk'] })).toEqual({
      title: '',
      messages: [{ role: 'user', content: 'hi', thinking: '', createdAt: '' }],
    });
  });

  it('tokens: 22 base64url characters, different every time', () => {
    const tokens = new Set(Array.from({ length: 200 }, newShareToken));
    expect(tokens.size).toBe(200);
    for (const token of tokens) expect(token).toMatch(SHARE_TOKEN_PATTERN);
    expect(Buffer.from([...tokens][0]!, 'base64url')).toHaveLength(16);
  });
});
