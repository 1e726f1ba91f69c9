// `npm run bench:ui`: the web UI in real Chromium, against the real built UI and the whole stack.
// (1) The main thread while a 20,000-token Markdown answer streams in (scripted: see
// scripted-server.ts), measured in the page with a PerformanceObserver for `longtask` entries and a
// requestAnimationFrame loop for frames. (2) Click to last message rendered for a 500-message
// conversation seeded into PostgreSQL. Prints a table and writes docs/benchmarks/ui.md.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { createPool } from '@freechat/shared/postgres';
import { registerUser } from '../../../services/gateway/test/support/http.js';
import { answers, conversations, launchBrowser, logIn, messageBox, newPage, startAppStack } from '../support/app.js';
import { conversationMessage, markdownTokens } from './markdown-fixture.js';
import { startScriptedServer } from './scripted-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const OUTPUT = path.join(ROOT, 'docs', 'benchmarks', 'ui.md');
const ANSWER_TOKENS = 20_000;
const TOKENS_PER_SECOND = Number(process.env['FREECHAT_BENCH_TOKENS_PER_SECOND'] ?? 400);
const CONVERSATION_MESSAGES = 500;
const OPEN_REPEATS = 3;
const LONG_TITLE = 'Five hundred messages';
const SHORT_TITLE = 'A short conversation';
const END_MARKER = 'END-OF-CONVERSATION';

// Targets from the issue ("stays smooth"): no task that a person would feel as a stutter.
const TARGET_LONGEST_TASK_MS = 50;
const TARGET_P95_FRAME_GAP_MS = 50;
const TARGET_OPEN_MS = 1_000;

// Installed before any page script: every long task and every frame, in page time.
const PROBE = `
  window.__bench = { longtasks: [], frames: [] };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__bench.longtasks.push([entry.startTime, entry.duration]);
  }).observe({ type: 'longtask', buffered: true });
  const frame = (time) => { window.__bench.frames.push(time); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
`;

interface TimeSpan {
  readonly from: number;
  readonly to: number;
}

interface MainThread {
  readonly longTasks: number;
  readonly longestTaskMs: number;
  readonly totalBlockingMs: number;
  readonly frames: number;
  readonly fps: number;
  readonly p95FrameGapMs: number;
  readonly longestFrameGapMs: number;
}

async function mainThread(page: Page, span: TimeSpan): Promise<MainThread> {
  const { longtasks, frames } = (await page.evaluate('window.__bench')) as { longtasks: [number, number][]; frames: number[] };
  const tasks = longtasks.filter(([start]) => start >= span.from && start <= span.to).map(([, duration]) => duration);
  const inWindow = frames.filter((time) => time >= span.from && time <= span.to);
  const gaps = inWindow.slice(1).map((time, i) => time - inWindow[i]!).sort((a, b) => a - b);
  return {
    longTasks: tasks.length,
    longestTaskMs: Math.max(0, ...tasks),
    totalBlockingMs: tasks.reduce((sum, duration) => sum + Math.max(0, duration - 50), 0),
    frames: inWindow.length,
    fps: inWindow.length / ((span.to - span.from) / 1000),
    p95FrameGapMs: gaps[Math.floor(gaps.length * 0.95)] ?? 0,
    longestFrameGapMs: gaps.at(-1) ?? 0,
  };
}

const now = (page: Page): Promise<number> => page.evaluate('performance.now()') as Promise<number>;
const ms = (value: number): string => value.toFixed(0);

