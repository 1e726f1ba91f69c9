// Managing conversations in the browser: rename inline, delete with confirmation, filter by title (the search box);
// hostile text in a message, an answer and a title stays text; the phone layout; and an upstream
// failure said out loud (last: it stops the chat service of this file's stack).
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  answerFinished,
  answers,
  conversations,
  messageBox,
  newPage,
  questions,
  screenshot,
  send,
  signUp,
  squash,
  until,
} from './support/app.js';
import { createEngineControl } from './support/engine-control.js';
import { useAppSuite } from './support/suite.js';

const engine = createEngineControl();
const app = useAppSuite({ engineFactory: engine.engineFactory });
let page: Page;

beforeEach(() => engine.set({ contentScript: 'Noted.' }));

/** Starts a new conversation whose title becomes its first message. */
async function converse(p: Page, first: string): Promise<void> {
  await p.getByRole('button', { name: 'New chat', exact: true }).click();
  // A new chat is an empty page until its first message creates the conversation.
  await until('the new conversation', async () => (await questions(p).count()) === 0);
  await send(p, first);
  await questions(p).first().waitFor();
  await answerFinished(p);
  await conversations(p).getByRole('link', { name: first, exact: true }).waitFor();
}

const linkNames = async (p: Page): Promise<string[]> => (await conversations(p).getByRole('link').allInnerTexts()).map(squash);

/** The sidebar shows exactly these conversations, in this order (a link may add more text, e.g. a date). */
async function expectList(p: Page, titles: readonly string[]): Promise<void> {
  const names = await linkNames(p);
  expect(names).toHaveLength(titles.length);
  titles.forEach((title, i) => expect(names[i]).toContain(title));
}

const XSS_IMG = '<img src=x onerror="window.__xss=1">';
const XSS_SCRIPT = '<script>window.__xss=1</script>';

// In-page code is written as strings: this program is type-checked without the DOM library.
async function expectNoInjection(p: Page): Promise<void> {
  expect(await p.evaluate('window.__xss')).toBeUndefined();
  expect(await p.evaluate(`[...document.images].filter((image) => image.getAttribute('src') === 'x').length`)).toBe(0);
  expect(await p.evaluate(`[...document.scripts].filter((script) => script.text.includes('__xss')).length`)).toBe(0);
}

