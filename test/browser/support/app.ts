// The browser tests' world: the whole backend in this process (the gateway's stack harness) serving
// the built web UI, Debian's Chromium driven by playwright-core, and the few steps a person takes
// again and again (sign up, send a message), located by accessible names only.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import { jsonRequest } from '../../../services/gateway/test/support/http.js';
import { startStack, type Stack, type StackOptions } from '../../../services/gateway/test/support/stack.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The built UI; FREECHAT_TEST_WEB_UI_DIR points elsewhere (e.g. a build of work in progress). */
export const WEB_UI_DIST = path.resolve(process.env['FREECHAT_TEST_WEB_UI_DIR'] ?? path.join(ROOT, 'web-ui', 'dist'));
export const SCREENSHOT_DIR = path.join(ROOT, 'test-output', 'screenshots');

/** Absolute path of the built UI; refuses to go on without it rather than test the placeholder page. */
export function webUiDir(): string {
  if (!existsSync(path.join(WEB_UI_DIST, 'index.html'))) {
    throw new Error(`${path.join(WEB_UI_DIST, 'index.html')} is missing: build the web UI first (make build, or npm run build -w web-ui)`);
  }
  return WEB_UI_DIST;
}

export async function startAppStack(options: Omit<StackOptions, 'gateway'> & { gateway?: StackOptions['gateway'] } = {}): Promise<Stack> {
  const dir = webUiDir();
  // The browser tests assert on titles taken from first messages; the model's titles would replace them.
  return startStack({ generatedTitles: false, ...options, gateway: { ...options.gateway, webUi: { dir } } });
}

export const CHROMIUM_PATH = process.env['FREECHAT_CHROMIUM'] ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: run scripts/ensure-chromium.sh`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** A fresh context and page, in English unless `options.locale` says otherwise; the caller closes the context. */
export async function newPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', ...options });
  context.setDefaultTimeout(15_000);
  return context.newPage();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // Not mid-transition (a drawer sliding in); endless animations (a pulsing dot) are left running.
  await page
    .waitForFunction(
      `document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)`,
      undefined,
      { timeout: 2_000 },
    )
    .catch(() => {});
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: false });
}

export interface Account {
  readonly username: string;
  readonly password: string;
}

let accounts = 0;

export function newAccount(prefix = 'browser'): Account {
  return { username: `${prefix}_${process.pid}_${++accounts}`, password: 'correct horse battery staple' };
}

/** Opens the app and creates an account through the form; resolves once the app shell shows. */
export async function signUp(page: Page, url: string, account: Account = newAccount()): Promise<Account> {
  await page.goto(url);
  await page.getByLabel('Username').fill(account.username);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  // The message box: on a phone "New chat" and "Log out" sit in the folded sidebar.
  await messageBox(page).waitFor();
  return account;
}

export async function logIn(page: Page, account: Account): Promise<void> {
  await page.getByLabel('Username').fill(account.username);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}


export const messageBox = (page: Page): Locator => page.getByRole('textbox', { name: 'Message', exact: true });
export const answers = (page: Page): Locator => page.getByRole('article', { name: 'Assistant', exact: true });
export const questions = (page: Page): Locator => page.getByRole('article', { name: 'You', exact: true });
export const conversations = (page: Page): Locator => page.getByRole('navigation', { name: 'Conversations', exact: true });

/** Types a message and presses Enter, as a person does. */
export async function send(page: Page, text: string): Promise<void> {
  await messageBox(page).fill(text);
  await messageBox(page).press('Enter');
}

/** Waits until the last answer has ended: it offers "Regenerate" and nothing offers "Stop". */
export async function answerFinished(page: Page, timeout = 60_000): Promise<void> {
  // Every ended answer offers Regenerate: the last one's says this one has ended.
  await answers(page).last().getByRole('button', { name: 'Regenerate', exact: true }).waitFor({ timeout });
  await page.getByRole('button', { name: 'Stop', exact: true }).waitFor({ state: 'detached', timeout });
}

/** Sets "Max tokens" in the settings panel (saved for the account, cached in localStorage) and closes the panel again. */
export async function setMaxTokens(page: Page, tokens: number): Promise<void> {
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await page.getByRole('spinbutton', { name: 'Max tokens', exact: true }).fill(String(tokens));
  await page.getByRole('spinbutton', { name: 'Max tokens', exact: true }).press('Tab');
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
}

/** The visible text with runs of whitespace made single spaces (rendered Markdown collapses them). */
export const squash = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** Samples a locator's text every `intervalMs` until `done()` holds; returns the distinct texts seen in order. */
export async function sampleText(locator: Locator, done: () => Promise<boolean>, options: { intervalMs?: number; timeoutMs?: number } = {}): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`still not done after ${options.timeoutMs ?? 60_000} ms; texts seen: ${seen.length}`);
    const text = (await locator.count()) > 0 ? await locator.innerText() : '';
    if (text !== seen.at(-1)) seen.push(text);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
  return seen;
}

/** Resolves once `condition` holds, polling; fails with `what` after the timeout. */
export async function until(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface StoredMessage {
  readonly id: string;
  readonly role: 'user' | 'assistant';
  readonly content: string;
  readonly reasoning: string;
  readonly status: 'complete' | 'streaming' | 'stopped' | 'error';
}

/** What the API has stored for the account's most recently active conversation. */
export async function storedLatestConversation(url: string, account: Account): Promise<{ title: string; messages: StoredMessage[] }> {
  const login = await jsonRequest(url, '/api/auth/login', { method: 'POST', body: account });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  const token: string = login.body.accessToken;
  const sessions = await jsonRequest(url, '/api/sessions?pageSize=1', { token });
  const session = sessions.body.sessions[0];
  if (!session) throw new Error('the account has no conversation');
  const messages = await jsonRequest(url, `/api/sessions/${session.id}/messages`, { token });
  return { title: session.title, messages: messages.body.messages };
}
