// A conversation longer than one page of the API (50 messages): opening it shows the newest page,
// and "Show earlier messages" at the top brings the older pages in order, keeping the message the
// user was looking at where it was. The history is seeded straight into PostgreSQL (130 messages).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { jsonRequest } from '../../services/gateway/test/support/http.js';
import { answers, conversations, logIn, newAccount, newPage, questions, until, type Account } from './support/app.js';
import { useAppSuite } from './support/suite.js';
import { linkAsOneBranch } from '../support/conversation-seed.js';

const app = useAppSuite();
const TOTAL = 130;
const label = (i: number): string => `Message ${String(i).padStart(3, '0')}`;

/** A new account with one conversation with TOTAL messages, user and assistant in turn, 1 ms apart. */
async function seedLongConversation(account: Account): Promise<void> {
  const registered = await jsonRequest(app.stack.url, '/api/auth/register', { method: 'POST', body: account });
  if (registered.status !== 201) throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
  const db = new pg.Pool({ connectionString: app.stack.databaseUrl, max: 1 });
  try {
    const sessionId = randomUUID();
    await db.query(`INSERT INTO chat.sessions (id, owner_id, title, title_source) VALUES ($1, $2, 'Long history', 'user')`, [sessionId, registered.body.user.id]);
    await db.query(
      `INSERT INTO chat.messages (id, session_id, role, content, status, created_at)
       SELECT gen_random_uuid(), $1, CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
              'Message ' || lpad(i::text, 3, '0') || ' of the long history.', 'complete',
              clock_timestamp() - interval '1 hour' + i * interval '1 millisecond'
         FROM generate_series(0, $2 - 1) AS i`,
      [sessionId, TOTAL],
    );
    await linkAsOneBranch(db, sessionId);
  } finally {
    await db.end();
  }
}

/** The numbers of the messages in the page, top to bottom. */
async function shownNumbers(page: Page): Promise<number[]> {
  // textContent: innerText is empty for messages off screen (content-visibility skips them).
  const texts: string[] = await page.locator('article').evaluateAll((articles: any[]) => articles.map((a) => a.textContent ?? ''));
  return texts.map((text) => Number(/Message (\d{3})/.exec(text)?.[1] ?? -1));
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

// In-page code is written as strings: this program is type-checked without the DOM library.
const scrollToTop = (page: Page) => page.evaluate(`document.querySelector('.scroller').scrollTop = 0`);
// Where a message is in the next frame the user sees: measured in an animation frame, after the
// list's own corrections of that frame (between frames layout may be in a state never painted).
const topOf = (page: Page, n: number) =>
  page
    .getByText(`${label(n)} of the long history.`, { exact: true })
    .evaluate((el: any) => new Promise<number>((resolve) => (globalThis as any).requestAnimationFrame(() => resolve(el.getBoundingClientRect().top))));

/**
 * Opens the long conversation and pages through it. Without `scrollAnchoring` the list's scroller
 * gets overflow-anchor: none, as in a browser without scroll anchoring: Chromium's anchoring
 * covers for a place restored too early most of the time, so the list must not count on it.
 */
async function pageThroughHistory(scrollAnchoring: boolean): Promise<void> {
  const page = (app.page = await newPage(app.browser));
  const account = newAccount();
  await seedLongConversation(account);
  await page.goto(app.stack.url);
  await logIn(page, account);
  await conversations(page).getByRole('link', { name: 'Long history' }).click();
  // A constructed style sheet: the page's CSP (style-src 'self') refuses a <style> element.
  if (!scrollAnchoring) {
    await page.evaluate(`(() => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync('.scroller { overflow-anchor: none !important; }');
      document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    })()`);
  }

  // The newest page: the latest message at the bottom, nothing older than the page.
  await answers(page).last().getByText(`${label(TOTAL - 1)} of the long history.`).waitFor();
  const earlier = page.getByRole('button', { name: 'Show earlier messages', exact: true });
  // The list renders the page's latest messages first and the rest of it on the way up.
  await until('the whole first page and the control', async () => {
    await scrollToTop(page);
    return (await earlier.count()) === 1;
  });
  expect((await shownNumbers(page)).join(' ')).toBe(range(TOTAL - 50, TOTAL).join(' '));
  expect(await questions(page).count()).toBe(25);

  // The page before it, on top, in order; the message at the top of the screen stays put. The
  // place is taken with the button on screen, as the user clicks it: the list may have grown
  // above since the last scroll to the top (the place kept, so the button scrolled out of view),
  // and a click first scrolls its target into view.
  await earlier.scrollIntoViewIfNeeded();
  const before = await topOf(page, TOTAL - 50);
  await earlier.click();
  await page.getByText(`${label(TOTAL - 100)} of the long history.`, { exact: true }).waitFor({ state: 'attached' });
  expect((await shownNumbers(page)).join(' ')).toBe(range(TOTAL - 100, TOTAL).join(' '));
  expect(Math.abs((await topOf(page, TOTAL - 50)) - before)).toBeLessThanOrEqual(2);

  // And the first page of all: everything, oldest first, and no control left.
  await scrollToTop(page);
  await earlier.click();
  await page.getByText(`${label(0)} of the long history.`, { exact: true }).waitFor({ state: 'attached' });
  expect((await shownNumbers(page)).join(' ')).toBe(range(0, TOTAL).join(' '));
  expect(await earlier.count()).toBe(0);
}

describe('a long conversation', { timeout: 90_000 }, () => {
  it('opens on its newest page; "Show earlier messages" adds older pages in order and keeps the place', () => pageThroughHistory(true));
  it('keeps the place after "Show earlier messages" without the browser\'s scroll anchoring too', () => pageThroughHistory(false));
});