describe('conversations', { timeout: 90_000 }, () => {
  it('lists conversations newest first; rename inline: Enter saves, Escape cancels', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await converse(page, 'Apples are red');
    await converse(page, 'Bananas are yellow');
    await expectList(page, ['Bananas are yellow', 'Apples are red']);

    await conversations(page).getByRole('button', { name: 'Rename Apples are red', exact: true }).click();
    const title = page.getByRole('textbox', { name: 'Conversation title', exact: true });
    await title.fill('Fruit notes');
    await title.press('Enter');
    await conversations(page).getByRole('link', { name: 'Fruit notes', exact: true }).waitFor();
    expect(await title.count()).toBe(0);

    await conversations(page).getByRole('button', { name: 'Rename Fruit notes', exact: true }).click();
    await title.fill('Discarded title');
    await title.press('Escape');
    expect(await title.count()).toBe(0);
    expect(await conversations(page).getByRole('link', { name: 'Discarded title', exact: true }).count()).toBe(0);

    await page.reload();
    await conversations(page).getByRole('link', { name: 'Fruit notes', exact: true }).waitFor();
    expect(await conversations(page).getByRole('link', { name: 'Discarded title', exact: true }).count()).toBe(0);
  });

  it('delete asks first: Cancel keeps the conversation, Delete removes it for good', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await converse(page, 'Keep this one');
    await converse(page, 'Remove this one');

    await conversations(page).getByRole('button', { name: 'Delete Remove this one', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete conversation?', exact: true });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await conversations(page).getByRole('link', { name: 'Remove this one', exact: true }).count()).toBe(1);

    await conversations(page).getByRole('button', { name: 'Delete Remove this one', exact: true }).click();
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await conversations(page).getByRole('link', { name: 'Remove this one', exact: true }).waitFor({ state: 'detached' });
    await expectList(page, ['Keep this one']);

    await page.reload();
    await conversations(page).getByRole('link', { name: 'Keep this one', exact: true }).waitFor();
    await expectList(page, ['Keep this one']);
  });

  it('the filter narrows the list by title and clearing it brings everything back', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    for (const first of ['Plan the garden', 'Bake sourdough bread', 'Garden tools to buy']) await converse(page, first);

    const filter = page.getByRole('searchbox', { name: 'Search conversations', exact: true });
    await filter.fill('garden');
    await until('the filtered list', async () => (await linkNames(page)).length === 2);
    await expectList(page, ['Garden tools to buy', 'Plan the garden']);
    await filter.fill('');
    await until('the whole list', async () => (await linkNames(page)).length === 3);
  });

  it('HTML in a message, in an answer and in a title is shown as text and never runs', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    engine.set({ contentScript: `Echo: ${XSS_IMG} and ${XSS_SCRIPT} done.` });

    await send(page, XSS_IMG);
    await answerFinished(page);
    expect(await questions(page).last().innerText()).toContain(XSS_IMG);
    expect(await answers(page).last().innerText()).toContain('done.');
    // The first message names the conversation: the title carries the payload too.
    await conversations(page).getByRole('link', { name: XSS_IMG, exact: true }).waitFor();
    await expectNoInjection(page);

    await send(page, XSS_SCRIPT);
    await answerFinished(page);
    expect(await questions(page).last().innerText()).toContain(XSS_SCRIPT);
    await expectNoInjection(page);

    const hostileTitle = `${XSS_SCRIPT}${XSS_IMG}`;
    await conversations(page).getByRole('button', { name: `Rename ${XSS_IMG}`, exact: true }).click();
    await page.getByRole('textbox', { name: 'Conversation title', exact: true }).fill(hostileTitle);
    await page.getByRole('textbox', { name: 'Conversation title', exact: true }).press('Enter');
    await conversations(page).getByRole('link', { name: hostileTitle, exact: true }).waitFor();
    await expectNoInjection(page);

    await page.reload();
    await conversations(page).getByRole('link', { name: hostileTitle, exact: true }).click();
    await questions(page).first().waitFor();
    expect(await questions(page).first().innerText()).toContain(XSS_IMG);
    await expectNoInjection(page);
  });

  it('on a phone (375×667) the list hides behind "Conversations" and sending works', async () => {
    page = app.page = await newPage(app.browser, { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await signUp(page, app.stack.url);
    const toggle = page.getByRole('button', { name: 'Conversations', exact: true });
    await toggle.waitFor();
    expect(await conversations(page).isVisible()).toBe(false);

    engine.set({ contentScript: 'A short answer that fits on a phone screen.', delayMs: 10 });
    await send(page, 'Hello from a phone');
    await answerFinished(page);
    expect(squash(await answers(page).last().innerText())).toContain('A short answer that fits on a phone screen.');
    // Nothing sticks out sideways.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    expect(await messageBox(page).isVisible()).toBe(true);
    await screenshot(page, 'mobile');

    await toggle.click();
    await conversations(page).getByRole('link', { name: 'Hello from a phone', exact: true }).waitFor();
    await screenshot(page, 'mobile-conversations');
    // A visible way out of the drawer, not only a tap on the dimmed page.
    await page.getByRole('button', { name: 'Close conversations', exact: true }).click();
    await until('the drawer to close', async () => (await toggle.getAttribute('aria-expanded')) === 'false');
  });

  // Last in this file: it stops the chat service for good.
  it('with the chat service gone, sending shows a plain-language alert, not silence', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await send(page, 'Before the outage');
    await answerFinished(page);

    await app.stack.chat.close();
    await send(page, 'During the outage');
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 20_000 });
    const text = squash(await alert.innerText());
    expect(text.length).toBeGreaterThan(10);
    // Words for people, not codes or internals.
    expect(text).not.toMatch(/[{}]|grpc|UNAVAILABLE|ECONNREFUSED|service_unavailable|undefined|null|Error:/);
    await screenshot(page, 'error-alert');
  });
});
