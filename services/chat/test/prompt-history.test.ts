// What a run reads of its conversation for the prompt, on real PostgreSQL: only as much as the budget
// can reach (bounded rows and bytes however long the conversation), and the same prompt as planning
// over the whole conversation. Queries are counted by wrapping the real pool's `query`.
import { randomUUID } from 'node:crypto';
import { runMigrations } from '@freechat/shared/postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessagesRepository } from '../src/messages-repository.js';
import { historyIsEnough, maxUsefulContentBytes, planPrompt, type HistoryMessage, type PromptBudget, type PromptPlan } from '../src/prompt-plan.js';
import { MIGRATIONS_DIR } from '../src/server.js';
import { startThrowawayPostgres, type RunningPostgres } from './support/harness.js';
import { linkAsOneBranch } from '../../../test/support/conversation-seed.js';

let postgres: RunningPostgres;
let db: pg.Pool;
const read = { queries: 0, rows: 0, bytes: 0 };

beforeAll(async () => {
  postgres = await startThrowawayPostgres();
  db = new pg.Pool({ connectionString: postgres.url, max: 2 });
  await runMigrations(db, { schema: 'chat', directory: MIGRATIONS_DIR });
  // Every result the repository gets, counted: rows and the bytes of their values.
  const query = db.query.bind(db) as (...args: unknown[]) => Promise<pg.QueryResult>;
  (db as unknown as { query: unknown }).query = async (...args: unknown[]) => {
    const result = await query(...args);
    read.queries++;
    read.rows += result.rows.length;
    read.bytes += result.rows.reduce((sum, row) => sum + Buffer.byteLength(JSON.stringify(row)), 0);
    return result;
  };
});
afterAll(async () => {
  await db?.end();
  await postgres?.stop();
});

type Seed = { role: 'user' | 'assistant'; content: string; status?: HistoryMessage['status'] };

/** A session with these messages, 1 ms apart, oldest first; returns their ids in order. */
async function seed(messages: readonly Seed[]): Promise<{ sessionId: string; ids: string[] }> {
  const sessionId = randomUUID();
  await db.query(`INSERT INTO chat.sessions (id, owner_id, title) VALUES ($1, $2, 'seeded')`, [sessionId, randomUUID()]);
  const ids = messages.map(() => randomUUID());
  await db.query(
    `INSERT INTO chat.messages (id, session_id, role, content, status, created_at)
     SELECT id, $1, role, content, status, clock_timestamp() - interval '1 hour' + n * interval '1 millisecond'
       FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS m(id, role, content, status, n)`,
    [sessionId, ids, messages.map((m) => m.role), messages.map((m) => m.content), messages.map((m) => m.status ?? 'complete')],
  );
  await linkAsOneBranch(db, sessionId);
  return { sessionId, ids };
}

async function promptHistory(sessionId: string, userMessageId: string, budget: PromptBudget) {
  const repository = new MessagesRepository(db);
  Object.assign(read, { queries: 0, rows: 0, bytes: 0 });
  const history = await repository.readPromptHistory(
    { sessionId, userMessageId, maxContentBytes: maxUsefulContentBytes(budget.maxPromptTokens) },
    (newestFirst) => historyIsEnough(newestFirst, budget),
  );
  return { history, read: { ...read } };
}

/** The plan as it was made before: over every message of the session. */
async function planOverEverything(sessionId: string, userMessageId: string, budget: PromptBudget, maxEarlierTurns?: number) {
  const all = await new MessagesRepository(db).listBySession(sessionId);
  return planPrompt({ ...budget, history: all, userMessageId, ...(maxEarlierTurns !== undefined && { maxEarlierTurns }) });
}

/** Same prompt and estimate; `droppedTurns` only counts the turns that were read. */
const prompt = (plan: PromptPlan) => ({ messages: plan.messages, estimatedTokens: plan.estimatedTokens, earlierTurns: plan.earlierTurns });

const budget: PromptBudget = { systemPrompt: 'Be brief.', maxPromptTokens: 3072 };

