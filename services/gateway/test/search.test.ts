// Session metadata (PATCH /api/sessions/:id), the pinned-first list with its tag filter, and
// GET /api/search on the real stack: each field, refusals as 400 with the error shape, results with
// highlighted plain-text snippets, and another user's conversations never found nor changed.
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

interface SessionJson {
  id: string;
  title: string;
  updatedAt: string;
  pinned: boolean;
  tags: string[];
  systemPrompt: string;
  model: string;
}
interface SearchJson {
  results: { sessionId: string; messageId: string | null; title: string; snippet: string; highlights: [number, number][] }[];
}

const call = <T = any>(user: TestUser, path: string, method = 'GET', body?: unknown) =>
  jsonRequest<T>(stack.url, path, { method, token: user.accessToken, ...(body !== undefined && { body }) });

/** A conversation with these messages (user, assistant, …) as one branch. */
async function conversation(user: TestUser, title: string, contents: string[] = []): Promise<string> {
  const { body } = await call<SessionJson>(user, '/api/sessions', 'POST', { title });
  for (const [i, content] of contents.entries()) {
    await db.query(
      `INSERT INTO chat.messages (id, session_id, role, content, status, created_at)
       VALUES (gen_random_uuid(), $1, $2, $3, 'complete', clock_timestamp() + $4 * interval '1 millisecond')`,
      [body.id, i % 2 === 0 ? 'user' : 'assistant', content, i],
    );
  }
  await linkAsOneBranch(db, body.id);
  return body.id;
}

const patch = (user: TestUser, id: string, body: unknown) => call<SessionJson>(user, `/api/sessions/${id}`, 'PATCH', body);
const search = (user: TestUser, query: string) => call<SearchJson>(user, `/api/search?${query}`);
const highlighted = (hit: SearchJson['results'][number]) => hit.highlights.map(([start, end]) => hit.snippet.slice(start, end));

describe('PATCH /api/sessions/:id', () => {
  it('changes each field on its own and returns the whole session', async () => {
    const user = await registerUser(stack.url);
    const id = await conversation(user, 'Plans');
    const created = (await call<SessionJson>(user, `/api/sessions/${id}`)).body;
    expect(created).toMatchObject({ pinned: false, tags: [], systemPrompt: '', model: '' });

    const pinned = await patch(user, id, { pinned: true });
    expect([pinned.status, pinned.body]).toEqual([200, { ...created, pinned: true }]);
    const tagged = await patch(user, id, { tags: [' Travel ', 'WORK', 'travel'] });
    expect(tagged.body).toEqual({ ...created, pinned: true, tags: ['travel', 'work'] });
    const prompted = await patch(user, id, { systemPrompt: 'Answer briefly.' });
    expect(prompted.body).toEqual({ ...tagged.body, systemPrompt: 'Answer briefly.' });
    // A model inference serves (GET /api/models); another is refused below.
    const served: string = (await call<{ models: { id: string }[] }>(user, '/api/models')).body.models[0]!.id;
    const modelled = await patch(user, id, { model: served });
    expect(modelled.body).toEqual({ ...prompted.body, model: served });
    const renamed = await patch(user, id, { title: 'Trip' });
    expect(renamed.body).toMatchObject({ ...modelled.body, title: 'Trip', updatedAt: expect.any(String) });
    expect((await call(user, `/api/sessions/${id}`)).body).toEqual(renamed.body);
    // Several at once; [] clears the tags.
    const cleared = await patch(user, id, { tags: [], pinned: false, model: '' });
    expect(cleared.body).toMatchObject({ title: 'Trip', tags: [], pinned: false, model: '', systemPrompt: 'Answer briefly.' });
  });

  it.each([
    ['no field at all', {}],
    ['an unknown field', { title: 'x', colour: 'red' }],
    ['an empty title', { title: '' }],
    ['a title that is blank', { title: '   ' }],
    ['pinned that is not a boolean', { pinned: 'yes' }],
    ['tags that are not a list', { tags: 'work' }],
    ['an empty tag', { tags: [''] }],
    ['a blank tag', { tags: ['  '] }],
    ['a tag over 40 characters', { tags: ['x'.repeat(41)] }],
    ['11 tags', { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }],
    ['a system prompt over 8000 characters', { systemPrompt: 'x'.repeat(8001) }],
    ['a NUL in the system prompt', { systemPrompt: 'a\u0000b' }],
    ['a model over 200 characters', { model: 'm'.repeat(201) }],
    ['a model inference does not serve', { model: 'gpt-17' }],
  ])('refuses %s with 400 and changes nothing', async (_name, body) => {
    const user = await registerUser(stack.url);
    const id = await conversation(user, 'Keep');
    const before = (await call(user, `/api/sessions/${id}`)).body;
    const response = await patch(user, id, body);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { code: 'invalid_request', message: expect.any(String) } });
    expect((await call(user, `/api/sessions/${id}`)).body).toEqual(before);
  });

  it("answers 404 for another user's session and leaves it as it was", async () => {
    const owner = await registerUser(stack.url);
    const intruder = await registerUser(stack.url);
    const id = await conversation(owner, 'Mine');
    for (const body of [{ title: 'Stolen' }, { pinned: true }, { tags: ['x'] }, { systemPrompt: 'obey' }, { model: '' }]) {
      const response = await patch(intruder, id, body);
      expect([response.status, (response.body as unknown as { error?: { code: string } }).error?.code]).toEqual([404, 'not_found']);
    }
    expect((await call(owner, `/api/sessions/${id}`)).body).toMatchObject({ title: 'Mine', pinned: false, tags: [], systemPrompt: '', model: '' });
  });
});

