// Chatting in the browser against the whole stack: the answer streams, reasoning folds and keeps the
// person's choice, Stop (button and Escape) keeps the partial answer, Regenerate and Edit add
// versions that ‹ › switches between, a reload mid-answer resumes with no gap and no repeat, code blocks, dark mode.
import type { Locator, Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  answerFinished,
  answers,
  conversations,
  messageBox,
  newPage,
  questions,
  sampleText,
  screenshot,
  send,
  setMaxTokens,
  signUp,
  squash,
  storedLatestConversation,
  until,
} from './support/app.js';
import { watchCspViolations } from './support/csp.js';
import { createEngineControl } from './support/engine-control.js';
import { useAppSuite } from './support/suite.js';

const engine = createEngineControl();
const app = useAppSuite({ engineFactory: engine.engineFactory });
let page: Page;

beforeEach(() => engine.reset());

const CODE_ANSWER = [
  'Here is a tiny helper:\n\n',
  '```ts\nexport function add(a: number, b: number): number {\n  return a + b;\n}\n```\n\n',
  'Call it with `add(2, 3)`; it returns **5**.\n',
].join('');

const MATH_ANSWER = [
  'Euler: $e^{i\\pi} + 1 = 0$, or inline with brackets \\(a^2 + b^2 = c^2\\).\n\n',
  '$$\n\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}\n$$\n\n',
  '\\[\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n\\]\n\n',
  '- [x] derive it\n- [ ] check it ~~the slow way~~\n',
].join('');

/** Whether the `<details>` holding this summary is open, as the person sees it (the reasoning text shows). */
const isOpen = (summary: Locator): Promise<boolean> => summary.evaluate((element) => element.closest('details')?.open === true);

const lastAnswer = (p: Page): Locator => answers(p).last();

