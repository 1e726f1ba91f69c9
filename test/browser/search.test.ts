// Search, pins and tags in the sidebar, in Chromium: a word only an answer contains is found by the
// full-text search with its snippet highlighted and opens its conversation; a pin moves a
// conversation to the "Pinned" group on top; a tag chip filters the list.
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { answerFinished, conversations, newPage, questions, screenshot, send, signUp, squash, until } from './support/app.js';
import { createEngineControl } from './support/engine-control.js';
import { useAppSuite } from './support/suite.js';

const engine = createEngineControl();
const app = useAppSuite({ engineFactory: engine.engineFactory });
let page: Page;

beforeEach(() => engine.set({ contentScript: 'Noted.' }));

/** A new conversation whose first message (its title) is `first`, answered with `answer`. */
async function converse(p: Page, first: string, answer = 'Noted.'): Promise<void> {
  engine.set({ contentScript: answer });
  await p.getByRole('button', { name: 'New chat', exact: true }).click();
  await until('the new conversation', async () => (await questions(p).count()) === 0);
  await send(p, first);
  await questions(p).first().waitFor();
  await answerFinished(p);
  await conversations(p).getByRole('link', { name: first, exact: true }).waitFor();
}

const searchBox = (p: Page) => p.getByRole('searchbox', { name: 'Search conversations', exact: true });
const results = (p: Page) => p.getByRole('region', { name: 'Search results', exact: true });
const linkNames = async (p: Page): Promise<string[]> => (await conversations(p).getByRole('link').allInnerTexts()).map(squash);

describe('search, pins and tags', { timeout: 120_000 }, () => {
  it('finds a word that only an answer contains, highlights it, and opens the conversation', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await converse(page, 'How do I bake bread', 'Mix flour and water, then let the sourdough rest overnight before baking.');
    await converse(page, 'Plan a trip to Lisbon', 'Visit Belém and ride tram 28.');
    await converse(page, 'Weekend chores', 'Laundry, groceries, and water the plants.');

    // Part of the word, as it is being typed: no title has it, the search finds the answer.
    await searchBox(page).fill('sourdo');
    const hit = results(page).getByRole('link');
    await until('a search result', async () => (await hit.count()) === 1);
    expect(squash(await hit.innerText())).toBe('How do I bake bread Mix flour and water, then let the sourdough rest overnight before baking');
    expect(await hit.locator('mark').allInnerTexts()).toEqual(['sourdough']);
    expect(await linkNames(page)).toEqual([]);
    expect(await conversations(page).getByText('No title matches.', { exact: true }).count()).toBe(1);

    // Two words, both marked; the titles that match are listed as before, below the results.
    await searchBox(page).fill('water ');
    await until('two results', async () => (await hit.count()) === 2);
    await searchBox(page).fill('rest overnight');
    await until('the bread result again', async () => (await hit.count()) === 1 && (await hit.locator('mark').count()) === 2);
    expect(await hit.locator('mark').allInnerTexts()).toEqual(['rest', 'overnight']);
    await screenshot(page, 'search');

    // Now in another conversation; the result opens the bread one.
    expect(squash(await questions(page).first().innerText())).toContain('Weekend chores');
    await hit.click();
    await until('the bread conversation', async () => squash(await questions(page).first().innerText()).includes('How do I bake bread'));
    expect(await conversations(page).getByRole('link', { name: 'How do I bake bread', exact: true }).count()).toBe(0);
    await searchBox(page).fill('');
    await until('the whole list', async () => (await linkNames(page)).length === 3);
    expect(await results(page).count()).toBe(0);
  });

  it('a pin moves a conversation to the Pinned group on top, and it stays there after a reload', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    for (const first of ['Oldest question', 'Middle question', 'Newest question']) await converse(page, first);
    expect(await linkNames(page)).toEqual(['Newest question', 'Middle question', 'Oldest question']);

    await conversations(page).getByRole('button', { name: 'Pin Oldest question', exact: true }).click();
    await until('the pinned group', async () => (await conversations(page).getByRole('list', { name: 'Pinned', exact: true }).count()) === 1);
    const pinned = conversations(page).getByRole('list', { name: 'Pinned', exact: true });
    expect((await pinned.getByRole('link').allInnerTexts()).map(squash)).toEqual(['Oldest question']);
    expect(await linkNames(page)).toEqual(['Oldest question', 'Newest question', 'Middle question']);
    expect(await conversations(page).getByRole('heading').allTextContents()).toEqual(['Pinned', 'Recent']);

    await page.reload();
    await conversations(page).getByRole('link', { name: 'Oldest question', exact: true }).waitFor();
    expect(await linkNames(page)).toEqual(['Oldest question', 'Newest question', 'Middle question']);
    const unpin = conversations(page).getByRole('button', { name: 'Unpin Oldest question', exact: true });
    expect(await unpin.getAttribute('aria-pressed')).toBe('true');
    await unpin.click();
    await until('no pinned group', async () => (await conversations(page).getByRole('heading').count()) === 0);
    expect(await linkNames(page)).toEqual(['Newest question', 'Middle question', 'Oldest question']);
  });

  it('tags are edited inline, shown as chips, and a chip filters the list by its tag', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    for (const first of ['Sprint planning', 'Birthday ideas', 'Quarterly report']) await converse(page, first);

    const tagConversation = async (title: string, tags: string) => {
      await conversations(page).getByRole('button', { name: `Edit tags of ${title}`, exact: true }).click();
      const input = conversations(page).getByRole('textbox', { name: `Tags of ${title}`, exact: true });
      await input.fill(tags);
      await input.press('Enter');
    };
    await tagConversation('Sprint planning', ' Work, planning ');
    await tagConversation('Quarterly report', 'WORK');
    await tagConversation('Birthday ideas', 'home');
    const chipsOf = (title: string) =>
      conversations(page).getByRole('listitem').filter({ has: page.getByRole('link', { name: title, exact: true }) }).locator('.tag-chip');
    await until('normalised chips', async () => (await chipsOf('Quarterly report').allInnerTexts()).join() === 'work');
    expect(await chipsOf('Sprint planning').allInnerTexts()).toEqual(['work', 'planning']);
    await conversations(page).getByRole('button', { name: 'Pin Sprint planning', exact: true }).click();
    await conversations(page).getByRole('list', { name: 'Pinned', exact: true }).waitFor();
    await conversations(page).getByRole('link', { name: 'Birthday ideas', exact: true }).hover();
    await screenshot(page, 'pins-and-tags');

    await chipsOf('Quarterly report').getByText('work', { exact: true }).click();
    await until('the work conversations', async () => (await linkNames(page)).length === 2);
    expect(await linkNames(page)).toEqual(['Sprint planning', 'Quarterly report']);
    await page.getByRole('button', { name: 'Clear the tag filter work', exact: true }).click();
    await until('every conversation', async () => (await linkNames(page)).length === 3);

    // The tags are stored: after a reload, the home chip still filters.
    await page.reload();
    await chipsOf('Birthday ideas').first().waitFor();
    await chipsOf('Birthday ideas').getByText('home', { exact: true }).click();
    await until('the home conversation', async () => (await linkNames(page)).length === 1);
    expect(await linkNames(page)).toEqual(['Birthday ideas']);
  });
});
