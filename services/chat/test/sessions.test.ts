// Sessions over real gRPC and real PostgreSQL: CRUD, keyset pagination, soft delete, validation.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { ChatServiceClient, type GetSessionRequest } from '@freechat/proto/freechat/chat/v1/chat';
import { callerMetadata } from '@freechat/shared';
import * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEAD_ADDRESS,
  chatConfig,
  collect,
  failure,
  startChat,
  startThrowawayPostgres,
  testKeys,
  type ChatApi,
  type RunningChat,
  type RunningPostgres,
} from './support/harness.js';

let postgres: RunningPostgres;
let chat: RunningChat;
let api: ChatApi;
let db: pg.Pool;

beforeAll(async () => {
  postgres = await startThrowawayPostgres();
  // Sessions need no model: nothing listens at the inference address.
  chat = await startChat(chatConfig(postgres.url, DEAD_ADDRESS));
  api = chat.api;
  db = new pg.Pool({ connectionString: postgres.url });
});
afterAll(async () => {
  await db?.end();
  await chat?.close();
  await postgres?.stop();
});

const newUser = (): string => randomUUID();

describe('session CRUD', () => {
  it('creates with a trimmed title, or "New chat" when empty', async () => {
    const user = newUser();
    const named = await api.createSession({ userId: user, title: '  Trip to Lisbon \n' });
    expect(named.title).toBe('Trip to Lisbon');
    expect(named.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(named.createdAt?.seconds).toBeGreaterThan(0);
    const unnamed = await api.createSession({ userId: user, title: '   ' });
    expect(unnamed.title).toBe('New chat');
    expect(await api.getSession({ userId: user, sessionId: named.id })).toEqual(named);
  });

  it('renames, and the renamed session moves to the top', async () => {
    const user = newUser();
    const first = await api.createSession({ userId: user, title: 'first' });
    await api.createSession({ userId: user, title: 'second' });
    const renamed = await api.updateSession({ userId: user, sessionId: first.id, title: '  better name ' });
    expect(renamed.title).toBe('better name');
    expect(await api.getSession({ userId: user, sessionId: first.id })).toEqual(renamed);
    const { sessions } = await api.listSessions({ userId: user, pageSize: 0, pageToken: '' });
    expect(sessions.map((s) => s.title)).toEqual(['better name', 'second']);
  });

  it('soft-deletes: gone from every call, still in the table', async () => {
    const user = newUser();
    const session = await api.createSession({ userId: user, title: 'to delete' });
    await api.deleteSession({ userId: user, sessionId: session.id });
    const ref = { userId: user, sessionId: session.id };
    expect((await failure(api.getSession(ref))).code).toBe(Status.NOT_FOUND);
    expect((await failure(api.updateSession({ ...ref, title: 'x' }))).code).toBe(Status.NOT_FOUND);
    expect((await failure(api.deleteSession(ref))).code).toBe(Status.NOT_FOUND);
    expect((await failure(api.listMessages(ref))).code).toBe(Status.NOT_FOUND);
    const send = await collect(chat.client.sendMessage({ ...ref, content: 'hello?', params: undefined }));
    expect(send.error?.code).toBe(Status.NOT_FOUND);
    expect((await api.listSessions({ userId: user, pageSize: 0, pageToken: '' })).sessions).toEqual([]);
    const { rows } = await db.query('SELECT deleted_at FROM chat.sessions WHERE id = $1', [session.id]);
    expect(rows[0].deleted_at).toBeInstanceOf(Date);
    // The failed SendMessage committed nothing.
    const messages = await db.query('SELECT 1 FROM chat.messages WHERE session_id = $1', [session.id]);
    expect(messages.rowCount).toBe(0);
  });

  it('answers NOT_FOUND for another user\'s session, exactly as for a missing one', async () => {
    const owner = newUser();
    const other = newUser();
    const session = await api.createSession({ userId: owner, title: 'mine' });
    const missing = randomUUID();
    for (const sessionId of [session.id, missing]) {
      const ref = { userId: other, sessionId };
      const errors = [
        await failure(api.getSession(ref)),
        await failure(api.updateSession({ ...ref, title: 'stolen' })),
        await failure(api.updateSession({ ...ref, pinned: true, tags: { tags: ['mine'] } })),
        await failure(api.deleteSession(ref)),
        await failure(api.listMessages(ref)),
        (await collect(chat.client.sendMessage({ ...ref, content: 'hi', params: undefined }))).error!,
      ];
      expect(errors.map((e) => [e.code, e.details])).toEqual(Array(6).fill([Status.NOT_FOUND, 'session not found']));
    }
    expect((await api.listSessions({ userId: other, pageSize: 0, pageToken: '' })).sessions).toEqual([]);
    expect(await api.getSession({ userId: owner, sessionId: session.id })).toMatchObject({ title: 'mine', pinned: false, tags: [] });
  });
});

describe('UpdateSession', () => {
  it('changes only the given fields and returns the session', async () => {
    const user = newUser();
    const session = await api.createSession({ userId: user, title: 'plans' });
    expect(session).toMatchObject({ pinned: false, tags: [], systemPrompt: '', model: '' });
    const ref = { userId: user, sessionId: session.id };
    const pinned = await api.updateSession({ ...ref, pinned: true });
    expect(pinned).toMatchObject({ title: 'plans', pinned: true, tags: [] });
    const tagged = await api.updateSession({ ...ref, tags: { tags: [' Travel', 'WORK ', 'travel'] } });
    expect(tagged).toMatchObject({ title: 'plans', pinned: true, tags: ['travel', 'work'] });
    const prompted = await api.updateSession({ ...ref, systemPrompt: 'Answer in French.\n', model: ' tiny ' });
    expect(prompted).toMatchObject({ pinned: true, tags: ['travel', 'work'], systemPrompt: 'Answer in French.\n', model: 'tiny' });
    // Pins, tags and the rest are no activity: the list order (and updated_at) stays.
    expect(prompted.updatedAt).toEqual(session.updatedAt);
    const renamed = await api.updateSession({ ...ref, title: ' Trip ' });
    expect(renamed).toMatchObject({ title: 'Trip', pinned: true, tags: ['travel', 'work'], systemPrompt: 'Answer in French.\n', model: 'tiny' });
    expect(await api.getSession(ref)).toEqual(renamed);
    // An empty list clears the tags (a TagList given, not absent); an empty model means the default.
    expect(await api.updateSession({ ...ref, tags: { tags: [] }, model: '', pinned: false })).toMatchObject({ tags: [], model: '', pinned: false });
    // Nothing given: nothing changes.
    expect((await api.updateSession(ref)).title).toBe('Trip');
  });

  it('names the field it refuses and changes nothing', async () => {
    const user = newUser();
    const session = await api.createSession({ userId: user, title: 'keep' });
    const ref = { userId: user, sessionId: session.id };
    const cases: [Parameters<typeof api.updateSession>[0], string][] = [
      [{ ...ref, tags: { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) } }, 'tags'],
      [{ ...ref, tags: { tags: ['x'.repeat(41)] } }, 'tags'],
      [{ ...ref, tags: { tags: [' '] } }, 'tags'],
      [{ ...ref, systemPrompt: 'x'.repeat(8001), pinned: true }, 'system_prompt'],
      [{ ...ref, model: 'm'.repeat(201) }, 'model'],
      [{ ...ref, title: ' ', pinned: true }, 'title'],
    ];
    for (const [request, field] of cases) {
      const error = await failure(api.updateSession(request));
      expect([error.code, error.details.split(':')[0]]).toEqual([Status.INVALID_ARGUMENT, field]);
    }
    expect(await api.getSession(ref)).toEqual(session);
  });

  it('lists pinned sessions first and filters by tag', async () => {
    const user = newUser();
    const [a, b, c] = [await api.createSession({ userId: user, title: 'a' }), await api.createSession({ userId: user, title: 'b' }), await api.createSession({ userId: user, title: 'c' })];
    await api.updateSession({ userId: user, sessionId: a.id, pinned: true, tags: { tags: ['Work'] } });
    await api.updateSession({ userId: user, sessionId: c.id, tags: { tags: ['work', 'home'] } });
    const titles = async (tag?: string) =>
      (await api.listSessions({ userId: user, pageSize: 0, pageToken: '', ...(tag !== undefined && { tag }) })).sessions.map((s) => s.title);
    expect(await titles()).toEqual(['a', 'c', 'b']);
    expect(await titles(' WORK ')).toEqual(['a', 'c']);
    expect(await titles('home')).toEqual(['c']);
    expect(await titles('none')).toEqual([]);
    expect(b.pinned).toBe(false);
    const error = await failure(api.listSessions({ userId: user, pageSize: 0, pageToken: '', tag: ' ' }));
    expect([error.code, error.details.split(':')[0]]).toEqual([Status.INVALID_ARGUMENT, 'tag']);
  });

  it('pages across the pinned/unpinned boundary without losing or repeating a session', async () => {
    const user = newUser();
    const created = [];
    for (let i = 0; i < 7; i++) created.push(await api.createSession({ userId: user, title: `s${i}` }));
    // The oldest two pinned: they come first although their activity is oldest.
    for (const s of created.slice(0, 2)) await api.updateSession({ userId: user, sessionId: s.id, pinned: true });
    for (const pageSize of [1, 2, 3]) {
      const seen: string[] = [];
      let pageToken = '';
      do {
        const page = await api.listSessions({ userId: user, pageSize, pageToken });
        seen.push(...page.sessions.map((s) => s.title));
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(seen).toEqual(['s1', 's0', 's6', 's5', 's4', 's3', 's2']);
    }
  });
});

describe('ListSessions pagination', () => {
  it('pages newest first with opaque tokens, no duplicates, no gaps', async () => {
    const user = newUser();
    const created = [];
    for (let i = 0; i < 7; i++) created.push(await api.createSession({ userId: user, title: `s${i}` }));
    const seen: string[] = [];
    let pageToken = '';
    const sizes: number[] = [];
    do {
      const page = await api.listSessions({ userId: user, pageSize: 3, pageToken });
      sizes.push(page.sessions.length);
      seen.push(...page.sessions.map((s) => s.title));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(['s6', 's5', 's4', 's3', 's2', 's1', 's0']);
  });

  it('orders sessions with the same updated_at by id, without losing any across pages', async () => {
    const user = newUser();
    const ids = Array.from({ length: 5 }, () => randomUUID());
    for (const id of ids) {
      await db.query(`INSERT INTO chat.sessions (id, owner_id, title, updated_at) VALUES ($1, $2, 'same', '2025-01-01T00:00:00.123456Z')`, [id, user]);
    }
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await api.listSessions({ userId: user, pageSize: 2, pageToken });
      seen.push(...page.sessions.map((s) => s.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual([...ids].sort().reverse());
  });

  it('defaults to 50 per page and caps at 200', async () => {
    const user = newUser();
    await db.query(
      `INSERT INTO chat.sessions (id, owner_id, title, updated_at)
       SELECT gen_random_uuid(), $1, 'bulk', now() - g * interval '1 second' FROM generate_series(1, 205) g`,
      [user],
    );
    const byDefault = await api.listSessions({ userId: user, pageSize: 0, pageToken: '' });
    expect(byDefault.sessions).toHaveLength(50);
    expect(byDefault.nextPageToken).not.toBe('');
    const capped = await api.listSessions({ userId: user, pageSize: 1000, pageToken: '' });
    expect(capped.sessions).toHaveLength(200);
    const rest = await api.listSessions({ userId: user, pageSize: 1000, pageToken: capped.nextPageToken });
    expect(rest.sessions).toHaveLength(5);
    expect(rest.nextPageToken).toBe('');
  });

  it('rejects a token it did not issue', async () => {
    const error = await failure(api.listSessions({ userId: newUser(), pageSize: 0, pageToken: 'not-a-token' }));
    expect(error.code).toBe(Status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/^page_token:/);
  });
});

describe('validation names the field', () => {
  const user = randomUUID();
  const cases: [string, () => Promise<unknown>, string][] = [
    ['a title over 200 characters', () => api.createSession({ userId: user, title: 'x'.repeat(201) }), 'title'],
    ['an empty title on rename', () => api.updateSession({ userId: user, sessionId: randomUUID(), title: '  ' }), 'title'],
    // PostgreSQL's text cannot hold NUL: refused by name, never an internal error.
    ['a NUL in a new title', () => api.createSession({ userId: user, title: 'a\u0000b' }), 'title'],
    ['a NUL in a rename', () => api.updateSession({ userId: user, sessionId: randomUUID(), title: 'a\u0000b' }), 'title'],
    ['a session_id that is not a UUID', () => api.getSession({ userId: user, sessionId: '42' }), 'session_id'],
    ['a run_id that is not a UUID', () => api.stopRun({ userId: user, runId: 'run-1' }), 'run_id'],
  ];
  it.each(cases)('rejects %s', async (_name, call, field) => {
    const error = await failure(call());
    expect(error.code).toBe(Status.INVALID_ARGUMENT);
    expect(error.details.startsWith(`${field}:`), error.details).toBe(true);
  });

  it('accepts a 200-character title (counted in characters, not UTF-16 units)', async () => {
    const title = '😀'.repeat(200);
    expect((await api.createSession({ userId: user, title })).title).toBe(title);
  });

  const streamCases: [string, Record<string, unknown>, string][] = [
    ['empty content', { content: '  \n ' }, 'content'],
    ['content over 32000 characters', { content: 'x'.repeat(32_001) }, 'content'],
    ['a NUL in content', { content: 'hi \u0000 there' }, 'content'],
    ['a negative temperature', { params: { temperature: -1 } }, 'params.temperature'],
    ['top_p above 1', { params: { topP: 1.5 } }, 'params.top_p'],
    ['max_new_tokens 0', { params: { maxNewTokens: 0 } }, 'params.max_new_tokens'],
  ];
  it.each(streamCases)('SendMessage rejects %s and commits nothing', async (_name, overrides, field) => {
    const session = await api.createSession({ userId: user, title: '' });
    const { events, error } = await collect(
      chat.client.sendMessage({ userId: user, sessionId: session.id, content: 'hi', params: undefined, ...overrides }),
    );
    expect(events).toEqual([]);
    expect(error?.code).toBe(Status.INVALID_ARGUMENT);
    expect(error?.details.startsWith(`${field}:`), error?.details).toBe(true);
    expect((await api.listMessages({ userId: user, sessionId: session.id })).messages).toEqual([]);
  });

  it('AttachRun rejects a bad run_id, and a token whose subject is no user id', async () => {
    const badRun = await collect(chat.client.attachRun({ userId: user, runId: 'x', afterSeq: 0 }));
    expect([badRun.error?.code, badRun.error?.details.split(':')[0]]).toEqual([Status.INVALID_ARGUMENT, 'run_id']);
    const badUser = await collect(chat.client.attachRun({ userId: 'x', runId: randomUUID(), afterSeq: 0 }));
    expect(badUser.error?.code).toBe(Status.UNAUTHENTICATED);
  });
});

describe('schema', () => {
  it('has an index for every query, each name used once', async () => {
    const { rows } = await db.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'chat' ORDER BY indexname`,
    );
    const names = rows.map((r) => r.indexname);
    expect(names).toEqual(expect.arrayContaining(['sessions_owner_pinned_activity_idx', 'sessions_title_search_idx', 'messages_content_search_idx', 'messages_session_order_idx', 'messages_run_id_key', 'messages_streaming_idx', 'messages_children_idx', 'messages_roots_idx']));
    expect(new Set(names).size).toBe(names.length);
    // The planner picks the index whenever a scan is not forced on it (tiny tables favour scans).
    const client = await db.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const explain = async (sql: string) => JSON.stringify((await client.query(`EXPLAIN ${sql}`)).rows);
      expect(
        await explain(`SELECT id FROM chat.sessions WHERE owner_id = gen_random_uuid() AND deleted_at IS NULL
                        ORDER BY pinned DESC, updated_at DESC, id DESC LIMIT 51`),
      ).toMatch(/sessions_owner_pinned_activity_idx/);
      // Search: the same expressions as the indexes (search-repository.ts).
      expect(
        await explain(`SELECT id FROM chat.sessions WHERE to_tsvector('simple', title) @@ to_tsquery('simple', 'x')`),
      ).toMatch(/sessions_title_search_idx/);
      expect(await explain(`SELECT id FROM chat.messages WHERE to_tsvector('simple', content) @@ to_tsquery('simple', 'x')`)).toMatch(
        /messages_content_search_idx/,
      );
      expect(await explain(`SELECT id FROM chat.messages WHERE session_id = gen_random_uuid() ORDER BY created_at, id`)).toMatch(
        /messages_session_order_idx/,
      );
      expect(await explain(`SELECT id FROM chat.messages WHERE run_id = gen_random_uuid()`)).toMatch(/messages_run_id_key/);
      // A message's siblings and a session's first messages, for `‹ 2/3 ›` on every message of a page.
      expect(await explain(`SELECT id FROM chat.messages WHERE parent_id = gen_random_uuid() ORDER BY created_at, id`)).toMatch(/messages_children_idx/);
      expect(await explain(`SELECT id FROM chat.messages WHERE session_id = gen_random_uuid() AND parent_id IS NULL ORDER BY created_at, id`)).toMatch(
        /messages_roots_idx/,
      );
    } finally {
      client.release();
    }
  });
});

describe('who is calling', () => {
  // What a caller that reaches chat past the gateway can try: no token, someone's id in a field,
  // a token it signed itself, an expired one.
  it('acts only for a verified access token in the call metadata', async () => {
    const owner = newUser();
    const session = await api.createSession({ userId: owner, title: 'mine' });
    const raw = new ChatServiceClient(chat.server.address, grpc.credentials.createInsecure());
    const get = (metadata: grpc.Metadata, request: object = { sessionId: session.id }) =>
      new Promise<grpc.ServiceError | null>((resolve) => raw.getSession(request as GetSessionRequest, metadata, (error) => resolve(error)));
    try {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const selfSigned = jwt.sign({ sub: owner, username: 'x', typ: 'access', iss: 'freechat-auth', aud: 'freechat', jti: 'j' }, privateKey, {
        algorithm: 'ES256',
        keyid: 'chat-test-key',
        expiresIn: 900,
      });
      const expired = testKeys.tokenFor(owner, { exp: Math.floor(Date.now() / 1000) - 3600 });
      // A request field naming the owner (the old contract) carries no weight: the field is gone.
      for (const metadata of [new grpc.Metadata(), callerMetadata(selfSigned), callerMetadata(expired), callerMetadata('not.a.token')]) {
        const error = await get(metadata, { userId: owner, sessionId: session.id });
        expect([error?.code, error?.details]).toEqual([Status.UNAUTHENTICATED, 'a valid access token is required in the call metadata']);
      }
      expect(await get(callerMetadata(testKeys.tokenFor(owner)))).toBeNull();
      // Another user's valid token: the session does not exist for them.
      expect((await get(callerMetadata(testKeys.tokenFor(newUser()))))?.code).toBe(Status.NOT_FOUND);
    } finally {
      raw.close();
    }
  });
});