describe('chat', { timeout: 90_000 }, () => {
  it('Enter sends, the answer streams in visibly, the conversation appears in the sidebar; Shift+Enter is a new line', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await setMaxTokens(page, 120);
    engine.set({ delayMs: 25 });

    await messageBox(page).fill('Tell me a story');
    await messageBox(page).press('Shift+Enter');
    await messageBox(page).pressSequentially('about a lighthouse');
    expect(await messageBox(page).inputValue()).toBe('Tell me a story\nabout a lighthouse');
    expect(await questions(page).count()).toBe(0);

    await messageBox(page).press('Enter');
    const texts = await sampleText(lastAnswer(page), async () => (await page.getByRole('button', { name: 'Regenerate', exact: true }).count()) > 0);
    const growing = texts.filter((text) => text.trim().length > 0);
    // At least two different non-empty texts before the end, each extending the previous one.
    expect(growing.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < growing.length; i++) expect(squash(growing[i]!).startsWith(squash(growing[i - 1]!).slice(0, 20))).toBe(true);
    await answerFinished(page);

    expect(squash(await questions(page).last().innerText())).toContain('Tell me a story about a lighthouse');
    expect(await messageBox(page).inputValue()).toBe('');
    await conversations(page).getByRole('link', { name: /Tell me a story/ }).first().waitFor();
  });

  it('reasoning is open while the model thinks, folds when the answer starts, and keeps the person re-opening it', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await setMaxTokens(page, 160);
    engine.set({ reasoningDeltas: 25, delayMs: 60 });

    await send(page, 'Think before you answer');
    const thinking = lastAnswer(page).getByText('Thinking…');
    await thinking.waitFor();
    expect(await isOpen(thinking)).toBe(true);
    await screenshot(page, 'streaming-thinking-open');

    const thought = lastAnswer(page).getByText(/Thought for \d+ s/);
    await thought.waitFor({ timeout: 20_000 });
    // The answer has started and is still streaming: the reasoning folded by itself.
    expect(await page.getByRole('button', { name: 'Stop', exact: true }).count()).toBe(1);
    await until('the reasoning to fold', async () => !(await isOpen(thought)));

    await thought.click();
    expect(await isOpen(thought)).toBe(true);
    const before = (await lastAnswer(page).innerText()).length;
    await until('more of the answer', async () => (await lastAnswer(page).innerText()).length > before + 20);
    expect(await isOpen(thought)).toBe(true);
    await screenshot(page, 'streaming-thinking-reopened');

    await answerFinished(page);
    expect(await isOpen(thought)).toBe(true);
    expect(await thought.innerText()).toMatch(/^Thought for \d+ s$/);
  });

  for (const how of ['button', 'Escape'] as const) {
    it(`Stop (${how}) keeps the partial answer, and a reload shows the same stored answer`, async () => {
      page = app.page = await newPage(app.browser);
      const account = await signUp(page, app.stack.url);
      await setMaxTokens(page, 400);
      engine.set({ delayMs: 40 });

      await send(page, `Write a long answer, I will stop it (${how})`);
      await until('part of the answer', async () => (await answers(page).count()) > 0 && (await lastAnswer(page).innerText()).trim().length > 30);
      if (how === 'button') await page.getByRole('button', { name: 'Stop', exact: true }).click();
      else await page.keyboard.press('Escape');

      await answerFinished(page, 10_000);
      const partial = squash(await lastAnswer(page).locator('.answer').innerText());
      expect(partial.length).toBeGreaterThan(30);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(squash(await lastAnswer(page).locator('.answer').innerText())).toBe(partial);
      // Its numbers and time read the same live and stored.
      const line = squash(await lastAnswer(page).locator('.message-actions').innerText());
      expect(line).toMatch(/\d+ tokens · [\d.]+ tokens\/s · first after [\d.]+ s/);

      const stored = await storedLatestConversation(app.stack.url, account);
      const answer = stored.messages.at(-1)!;
      expect(answer).toMatchObject({ role: 'assistant', status: 'stopped' });
      // Far from the 400 tokens asked for: it really stopped.
      expect(answer.content.length).toBeLessThan(partial.length * 4);

      await page.reload();
      await conversations(page).getByRole('link').first().click();
      await lastAnswer(page).waitFor();
      expect(squash(await lastAnswer(page).locator('.answer').innerText())).toBe(partial);
      expect(squash(await lastAnswer(page).locator('.message-actions').innerText())).toBe(line);
    });
  }

  const versionOf = async (message: Locator): Promise<string> => (await message.locator('.version-count').innerText()).trim();

  it('Regenerate writes a new version beside the answer; ‹ › switches between them, and the choice survives a reload', async () => {
    page = app.page = await newPage(app.browser, { permissions: ['clipboard-read', 'clipboard-write'] });
    const account = await signUp(page, app.stack.url);
    engine.set({ contentScript: 'First answer alpha.' });
    await send(page, 'Answer me twice');
    await answerFinished(page);
    expect(squash(await lastAnswer(page).innerText())).toContain('First answer alpha.');
    // One version: no switcher.
    expect(await lastAnswer(page).getByRole('group', { name: 'Versions' }).count()).toBe(0);

    engine.set({ contentScript: 'Second answer beta, streamed slowly enough to see.', delayMs: 30 });
    await page.getByRole('button', { name: 'Regenerate', exact: true }).click();
    await until('the new answer', async () => squash(await lastAnswer(page).innerText()).includes('Second answer beta'));
    await answerFinished(page);
    expect(await answers(page).count()).toBe(1);
    expect(await questions(page).count()).toBe(1);
    expect(await lastAnswer(page).innerText()).not.toContain('First answer alpha');
    expect(await versionOf(lastAnswer(page))).toBe('2/2');
    await screenshot(page, 'branch-switcher');
    // Copy takes the answer's Markdown source.
    await lastAnswer(page).getByRole('button', { name: 'Copy', exact: true }).click();
    await lastAnswer(page).getByRole('button', { name: 'Copied', exact: true }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe('Second answer beta, streamed slowly enough to see.');

    await lastAnswer(page).getByRole('button', { name: 'Previous version', exact: true }).click();
    await until('the first version', async () => squash(await lastAnswer(page).innerText()).includes('First answer alpha.'));
    expect(await versionOf(lastAnswer(page))).toBe('1/2');
    expect(await lastAnswer(page).getByRole('button', { name: 'Previous version', exact: true }).isDisabled()).toBe(true);
    const stored = await storedLatestConversation(app.stack.url, account);
    expect(stored.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Answer me twice'],
      ['assistant', 'First answer alpha.'],
    ]);

    await page.reload();
    await conversations(page).getByRole('link').first().click();
    await until('the version chosen before the reload', async () => squash(await lastAnswer(page).innerText()).includes('First answer alpha.'));
    expect(await versionOf(lastAnswer(page))).toBe('1/2');
    await lastAnswer(page).getByRole('button', { name: 'Next version', exact: true }).click();
    await until('the second version', async () => squash(await lastAnswer(page).innerText()).includes('Second answer beta'));
    expect(await answers(page).count()).toBe(1);
  });

  it('Edit and resend puts the edited question beside the original and answers it; the original stays a click away', async () => {
    page = app.page = await newPage(app.browser);
    const account = await signUp(page, app.stack.url);
    engine.set({ contentScript: 'Answer to the original.' });
    await send(page, 'Original question');
    await answerFinished(page);

    engine.set({ contentScript: 'Answer to the edited question.', delayMs: 30 });
    await questions(page).last().getByRole('button', { name: 'Edit', exact: true }).click();
    const editor = page.getByRole('textbox', { name: 'Edit message', exact: true });
    expect(await editor.inputValue()).toBe('Original question');
    await editor.fill('Edited question');
    await page.getByRole('button', { name: 'Save and send', exact: true }).click();
    await until('the new answer', async () => squash(await lastAnswer(page).innerText()).includes('Answer to the edited question.'));
    await answerFinished(page);

    expect(await questions(page).count()).toBe(1);
    expect(squash(await questions(page).last().innerText())).toContain('Edited question');
    expect(await page.getByText('Original question').count()).toBe(0);
    expect(await answers(page).count()).toBe(1);
    expect(await versionOf(questions(page).last())).toBe('2/2');
    const stored = await storedLatestConversation(app.stack.url, account);
    expect(stored.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Edited question'],
      ['assistant', 'Answer to the edited question.'],
    ]);

    await questions(page).last().getByRole('button', { name: 'Previous version', exact: true }).click();
    await until('the original branch', async () => squash(await lastAnswer(page).innerText()).includes('Answer to the original.'));
    expect(squash(await questions(page).last().innerText())).toContain('Original question');
    expect(await versionOf(questions(page).last())).toBe('1/2');
  });

  it('an answer cut at the token limit says so and offers Continue, which grows the same answer; it stays grown after a reload', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await setMaxTokens(page, 6);
    await send(page, 'Write me a very long essay');
    await answerFinished(page);
    const answer = lastAnswer(page);
    await answer.getByText('Cut at the token limit').waitFor();
    const cut = squash(await answer.locator('.answer').innerText());

    await answer.getByRole('button', { name: 'Continue', exact: true }).click();
    await answerFinished(page);
    await until('the answer to grow', async () => squash(await lastAnswer(page).locator('.answer').innerText()).length > cut.length);
    const grown = squash(await lastAnswer(page).locator('.answer').innerText());
    expect(grown.startsWith(cut)).toBe(true);
    // Still one question and one answer, with no versions: the answer grew in place.
    expect([await questions(page).count(), await answers(page).count()]).toEqual([1, 1]);
    expect(await lastAnswer(page).getByRole('group', { name: 'Versions' }).count()).toBe(0);
    await page.reload();
    await answerFinished(page);
    expect(squash(await lastAnswer(page).locator('.answer').innerText())).toBe(grown);
  });

  it('Fork on an answer opens a new conversation holding everything up to it; the original keeps the rest', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await setMaxTokens(page, 8);
    await send(page, 'First question about owls');
    await answerFinished(page);
    const firstAnswer = squash(await lastAnswer(page).locator('.answer').innerText());
    await send(page, 'Second question about bats');
    await answerFinished(page);
    const original = page.url();

    await answers(page).first().getByRole('button', { name: 'Fork', exact: true }).click();
    await page.waitForURL((url) => url.href !== original);
    await until('the forked branch', async () => (await answers(page).count()) === 1 && (await questions(page).count()) === 1);
    expect(squash(await questions(page).first().innerText())).toContain('First question about owls');
    expect(squash(await lastAnswer(page).locator('.answer').innerText())).toBe(firstAnswer);
    await conversations(page).getByRole('link', { name: /\(fork\)$/ }).first().waitFor();

    await page.goto(original);
    await answerFinished(page);
    expect(await questions(page).count()).toBe(2);
  });

  it('a conversation left mid-answer shows it is answering in the sidebar until the answer ends', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await setMaxTokens(page, 40);
    engine.set({ delayMs: 80 });
    await send(page, 'Answer slowly please');
    const entry = conversations(page).getByRole('listitem').filter({ hasText: 'Answer slowly please' });
    await entry.waitFor();
    await page.getByRole('button', { name: 'New chat', exact: true }).click();
    await entry.getByRole('img', { name: 'Answering', exact: true }).waitFor();
    // The answer goes on without anyone watching, and the dot goes out when it ends.
    await entry.getByRole('img', { name: 'Answering', exact: true }).waitFor({ state: 'detached', timeout: 20_000 });
    await entry.getByRole('link').click();
    await answerFinished(page);
  });

  it("a conversation's own system prompt and model, set before its first message, reach the model and are kept", async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await setMaxTokens(page, 8);
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    const own = page.getByRole('region', { name: 'This conversation', exact: true });
    await own.getByRole('textbox', { name: 'System prompt', exact: true }).fill('Answer like a pirate.');
    await own.getByRole('textbox', { name: 'System prompt', exact: true }).press('Tab');
    const model = own.getByRole('combobox', { name: 'Model', exact: true });
    const served = await model.locator('option').nth(1).getAttribute('value');
    await model.selectOption(served!);
    const asked = (question: string) => engine.requests().find((messages) => messages.at(-1)?.content === question);

    await send(page, 'Ahoy there');
    await answerFinished(page);
    expect(asked('Ahoy there')?.[0]).toEqual({ role: 'system', content: 'Answer like a pirate.' });

    await page.reload();
    await answerFinished(page);
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    expect(await own.getByRole('textbox', { name: 'System prompt', exact: true }).inputValue()).toBe('Answer like a pirate.');
    expect(await model.inputValue()).toBe(served);
    await own.getByRole('textbox', { name: 'System prompt', exact: true }).fill('Answer in haiku.');
    const saved = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/sessions/'));
    await own.getByRole('textbox', { name: 'System prompt', exact: true }).press('Tab');
    expect((await saved).status()).toBe(200);
    await send(page, 'Once more');
    await answerFinished(page);
    expect(asked('Once more')?.[0]).toEqual({ role: 'system', content: 'Answer in haiku.' });
    await screenshot(page, 'conversation-settings');
  });

  it('Cancel leaves an edit unsent', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    engine.set({ contentScript: 'Fine.' });
    await send(page, 'Keep me');
    await answerFinished(page);
    await questions(page).last().getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByRole('textbox', { name: 'Edit message', exact: true }).fill('Throw me away');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    expect(await page.getByRole('textbox', { name: 'Edit message', exact: true }).count()).toBe(0);
    expect(squash(await questions(page).last().innerText())).toContain('Keep me');
  });

  it('a reload mid-answer resumes it: the final text equals the stored message, no gap and no repeat', async () => {
    page = app.page = await newPage(app.browser);
    const account = await signUp(page, app.stack.url);
    await setMaxTokens(page, 400);
    // Numbered words make a skipped or doubled piece visible in the text itself.
    const words = Array.from({ length: 150 }, (_, i) => `w${String(i + 1).padStart(3, '0')}`);
    const script = words.join(' ');
    engine.set({ contentScript: script, delayMs: 40 });

    await send(page, 'Count slowly');
    await until('the answer to be under way', async () => (await answers(page).count()) > 0 && (await lastAnswer(page).innerText()).includes('w020'));
    await page.reload();
    // The open conversation comes back (or is one click away) and the answer keeps streaming.
    if ((await answers(page).count()) === 0) await conversations(page).getByRole('link').first().click();
    await lastAnswer(page).waitFor();
    await until('the answer to continue after the reload', async () => (await lastAnswer(page).innerText()).includes('w100'), 20_000);
    expect(await page.getByRole('button', { name: 'Stop', exact: true }).count()).toBe(1);
    await answerFinished(page);

    // Every numbered word exactly once, in order: nothing skipped, nothing shown twice.
    expect((await lastAnswer(page).innerText()).match(/w\d{3}/g)).toEqual(words);
    const stored = await storedLatestConversation(app.stack.url, account);
    expect(stored.messages.at(-1)).toMatchObject({ role: 'assistant', status: 'complete', content: script });
  });

  it('a finished answer renders its code block with a Copy code button', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    engine.set({ contentScript: CODE_ANSWER, delayMs: 5 });
    await send(page, 'Show me some TypeScript');
    await answerFinished(page);
    const answer = lastAnswer(page);
    await answer.getByRole('button', { name: 'Copy code', exact: true }).waitFor();
    const text = await answer.innerText();
    expect(text).toContain('export function add(a: number, b: number): number {');
    expect(text).not.toContain('```');
    expect(text).not.toContain('**5**');
    await screenshot(page, 'answer-with-code');
  });

  it('a finished answer typesets its TeX (all four delimiters), task lists and strikethrough', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    engine.set({ contentScript: MATH_ANSWER, delayMs: 5 });
    await send(page, 'Some maths, please');
    await answerFinished(page);
    const answer = lastAnswer(page);
    const formulas = answer.locator('math');
    await until('four typeset formulas', async () => (await formulas.count()) === 4);
    expect(await answer.locator('math[display="block"]').count()).toBe(2);
    // The browser lays the MathML out: each formula takes room, and no TeX source is left showing.
    for (const box of await Promise.all((await formulas.all()).map((f) => f.boundingBox()))) expect(box!.width).toBeGreaterThan(10);
    const text = await answer.innerText();
    expect(text).not.toContain('\\frac');
    expect(text).not.toContain('$$');
    const boxes = answer.getByRole('checkbox');
    expect(await boxes.count()).toBe(2);
    expect(await boxes.first().isChecked()).toBe(true);
    expect(await boxes.first().isDisabled()).toBe(true);
    expect(await answer.locator('s').innerText()).toBe('the slow way');
    await screenshot(page, 'answer-with-math');
  });

  it('a finished mermaid block draws its diagram on demand, as an image (no script, no fetch); a broken one says why', async () => {
    page = app.page = await newPage(app.browser);
    const violations = await watchCspViolations(page);
    await signUp(page, app.stack.url);
    engine.set({ contentScript: 'A flow:\n\n```mermaid\ngraph TD\n  Ask[Ask a question] --> Think\n  Think --> Answer\n```\n\nAnd a broken one:\n\n```mermaid\ngraph TD\n  A -->\n```\n' });
    await send(page, 'Draw me a flow');
    await answerFinished(page);
    const answer = lastAnswer(page);
    const buttons = answer.getByRole('button', { name: 'Show diagram', exact: true });
    expect(await buttons.count()).toBe(2);
    await buttons.first().click();
    const diagram = answer.getByRole('img', { name: 'Diagram', exact: true });
    await diagram.waitFor();
    const src = (await diagram.getAttribute('src')) ?? '';
    expect(src.startsWith('data:image/svg+xml')).toBe(true);
    // The labels are SVG text (a word per tspan), not HTML.
    expect(decodeURIComponent(src)).toContain('question');
    expect(decodeURIComponent(src)).not.toContain('foreignObject');
    // It drew: the image decoded to a real size.
    expect(await diagram.evaluate((img: { naturalWidth: number }) => img.naturalWidth)).toBeGreaterThan(50);
    // The code stays beside the drawing.
    expect(await answer.locator('code').first().innerText()).toContain('graph TD');
    await answer.getByRole('button', { name: 'Show diagram', exact: true }).click();
    await answer.getByText(/^This diagram could not be drawn: /).waitFor();
    await screenshot(page, 'mermaid-diagram');
    // Mermaid lays the diagram out in the page and tries inline styles there, which the strict policy
    // refuses (the SVG it returns carries its own); nothing else is refused: no script, no fetch.
    const refused = await violations();
    expect(refused.filter((v) => !/style-src/.test(v))).toEqual([]);
  });

  it('dark mode follows the system colour scheme', async () => {
    page = app.page = await newPage(app.browser, { colorScheme: 'dark' });
    await signUp(page, app.stack.url);
    engine.set({ contentScript: CODE_ANSWER, reasoningDeltas: 8 });
    await send(page, 'Show me some TypeScript in the dark');
    await answerFinished(page);
    // The first opaque background behind the answer is what the person sees around the text.
    const background = await lastAnswer(page).evaluate((element) => {
      for (let node: typeof element | null = element; node; node = node.parentElement) {
        const colour = node.ownerDocument.defaultView!.getComputedStyle(node).backgroundColor;
        if (colour !== 'transparent' && !/^rgba\(.*,\s*0\)$/.test(colour)) return colour;
      }
      return 'rgb(255, 255, 255)';
    });
    const [r, g, b] = (background.match(/[\d.]+/g) ?? ['255', '255', '255']).map(Number);
    // A dark page: its background is far from white.
    expect((r! + g! + b!) / 3).toBeLessThan(100);
    await screenshot(page, 'dark-mode');
  });
});