describe('the history read for a prompt', () => {
  it('is bounded in rows and bytes in a long conversation of long messages, and plans the same prompt', async () => {
    // 400 messages of 6,000 characters: 2.4 MB; the budget holds about one of them.
    const messages: Seed[] = Array.from({ length: 400 }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `${i} ${'x'.repeat(6000)}` }));
    messages.push({ role: 'user', content: 'and now?' });
    const { sessionId, ids } = await seed(messages);

    const { history, read } = await promptHistory(sessionId, ids.at(-1)!, budget);
    expect(read.rows).toBeLessThanOrEqual(8);
    expect(read.bytes).toBeLessThan(60_000);
    expect(read.queries).toBe(1);
    const plan = planPrompt({ ...budget, history, userMessageId: ids.at(-1)! });
    expect(prompt(plan)).toEqual(prompt(await planOverEverything(sessionId, ids.at(-1)!, budget)));
    expect(plan.messages.at(-1)).toEqual({ role: 'user', content: 'and now?' });
    expect(plan.earlierTurns).toBe(0);
  });

  it('does not read a message too long to ever fit, yet ends the plan at it as before', async () => {
    const messages: Seed[] = [
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'y'.repeat(200_000) },
      { role: 'user', content: 'second question' },
      { role: 'assistant', content: 'short answer' },
      { role: 'user', content: 'third question' },
    ];
    const { sessionId, ids } = await seed(messages);
    const { history, read } = await promptHistory(sessionId, ids.at(-1)!, budget);
    expect(read.bytes).toBeLessThan(2_000);
    expect(history.find((m) => m.id === ids[1])).toMatchObject({ oversized: true, content: '' });
    const plan = planPrompt({ ...budget, history, userMessageId: ids.at(-1)! });
    expect(plan.messages.map((m) => m.content)).toEqual(['Be brief.', 'second question', 'short answer', 'third question']);
    expect(prompt(plan)).toEqual(prompt(await planOverEverything(sessionId, ids.at(-1)!, budget)));
  });

  it('reads across batches when many short turns fit, skips later messages, and the retry plan matches too', async () => {
    const messages: Seed[] = [];
    for (let i = 0; i < 150; i++) {
      messages.push({ role: 'user', content: `question ${i} ${'q'.repeat(i % 17)}` });
      // Some answers still streaming or failed empty: the plan skips them either way.
      messages.push(
        i % 11 === 0 ? { role: 'assistant', content: '', status: 'error' } : { role: 'assistant', content: `answer ${i} ${'a'.repeat(i % 23)}` },
      );
    }
    const answered = messages.length;
    messages.push({ role: 'user', content: 'the question answered' }, { role: 'assistant', content: '', status: 'streaming' });
    // Sent after the answered one (another run's): never read.
    messages.push({ role: 'user', content: 'a later question' });
    const { sessionId, ids } = await seed(messages);
    const small: PromptBudget = { systemPrompt: '', maxPromptTokens: 600 };

    const { history, read } = await promptHistory(sessionId, ids[answered]!, small);
    expect(history.at(-1)!.id).toBe(ids[answered]);
    expect(read.queries).toBeGreaterThan(1);
    expect(read.rows).toBeLessThan(messages.length / 2);
    const plan = planPrompt({ ...small, history, userMessageId: ids[answered]! });
    expect(plan.earlierTurns).toBeGreaterThan(10);
    expect(plan.droppedTurns).toBeGreaterThan(0);
    expect(plan.messages.map((m) => m.content)).not.toContain('a later question');
    expect(prompt(plan)).toEqual(prompt(await planOverEverything(sessionId, ids[answered]!, small)));
    const half = Math.floor(plan.earlierTurns / 2);
    expect(planPrompt({ ...small, history, userMessageId: ids[answered]!, maxEarlierTurns: half }).messages).toEqual(
      (await planOverEverything(sessionId, ids[answered]!, small, half)).messages,
    );
  });

  it('reads the whole of a short conversation in one query', async () => {
    const { sessionId, ids } = await seed([
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'hi' },
      { role: 'user', content: 'how are you?' },
    ]);
    const { history, read } = await promptHistory(sessionId, ids[2]!, budget);
    expect(history.map((m) => m.content)).toEqual(['hello', 'hi', 'how are you?']);
    expect(read.queries).toBe(1);
  });
});
