// The model names a new conversation after its first answer, and the sidebar shows the new name
// without a reload; a conversation the person renamed keeps their name. The model's output is
// scripted here (the built-in model writes gibberish), through the same Generate path.
import pg from 'pg';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { answerFinished, conversations, newPage, questions, send, signUp, until } from './support/app.js';
import { createEngineControl } from './support/engine-control.js';
import { useAppSuite } from './support/suite.js';

const engine = createEngineControl();
// Warnings and errors only: a title writer that fails (and retries) says so in the test's output.
const app = useAppSuite({ engineFactory: engine.engineFactory, generatedTitles: true, logLevel: 'warn' });
let page: Page;

describe('generated titles', { timeout: 160_000 }, () => {
  it('replace the first-message title in the sidebar, live, unless the person renamed the conversation', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    engine.set({ contentScript: 'Spring Garden Planning' });

    await send(page, 'what should I plant in my garden this spring');
    await questions(page).first().waitFor();
    await answerFinished(page);
    // The sidebar looks again 2.5, 8, 20, 45 and 90 s after the answer (a loaded machine titles slowly).
    await conversations(page)
      .getByRole('link', { name: 'Spring Garden Planning', exact: true })
      .waitFor({ timeout: 100_000 })
      .catch(async (error: unknown) => {
        throw new Error(`${String(error)}\nwhat the events pipeline holds: ${await eventsState(app.stack.databaseUrl)}`);
      });

    // A second conversation, renamed by hand before its first answer ends: the model's title never lands.
    engine.set({ contentScript: 'Model Chosen Name', delayMs: 150 });
    await page.getByRole('button', { name: 'New chat', exact: true }).click();
    await until('the new conversation', async () => (await questions(page).count()) === 0);
    await send(page, 'tell me about bread');
    await conversations(page).getByRole('link', { name: 'tell me about bread', exact: true }).waitFor();
    await conversations(page).getByRole('button', { name: 'Rename tell me about bread', exact: true }).click();
    const title = page.getByRole('textbox', { name: 'Conversation title', exact: true });
    await title.fill('My bread notes');
    await title.press('Enter');
    await answerFinished(page);
    // Past the sidebar's second look after the answer (8 s), the title writer long done: still the person's name.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    await page.reload();
    await conversations(page).getByRole('link', { name: 'My bread notes', exact: true }).waitFor();
    expect(await conversations(page).getByRole('link', { name: 'Model Chosen Name', exact: true }).count()).toBe(0);
  });
});

/** The sessions, outbox, processed events and dead letters, to tell a slow title from a lost one. */
async function eventsState(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const query = async (sql: string) => (await client.query(sql)).rows;
    return JSON.stringify({
      sessions: await query(`SELECT id, title, title_source, created_at FROM chat.sessions`),
      messages: await query(`SELECT session_id, role, status, finish_reason, left(content, 40) AS content FROM chat.messages ORDER BY created_at`),
      outbox: await query(`SELECT type, session_id, payload->>'status' AS status, occurred_at, published_at FROM chat.outbox ORDER BY seq`),
      processed: await query(`SELECT consumer, event_id, processed_at FROM chat.processed_events`),
      deadLetters: await query(`SELECT consumer, type, attempts, reason FROM chat.dead_letters`),
      now: (await query(`SELECT clock_timestamp() AS now`))[0],
    }, null, 1);
  } finally {
    await client.end();
  }
}