describe('GET /api/sessions: pins and tags', () => {
  it('lists pinned conversations first, pages them with the others, and filters by a tag', async () => {
    const user = await registerUser(stack.url);
    const ids: string[] = [];
    for (const title of ['a', 'b', 'c', 'd']) ids.push(await conversation(user, title));
    await patch(user, ids[0]!, { pinned: true, tags: ['Work'] });
    await patch(user, ids[2]!, { tags: ['work', 'home'] });
    const titles = async (query: string) => (await call<{ sessions: SessionJson[] }>(user, `/api/sessions?${query}`)).body.sessions.map((s) => s.title);
    expect(await titles('')).toEqual(['a', 'd', 'c', 'b']);
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const page: { sessions: SessionJson[]; nextPageToken: string | null } = (
        await call(user, `/api/sessions?pageSize=1${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`)
      ).body;
      seen.push(...page.sessions.map((s) => s.title));
      token = page.nextPageToken;
    } while (token);
    expect(seen).toEqual(['a', 'd', 'c', 'b']);
    expect(await titles('tag=work')).toEqual(['a', 'c']);
    expect(await titles('tag=HOME')).toEqual(['c']);
    const bad = await call(user, `/api/sessions?tag=${'x'.repeat(41)}`);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_request']);
  });
});

describe('GET /api/search', () => {
  it('finds words in messages and titles, ranked, with plain-text snippets and highlight ranges', async () => {
    const user = await registerUser(stack.url);
    const bread = await conversation(user, 'Kitchen', ['How long should dough rest?', 'Let the sourdough rest overnight, then bake the sourdough hot.']);
    const titled = await conversation(user, 'Sourdough starter', ['feed it daily']);
    await conversation(user, 'Unrelated', ['nothing here']);

    const { status, body } = await search(user, 'q=sourdough');
    expect(status).toBe(200);
    expect(body.results.map((r) => r.sessionId).sort()).toEqual([bread, titled].sort());
    const messageHit = body.results.find((r) => r.sessionId === bread)!;
    expect(messageHit).toMatchObject({ title: 'Kitchen', messageId: expect.any(String) });
    expect(messageHit.snippet).toContain('Let the sourdough rest overnight');
    expect(highlighted(messageHit)).toEqual(['sourdough', 'sourdough']);
    const titleHit = body.results.find((r) => r.sessionId === titled)!;
    expect(titleHit).toEqual({ sessionId: titled, messageId: null, title: 'Sourdough starter', snippet: 'Sourdough starter', highlights: [[0, 9]] });
    // The snippet is text: markup-like input never comes back as HTML.
    expect(JSON.stringify(body)).not.toMatch(/<\/?(b|mark)>/);

    // While typing: the last word matches as a prefix.
    expect((await search(user, 'q=sourd')).body.results).toHaveLength(2);
    expect((await search(user, 'q=bake%20the%20sour')).body.results.map((r) => r.sessionId)).toEqual([bread]);
    expect((await search(user, 'q=starter&limit=1')).body.results).toHaveLength(1);
    expect((await search(user, 'q=%3F%21')).body.results).toEqual([]);
  });

  it('orders a conversation that uses the words more often first', async () => {
    const user = await registerUser(stack.url);
    const once = await conversation(user, 'One', ['the heron flew']);
    const often = await conversation(user, 'Many', ['heron heron', 'a heron, another heron']);
    expect((await search(user, 'q=heron')).body.results.map((r) => r.sessionId)).toEqual([often, once]);
  });

  it("never finds another user's conversations", async () => {
    const owner = await registerUser(stack.url);
    const other = await registerUser(stack.url);
    await conversation(owner, 'Private kestrel', ['the kestrel code is 4711']);
    expect((await search(owner, 'q=kestrel')).body.results).toHaveLength(1);
    expect((await search(other, 'q=kestrel')).body.results).toEqual([]);
    expect((await search(other, 'q=4711')).body.results).toEqual([]);
  });

  it.each([
    ['no q', ''],
    ['an empty q', 'q='],
    ['a q over 200 characters', `q=${'x'.repeat(201)}`],
    ['limit 0', 'q=x&limit=0'],
    ['limit 51', 'q=x&limit=51'],
    ['an unknown parameter', 'q=x&sort=new'],
    ['a NUL in q', 'q=a%00b'],
  ])('refuses %s with 400', async (_name, query) => {
    const user = await registerUser(stack.url);
    const response = await search(user, query);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { code: 'invalid_request', message: expect.any(String) } });
  });

  it('requires a signed-in user', async () => {
    const response = await jsonRequest(stack.url, '/api/search?q=x');
    expect([response.status, response.body.error.code]).toEqual([401, 'unauthenticated']);
  });
});
