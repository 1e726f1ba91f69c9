// The model names a new conversation after its first answer, and the sidebar shows the new name
// without a reload; a conversation the person renamed keeps their name. The model's output is
// scripted here (the built-in model writes gibberish), through the same Generate path.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { answerFinished, conversations, newPage, questions, send, signUp, until } from './support/app.js';
import { createEngineControl } from './support/engine-control.js';
import { useAppSuite } from './support/suite.js';

const engine = createEngineControl();
const app = useAppSuite({ engineFactory: engine.engineFactory, generatedTitles: true });
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
    await conversations(page).getByRole('link', { name: 'Spring Garden Planning', exact: true }).waitFor({ timeout: 100_000 });

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