async function seedConversations(databaseUrl: string, ownerId: string): Promise<void> {
  const pool = createPool({ url: databaseUrl, applicationName: 'ui-bench', max: 1 });
  try {
    const [long, short] = [randomUUID(), randomUUID()];
    await pool.query(`INSERT INTO chat.sessions (id, owner_id, title, updated_at) VALUES ($1, $3, $4, now()), ($2, $3, $5, now() - interval '1 minute')`, [
      long,
      short,
      ownerId,
      LONG_TITLE,
      SHORT_TITLE,
    ]);
    const messages = Array.from({ length: CONVERSATION_MESSAGES }, (_, i) => conversationMessage(i));
    messages[messages.length - 1]!.content += `\n\n${END_MARKER}`;
    await pool.query(
      `INSERT INTO chat.messages (id, session_id, role, content, status, created_at)
       SELECT gen_random_uuid(), $1, m.role, m.content, 'complete', now() - interval '1 day' + m.n * interval '1 second'
       FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS m(role, content, n)`,
      [long, messages.map((m) => m.role), messages.map((m) => m.content)],
    );
    await pool.query(
      `INSERT INTO chat.messages (id, session_id, role, content, status) VALUES (gen_random_uuid(), $1, 'user', 'Hi', 'complete')`,
      [short],
    );
  } finally {
    await pool.end();
  }
}

/** Clicks the conversation in the page itself and waits, frame by frame, for its last message. */
async function openConversation(page: Page, title: string, marker: string): Promise<{ ms: number; articles: number; from: number; to: number }> {
  const link = conversations(page).getByRole('link', { name: title, exact: true });
  await link.waitFor();
  return link.evaluate(
    (element, text) =>
      new Promise<{ ms: number; articles: number; from: number; to: number }>((resolve) => {
        const page = element.ownerDocument.defaultView!;
        const from = page.performance.now();
        element.click();
        const check = (): void => {
          const articles = element.ownerDocument.querySelectorAll('article');
          const last = articles[articles.length - 1];
          if (last?.textContent?.includes(text)) {
            // Rendered = the frame holding it has been produced.
            page.requestAnimationFrame(() =>
              page.setTimeout(() => {
                const to = page.performance.now();
                resolve({ ms: to - from, articles: articles.length, from, to });
              }),
            );
          } else page.requestAnimationFrame(check);
        };
        check();
      }),
    marker,
  );
}

