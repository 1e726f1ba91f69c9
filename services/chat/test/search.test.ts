// SearchSessions over real gRPC and real PostgreSQL: titles and message text of any branch, ranked,
// one hit per session, highlights that cannot be forged, and only the caller's live sessions.
import { randomUUID } from 'node:crypto';
import { status as Status } from '@grpc/grpc-js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_ADDRESS, chatConfig, failure, startChat, startThrowawayPostgres, type ChatApi, type RunningChat, type RunningPostgres } from './support/harness.js';

let postgres: RunningPostgres;
let chat: RunningChat;
let api: ChatApi;
let db: pg.Pool;

beforeAll(async () => {
  postgres = await startThrowawayPostgres();
  chat = await startChat(chatConfig(postgres.url, DEAD_ADDRESS));
  api = chat.api;
  db = new pg.Pool({ connectionString: postgres.url });
});
afterAll(async () => {
  await db?.end();
  await chat?.close();
  await postgres?.stop();
});

/** A conversation whose messages follow one another (or `parent` for a branch); returns the ids. */
async function conversation(userId: string, title: string, contents: string[]): Promise<{ sessionId: string; messageIds: string[] }> {
  const session = await api.createSession({ userId, title });
  const messageIds: string[] = [];
  for (const [i, content] of contents.entries()) {
    const id = randomUUID();
    await db.query(
      `INSERT INTO chat.messages (id, session_id, role, content, status, parent_id) VALUES ($1, $2, $3, $4, 'complete', $5)`,
      [id, session.id, i % 2 === 0 ? 'user' : 'assistant', content, messageIds.at(-1) ?? null],
    );
    messageIds.push(id);
  }
  return { sessionId: session.id, messageIds };
}

const search = (userId: string, query: string, limit = 0) => api.searchSessions({ userId, query, limit }).then((r) => r.results);
const marked = (hit: { snippet: string; highlights: { start: number; end: number }[] }) => hit.highlights.map((h) => hit.snippet.slice(h.start, h.end));

describe('SearchSessions', () => {
  it('finds a word in a message, with the message id and a highlighted plain-text snippet', async () => {
    const user = randomUUID();
    const { sessionId, messageIds } = await conversation(user, 'Kitchen', ['How long should dough rest?', 'Let the sourdough rest overnight in the fridge.']);
    const [hit, ...rest] = await search(user, 'sourdough');
    expect(rest).toEqual([]);
    expect(hit).toMatchObject({ sessionId, messageId: messageIds[1], title: 'Kitchen' });
    expect(hit!.snippet).toBe('Let the sourdough rest overnight in the fridge');
    expect(marked(hit!)).toEqual(['sourdough']);
  });

  it('finds titles (no message id) and prefixes of the last word while typing', async () => {
    const user = randomUUID();
    const { sessionId } = await conversation(user, 'Lisbon itinerary', ['Where to eat?']);
    const hits = await search(user, 'lisb');
    expect(hits).toEqual([{ sessionId, messageId: '', title: 'Lisbon itinerary', snippet: 'Lisbon itinerary', highlights: [{ start: 0, end: 6 }] }]);
    // Finished words (a trailing space) match whole words only.
    expect(await search(user, 'lisb ')).toEqual([]);
    expect(await search(user, 'itinerary where')).toEqual([]);
  });

  it('searches every branch, ranks the better match first and gives one result per conversation', async () => {
    const user = randomUUID();
    const once = await conversation(user, 'Garden', ['tomatoes need sun', 'and water']);
    const often = await conversation(user, 'Tomato plans', ['tomatoes tomatoes tomatoes', 'tomatoes, again']);
    // A branch the session does not show: an edited question beside the first one.
    const branch = await conversation(user, 'Edited', ['first try']);
    const sibling = randomUUID();
    await db.query(`INSERT INTO chat.messages (id, session_id, role, content, status) VALUES ($1, $2, 'user', 'pickled cucumbers', 'complete')`, [
      sibling,
      branch.sessionId,
    ]);
    const hits = await search(user, 'tomatoes ');
    expect(hits.map((h) => h.sessionId)).toEqual([often.sessionId, once.sessionId]);
    expect(hits[0]!.messageId).toBe(often.messageIds[0]);
    expect((await search(user, 'cucumbers'))[0]).toMatchObject({ sessionId: branch.sessionId, messageId: sibling });
  });

  it('matches words of any language token by token', async () => {
    const user = randomUUID();
    const { sessionId } = await conversation(user, '旅行', ['我们 明天 去 上海', 'Très bien, à demain']);
    expect((await search(user, '上海'))[0]).toMatchObject({ sessionId });
    expect(marked((await search(user, 'tres'))[0] ?? { snippet: '', highlights: [] })).toEqual([]);
    expect(marked((await search(user, 'très bien'))[0]!)).toEqual(['Très', 'bien']);
  });

  it('treats operators and quotes as text, and a markerless query as no query', async () => {
    const user = randomUUID();
    await conversation(user, 'Ops', ['a | b & !c']);
    for (const query of ["'", '!(', '& | <->', ':*']) expect(await search(user, query)).toEqual([]);
    // Letters the parser may split or drop (a lone combining mark, superscripts, a ligature): no error, no match.
    for (const query of ['\u0301', '²³', '\ufdfa', 'ǅx']) expect(await search(user, query)).toEqual([]);
    expect(await search(user, "b & !c'")).toHaveLength(1);
  });

  it('cannot be given a forged highlight by the text itself', async () => {
    const user = randomUUID();
    await conversation(user, 'Markers', ['plain \uE000fake\uE001 words about llamas']);
    const [hit] = await search(user, 'llamas');
    expect(hit!.snippet).not.toMatch(/[\uE000\uE001]/);
    expect(marked(hit!)).toEqual(['llamas']);
  });

  it('answers only the caller\'s own live sessions', async () => {
    const owner = randomUUID();
    const other = randomUUID();
    const kept = await conversation(owner, 'Secret', ['the password is zebra']);
    const deleted = await conversation(owner, 'Zebra notes', ['zebra again']);
    await api.deleteSession({ userId: owner, sessionId: deleted.sessionId });
    expect((await search(owner, 'zebra')).map((h) => h.sessionId)).toEqual([kept.sessionId]);
    expect(await search(other, 'zebra')).toEqual([]);
    expect(await search(other, 'secret')).toEqual([]);
  });

  it('returns at most the limit (20 by default)', async () => {
    const user = randomUUID();
    for (let i = 0; i < 22; i++) await conversation(user, `Note ${i}`, ['walrus']);
    expect(await search(user, 'walrus')).toHaveLength(20);
    expect(await search(user, 'walrus', 3)).toHaveLength(3);
  });

  it('refuses a blank, overlong or unstorable query and a limit above 50', async () => {
    const user = randomUUID();
    for (const [query, limit, field] of [['  ', 0, 'query'], ['x'.repeat(201), 0, 'query'], ['a\u0000', 0, 'query'], ['ok', 51, 'limit']] as const) {
      const error = await failure(search(user, query, limit));
      expect([error.code, error.details.split(':')[0]]).toEqual([Status.INVALID_ARGUMENT, field]);
    }
  });
});
