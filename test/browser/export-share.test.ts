// Export, share and import as a person does them: download a conversation, share it and open the
// link in a browser that never signed in (read-only page, thinking folded, Markdown rendered),
// revoke it; import ChatGPT's conversations.json from the sidebar and find it there, branches kept.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { answerFinished, answers, conversations, messageBox, newPage, questions, screenshot, send, signUp, squash } from './support/app.js';
import { createEngineControl } from './support/engine-control.js';
import { useAppSuite } from './support/suite.js';

const engine = createEngineControl();
const app = useAppSuite({ engineFactory: engine.engineFactory, generatedTitles: false });
const CHATGPT_FILE = fileURLToPath(new URL('../../services/gateway/test/fixtures/chatgpt-conversations.json', import.meta.url));

const ANSWER = [
  'A relaxed **weekend in Lisbon**:\n\n',
  '1. Saturday: Alfama in the morning, then tram 28 up to the castle.\n',
  '2. Sunday: Belém for *pastéis de nata*, and sunset at the Miradouro da Senhora do Monte.\n\n',
  'Pack comfortable shoes: the hills are steep.\n',
].join('');

beforeEach(() => engine.reset());

const actions = (page: Page) => page.getByRole('button', { name: 'Conversation actions' }).or(page.locator('summary[aria-label="Conversation actions"]'));

describe('export, share and import', { timeout: 120_000 }, () => {
  it('exports as Markdown, shares a read-only link anyone can open without signing in, and revokes it', async () => {
    const page = (app.page = await newPage(app.browser));
    await signUp(page, app.stack.url);
    engine.set({ reasoningDeltas: 6, contentScript: ANSWER });
    await send(page, 'Plan a weekend in Lisbon');
    await answerFinished(page);

    // Export as Markdown: a file named after the conversation, the branch as a readable document.
    await actions(page).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'Export as Markdown' }).click()]);
    expect(download.suggestedFilename()).toBe('Plan a weekend in Lisbon.md');
    const markdown = await readFile((await download.path())!, 'utf8');
    expect(markdown).toContain('# Plan a weekend in Lisbon');
    expect(markdown).toContain('**You**\n\nPlan a weekend in Lisbon');
    expect(markdown).toContain('A relaxed **weekend in Lisbon**');

    await actions(page).click();
    await page.getByRole('menuitem', { name: 'Share…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Share conversation' });
    const linkBox = dialog.getByRole('textbox', { name: 'Share link' });
    await expect.poll(() => linkBox.inputValue()).toMatch(/\/s\/[A-Za-z0-9_-]{22}$/);
    const link = await linkBox.inputValue();
    expect(link.startsWith(app.stack.url)).toBe(true);
    await expect(dialog.getByRole('button', { name: 'Copy' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'share-dialog');

    // Someone else, never signed in, opens the link.
    const reader = await newPage(app.browser);
    try {
      await reader.goto(link);
      await reader.getByRole('status').filter({ hasText: 'Shared conversation · read-only' }).waitFor();
      await reader.getByRole('heading', { name: 'Plan a weekend in Lisbon' }).waitFor();
      expect(squash(await questions(reader).first().innerText())).toBe('Plan a weekend in Lisbon');
      const answer = answers(reader).first();
      await expect(answer.locator('strong').first().innerText()).resolves.toBe('weekend in Lisbon');
      expect(await answer.locator('ol > li').count()).toBe(2);
      // The thinking is there, folded.
      const thinking = answer.locator('details.thinking');
      expect(await thinking.evaluate((d) => (d as unknown as { open: boolean }).open)).toBe(false);
      expect(squash(await thinking.locator('summary').innerText())).toBe('Thought process');
      // Read-only: nothing to type into, no sign-in form.
      expect(await messageBox(reader).count()).toBe(0);
      expect(await reader.getByLabel('Password').count()).toBe(0);
      expect(await reader.locator('meta[name="robots"]').getAttribute('content')).toBe('noindex, nofollow');
      await screenshot(reader, 'shared-page');

      // The owner revokes: the same link now says it does not work.
      await dialog.getByRole('button', { name: 'Revoke links' }).click();
      await dialog.getByText('Sharing stopped').waitFor();
      await reader.reload();
      await reader.getByRole('heading', { name: 'This link doesn’t work' }).waitFor();
    } finally {
      await reader.context().close();
    }
  });

  it("imports ChatGPT's conversations.json from the sidebar: they appear there, with the edited question as a second version", async () => {
    const page = (app.page = await newPage(app.browser));
    await signUp(page, app.stack.url);
    await page.getByLabel('Import conversations file').setInputFiles(CHATGPT_FILE);
    await page.getByRole('status').filter({ hasText: 'Imported 2 conversations (8 messages).' }).waitFor();

    const sidebar = conversations(page);
    await sidebar.getByRole('link', { name: 'Sourdough starter help' }).or(sidebar.getByText('Sourdough starter help')).first().click();
    await questions(page).nth(1).waitFor();
    expect(await questions(page).allInnerTexts().then((texts) => texts.map((t) => squash(t).split(' 2/2')[0]))).toEqual([
      expect.stringContaining('How often should I feed a sourdough starter?'),
      expect.stringContaining('What flour is best for a **rye** starter?'),
    ]);
    expect(squash(await answers(page).last().locator('.markdown').innerText())).toBe('For rye, use whole rye flour: it ferments quickly it needs more water');
    // The edited question keeps the original beside it.
    await expect(questions(page).nth(1).getByRole('group', { name: 'Versions' }).innerText().then(squash)).resolves.toBe('‹ 2/2 ›');
    expect(await sidebar.getByText('Imported chat').count()).toBe(1);
    await screenshot(page, 'imported-conversation');
  });
});
