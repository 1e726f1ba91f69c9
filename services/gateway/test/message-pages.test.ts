// GET /api/sessions/:id/messages is paged back in time on the real stack: the newest page first,
// each page oldest to newest, a cursor that messages added meanwhile never shift, and bad limits or
// cursors refused as 400 with the error shape. Long conversations are seeded straight into PostgreSQL.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonRequest, registerUser, type TestUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';
import { linkAsOneBranch } from '../../../test/support/conversation-seed.js';

let stack: Stack;
let db: pg.Pool;

beforeAll(async () => {
  stack = await startStack();
  db = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
});
afterAll(async () => {
  await db?.end();
  await stack?.close();
});

interface Page {
  messages: { id: string; role: string; content: string }[];
  nextCursor: string | null;
  /** Present instead of the page on a refusal. */
  error?: { code: string; message: string };
}

async function conversation(user: TestUser, count: number): Promise<{ sessionId: string; ids: string[] }> {
  const created = await jsonRequest(stack.url, '/api/sessions', { method: 'POST', token: user.accessToken, body: { title: 'Long' } });
  const sessionId: string = created.body.id;
  // Three messages per millisecond: ties on created_at are ordered by id, and pages must agree.
  await db.query(
    `INSERT INTO chat.messages (id, session_id, role, content, status, created_at)
     SELECT gen_random_uuid(), $1, CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END, 'message ' || i, 'complete',
            clock_timestamp() - interval '1 hour' + (i / 3) * interval '1 millisecond'
       FROM generate_series(0, $2 - 1) AS i`,
    [sessionId, count],
  );
  await linkAsOneBranch(db, sessionId);
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM chat.messages WHERE session_id = $1 ORDER BY created_at, id`, [sessionId]);
  return { sessionId, ids: rows.map((r) => r.id) };
}

const list = (user: TestUser, sessionId: string, query = '') =>
  jsonRequest<Page>(stack.url, `/api/sessions/${sessionId}/messages${query}`, { token: user.accessToken });

describe('message pages', () => {
  it('answers the newest 50 first, oldest to newest, and the cursor walks back to the first message', async () => {
    const user = await registerUser(stack.url);
    const { sessionId, ids } = await conversation(user, 120);

    const first = await list(user, sessionId);
    expect(first.status).toBe(200);
    expect(first.body.messages.map((m) => m.id)).toEqual(ids.slice(-50));
    expect(first.body.messages.at(-1)!.content).toBe('message 119');
    expect(first.body.nextCursor).toEqual(expect.any(String));

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list(user, sessionId, `?limit=50${cursor ? `&before=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      pages.push(page.body.messages.map((m) => m.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([50, 50, 20]);
    expect(pages.reverse().flat()).toEqual(ids);

    // Exactly one page of everything: no cursor to an empty page.
    const whole = await list(user, sessionId, '?limit=200');
    expect(whole.body.messages.map((m) => m.id)).toEqual(ids);
    expect(whole.body.nextCursor).toBeNull();
  });

  it('keeps an older page where it was while new messages arrive', async () => {
    const user = await registerUser(stack.url);
    const { sessionId, ids } = await conversation(user, 30);
    const newest = await list(user, sessionId, '?limit=10');
    expect(newest.body.messages.map((m) => m.id)).toEqual(ids.slice(20));

    await db.query(
      `INSERT INTO chat.messages (id, session_id, role, content, status)
       SELECT gen_random_uuid(), $1, 'user', 'arrived later ' || i, 'complete' FROM generate_series(1, 5) AS i`,
      [sessionId],
    );
    // Appended to the branch: they follow the old leaf.
    await linkAsOneBranch(db, sessionId);
    const older = await list(user, sessionId, `?limit=10&before=${newest.body.nextCursor}`);
    expect(older.body.messages.map((m) => m.id)).toEqual(ids.slice(10, 20));
    const latest = await list(user, sessionId, '?limit=10');
    expect(latest.body.messages.at(-1)!.content).toMatch(/^arrived later/);
  });

  it('refuses bad limits and cursors with 400 invalid_request naming the field, and hides other users\' sessions', async () => {
    const owner = await registerUser(stack.url);
    const { sessionId } = await conversation(owner, 12);
    const { nextCursor } = (await list(owner, sessionId, '?limit=5')).body;

    const forged = Buffer.from(JSON.stringify(['not a time', 'x'])).toString('base64url');
    const cases: [string, string][] = [
      ['?limit=0', 'limit'],
      ['?limit=201', 'limit'],
      ['?limit=-1', 'limit'],
      ['?limit=many', 'limit'],
      ['?before=', 'before'],
      ['?before=%25%25%25', 'before'],
      [`?before=${'a'.repeat(201)}`, 'before'],
      [`?before=${forged}`, 'before'],
      ['?before=bm90LWpzb24', 'before'],
      ['?after=x', 'after'],
    ];
    for (const [query, field] of cases) {
      const response = await list(owner, sessionId, query);
      expect({ query, status: response.status, code: response.body.error?.code }).toEqual({ query, status: 400, code: 'invalid_request' });
      expect(Object.keys(response.body)).toEqual(['error']);
      expect(response.body.error!.message).toContain(field);
    }

    const stranger = await registerUser(stack.url);
    const theirs = await list(stranger, sessionId, `?before=${nextCursor}`);
    expect({ status: theirs.status, code: (theirs.body as any).error?.code }).toEqual({ status: 404, code: 'not_found' });
  });
});