async function main(): Promise<void> {
  const stack = await startAppStack();
  const browser = await launchBrowser();
  const tokens = markdownTokens(ANSWER_TOKENS);
  const scripted = await startScriptedServer({ upstream: stack.url, tokens, tokensPerSecond: TOKENS_PER_SECOND });
  try {
    const user = await registerUser(stack.url, 'bench');
    await seedConversations(stack.databaseUrl, user.id);

    const page = await newPage(browser);
    await page.context().addInitScript(PROBE);
    page.setDefaultTimeout(60_000);
    await page.goto(scripted.url);
    await logIn(page, user);
    await conversations(page).getByRole('link', { name: LONG_TITLE, exact: true }).waitFor();

    // (2) Opening the long conversation: each time from the short one, so it really loads.
    const opens: { ms: number; articles: number; thread: MainThread }[] = [];
    for (let i = 0; i < OPEN_REPEATS; i++) {
      await openConversation(page, SHORT_TITLE, 'Hi');
      const open = await openConversation(page, LONG_TITLE, END_MARKER);
      opens.push({ ms: open.ms, articles: open.articles, thread: await mainThread(page, open) });
      console.log(`open ${CONVERSATION_MESSAGES} messages #${i + 1}: ${ms(open.ms)} ms (${open.articles} articles in the DOM)`);
    }

    // (1) Streaming the long answer into a new conversation.
    await page.getByRole('button', { name: 'New chat', exact: true }).click();
    await messageBox(page).fill('Write the long guide, please.');
    const from = await now(page);
    await messageBox(page).press('Enter');
    await page.getByRole('button', { name: 'Stop', exact: true }).waitFor();
    await scripted.lastStreamDone();
    const streamEnded = await now(page);
    await page.getByRole('button', { name: 'Stop', exact: true }).waitFor({ state: 'detached', timeout: 300_000 });
    const to = await now(page);
    const rendered = (await answers(page).count()) > 0 ? (await answers(page).last().innerText()).length : 0;
    const streaming = await mainThread(page, { from, to });
    const sourceChars = tokens.join('').length;
    console.log(`stream ${ANSWER_TOKENS} tokens: ${JSON.stringify(streaming)}; UI done ${ms(to - streamEnded)} ms after the last byte`);

    const sortedOpens = opens.map((o) => o.ms).sort((a, b) => a - b);
    const medianOpen = sortedOpens[Math.floor(sortedOpens.length / 2)]!;
    const worstOpenTask = Math.max(...opens.map((o) => o.thread.longestTaskMs));
    const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');
    const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
    const date = new Date().toISOString().slice(0, 10);

    const doc = `# Web UI benchmark

Written by \`npm run bench:ui\` on ${date}: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB,
Node ${process.version}, Chromium ${browser.version()} headless (\`--disable-gpu\`, software rendering), viewport 1280×800.
The page is the real built UI (\`web-ui/dist\`) served by the real gateway, with auth, chat, inference and
PostgreSQL running in the same process as the benchmark (they share the machine's cores with Chromium).

**How.** Measured inside the page: a \`PerformanceObserver\` for \`longtask\` entries (tasks over 50 ms;
total blocking time is the sum of each one's excess over 50 ms) and a \`requestAnimationFrame\` loop
counting frames and the gaps between them.

1. **Streaming a ${ANSWER_TOKENS.toLocaleString('en')}-token answer.** The built-in model's context is 4,096 tokens, so the answer
   comes from a small **fixture HTTP server** (\`test/browser/bench/scripted-server.ts\`) placed in front of
   the gateway: it answers \`POST /api/sessions/:id/messages\` with the real event shape (\`run\`, one
   \`content\` event per token, \`done\`, ids \`<runId>:<seq>\`) at ${TOKENS_PER_SECOND} tokens/s and proxies everything
   else to the real gateway. The text is ${(sourceChars / 1024).toFixed(0)} KiB of generated Markdown (\`markdown-fixture.ts\`): headings,
   prose with inline code and bold, lists, tables and a fenced code block (TypeScript, Python, SQL,
   bash) every third section. Window: from pressing Enter to the Stop button going away.
2. **Opening a ${CONVERSATION_MESSAGES}-message conversation.** ${CONVERSATION_MESSAGES} messages (short questions, answers with Markdown
   and code blocks) inserted into \`chat.messages\` in PostgreSQL and read back by the UI through the real
   API. Window: from the click on the conversation in the sidebar (coming from another conversation)
   to the frame after its last message appears in the page. Repeated ${OPEN_REPEATS} times.

| Measure | Result | Target | |
|---|---|---|---|
| streaming: longest main-thread task | ${ms(streaming.longestTaskMs)} ms | < ${TARGET_LONGEST_TASK_MS} ms | ${verdict(streaming.longestTaskMs < TARGET_LONGEST_TASK_MS)} |
| streaming: long tasks / total blocking time | ${streaming.longTasks} / ${ms(streaming.totalBlockingMs)} ms over ${((to - from) / 1000).toFixed(1)} s | — | |
| streaming: frames | ${streaming.fps.toFixed(1)} fps; p95 gap ${ms(streaming.p95FrameGapMs)} ms, longest ${ms(streaming.longestFrameGapMs)} ms | p95 gap < ${TARGET_P95_FRAME_GAP_MS} ms | ${verdict(streaming.p95FrameGapMs < TARGET_P95_FRAME_GAP_MS)} |
| streaming: UI finished after the last byte | ${ms(to - streamEnded)} ms | — | |
| streaming: answer text in the page | ${rendered.toLocaleString('en')} characters (source ${sourceChars.toLocaleString('en')} with Markdown syntax) | — | |
| open ${CONVERSATION_MESSAGES} messages: click to last message rendered | median ${ms(medianOpen)} ms (runs: ${opens.map((o) => ms(o.ms)).join(', ')}) | < ${TARGET_OPEN_MS} ms | ${verdict(medianOpen < TARGET_OPEN_MS)} |
| open ${CONVERSATION_MESSAGES} messages: longest task | ${ms(worstOpenTask)} ms | — | |
| open ${CONVERSATION_MESSAGES} messages: articles in the DOM | ${opens[0]!.articles} | — | |
`;
    writeFileSync(OUTPUT, doc);
    console.log(doc);
    await page.context().close();
  } finally {
    await scripted.close();
    await browser.close();
    await stack.close();
  }
}

await main();
