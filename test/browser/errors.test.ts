// Errors said plainly in the browser: a refused login, the account rules before the first submit,
// a conversation URL that leads nowhere, a stream gone silent (Stop still works), and an API that
// cannot be reached at load (Retry, not the login form). Real Chromium against the whole stack;
// the gateway's heartbeat is slowed down here so that a paused engine means real silence.
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { answerFinished, logIn, messageBox, newAccount, newPage, screenshot, send, signUp, squash } from './support/app.js';
import { createEngineControl } from './support/engine-control.js';
import { useAppSuite } from './support/suite.js';

const engine = createEngineControl();
const app = useAppSuite({ engineFactory: engine.engineFactory, gateway: { sse: { heartbeatMs: 60_000 } } });
let page: Page;

afterEach(() => engine.reset());

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const notFound = (p: Page) => p.getByRole('heading', { name: /This conversation doesn.t exist or was deleted/ });

describe('errors in the browser', { timeout: 90_000 }, () => {
  it('a wrong password and an unknown user both say "Wrong username or password."', async () => {
    page = app.page = await newPage(app.browser);
    const account = await signUp(page, app.stack.url);
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await logIn(page, { ...account, password: 'not the password' });
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(squash(await alert.innerText())).toBe('Wrong username or password.');

    await page.reload();
    await logIn(page, newAccount('nobody'));
    await alert.waitFor();
    expect(squash(await alert.innerText())).toBe('Wrong username or password.');
    expect(await page.getByRole('button', { name: 'Log out', exact: true }).count()).toBe(0);
  });

  it('the account rules are on the form before the first submit, tied to the password field', async () => {
    page = app.page = await newPage(app.browser);
    await page.goto(app.stack.url);
    const password = page.getByLabel('Password', { exact: true });
    await password.waitFor();
    const rules = page.locator(`#${await password.getAttribute('aria-describedby')}`);
    const text = squash(await rules.innerText());
    expect(text).toContain('8 to 256 characters');
    expect(text).toContain('3 to 32 letters, digits');
    expect(await rules.isVisible()).toBe(true);
  });

  it('an unknown or deleted conversation URL shows a friendly page with a way to a new chat', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await page.goto(`${app.stack.url}/c/${UNKNOWN_ID}`);
    await notFound(page).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    await screenshot(page, 'conversation-not-found');
    await page.getByRole('button', { name: 'Start a new chat', exact: true }).click();
    await messageBox(page).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');

    engine.set({ contentScript: 'Soon gone.' });
    await send(page, 'Delete me later');
    await answerFinished(page);
    const deletedPath = new URL(page.url()).pathname;
    expect(deletedPath).toMatch(/^\/c\//);
    await page.getByRole('button', { name: 'Delete Delete me later', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.goto(`${app.stack.url}${deletedPath}`);
    await notFound(page).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('a silent stream says "Server not responding — still trying", and Stop still stops it', async () => {
    page = app.page = await newPage(app.browser);
    // The real wait is 30 s; this page's is 1.5 s.
    await page.context().addInitScript(`localStorage.setItem('freechat.stallTimeoutMs', '1500')`);
    await signUp(page, app.stack.url);
    // Each delta waits 6 s and the heartbeat is a minute away: after the `run` event, silence.
    engine.set({ delayMs: 6_000 });
    await send(page, 'Are you there?');
    const stalled = page.getByRole('alert').filter({ hasText: 'Server not responding — still trying' });
    await stalled.waitFor({ timeout: 10_000 });
    await screenshot(page, 'stream-stalled');

    const stopRequest = page.waitForRequest((r) => r.method() === 'POST' && /\/api\/runs\/[^/]+\/stop$/.test(new URL(r.url()).pathname));
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    const response = await (await stopRequest).response();
    expect(response?.status()).toBeLessThan(300);
    await answerFinished(page, 30_000);
    expect(await stalled.count()).toBe(0);
  });

  it('with the API unreachable at load a signed-in person gets Retry, not the login form', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await page.route('**/api/**', (route) => route.abort('connectionrefused'));
    await page.reload();
    const retry = page.getByRole('button', { name: 'Retry', exact: true });
    await retry.waitFor();
    expect(squash(await page.getByRole('alert').innerText())).toMatch(/reach the server/);
    expect(await page.getByRole('button', { name: 'Log in', exact: true }).count()).toBe(0);
    await screenshot(page, 'api-unreachable');

    await page.unroute('**/api/**');
    await retry.click();
    await messageBox(page).waitFor();
    expect(await page.getByRole('button', { name: 'Log out', exact: true }).isVisible()).toBe(true);
  });

  // Last in this file: it stops the auth service for good.
  it('with the auth service down at load (503) it is Retry too, and a reload after keeps the session', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    await app.stack.auth.close();
    await page.reload();
    await page.getByRole('button', { name: 'Retry', exact: true }).waitFor({ timeout: 20_000 });
    expect(squash(await page.getByRole('alert').innerText())).toMatch(/temporarily unavailable|went wrong/);
    expect(await page.getByRole('button', { name: 'Log in', exact: true }).count()).toBe(0);
    // The session was not thrown away: its cookie is still there to try again with.
    expect(await page.evaluate(`localStorage.getItem('freechat.signedIn')`)).toBe('1');
    expect((await page.context().cookies()).map((c) => c.name)).toContain('freechat_refresh');
  });
});
