// Accounts in the browser: sign up lands in the app, log out and back in, a wrong password is said
// out loud, and the built-in model banner is there. Real Chromium against the whole stack.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { logIn, newAccount, newPage, screenshot, signUp } from './support/app.js';
import { useAppSuite } from './support/suite.js';

const app = useAppSuite();
let page: Page;

describe('accounts', { timeout: 60_000 }, () => {
  it('sign up lands in the app; log out shows the login form; logging in again works', async () => {
    page = app.page = await newPage(app.browser);
    await page.goto(app.stack.url);
    await page.getByRole('button', { name: 'Create account', exact: true }).waitFor();
    await screenshot(page, 'login');

    const account = await signUp(page, app.stack.url);
    expect(await page.getByLabel('Message', { exact: true }).isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await page.getByRole('button', { name: 'Log in', exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'New chat', exact: true }).count()).toBe(0);

    await logIn(page, account);
    await page.getByRole('button', { name: 'Log out', exact: true }).waitFor();
    // A reload keeps the person logged in (the refresh token survives it).
    await page.reload();
    await page.getByRole('button', { name: 'Log out', exact: true }).waitFor();
  });

  it('a wrong password is reported in role=alert and the form stays', async () => {
    page = app.page = await newPage(app.browser);
    const account = await signUp(page, app.stack.url);
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await logIn(page, { ...account, password: 'not the password' });
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = (await alert.innerText()).trim();
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toMatch(/unauthenticated|\{|internal|stack/i);
    expect(await page.getByRole('button', { name: 'Log out', exact: true }).count()).toBe(0);
  });

  it('an unknown user is refused the same way', async () => {
    page = app.page = await newPage(app.browser);
    await page.goto(app.stack.url);
    await logIn(page, newAccount('nobody'));
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('button', { name: 'Log out', exact: true }).count()).toBe(0);
  });

  it('the built-in model banner is visible and says what it means', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    const banner = page.getByRole('status').filter({ hasText: 'built-in offline model' });
    await banner.waitFor();
    expect(await banner.innerText()).toContain('This server runs the built-in offline model: its replies are random text.');
    await screenshot(page, 'empty-chat');
  });

  it('keeps the refresh token out of reach of scripts, and several tabs refreshing at once stay signed in', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'freechat_refresh')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/auth' });
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(await page.evaluate('JSON.stringify(Object.values(localStorage))')).not.toContain(cookie.value);

    // Three tabs of one browser load at the same moment: each refreshes with the same cookie.
    const tabs = [page, await page.context().newPage(), await page.context().newPage()];
    await Promise.all(tabs.map((tab) => tab.goto(app.stack.url)));
    for (const tab of tabs) await tab.getByRole('button', { name: 'Log out', exact: true }).waitFor();
    // And the session survives it: a later load still gets in.
    await tabs[1]!.reload();
    await tabs[1]!.getByRole('button', { name: 'Log out', exact: true }).waitFor();
    for (const tab of tabs.slice(1)) await tab.close();
  });
});
