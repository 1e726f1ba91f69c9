// Settings in the browser: they are the person's, not the browser's (a second browser with nothing
// cached gets them at login), and the theme toggle pins light or dark over the system's scheme,
// already before the first paint. Real Chromium against the whole stack.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { jsonRequest } from '../../services/gateway/test/support/http.js';
import { logIn, messageBox, newPage, screenshot, send, signUp, until, type Account } from './support/app.js';
import { useAppSuite } from './support/suite.js';

const app = useAppSuite();
let page: Page;

const openSettings = (p: Page) => p.getByRole('button', { name: 'Settings', exact: true }).click();
const themeOf = (p: Page) => p.evaluate<string | null>(`document.documentElement.dataset['theme'] ?? null`);
/** What form controls and the page's colours follow: `light` or `dark` (`light dark` before any theme). */
const colourSchemeOf = (p: Page) => p.evaluate<string>('getComputedStyle(document.documentElement).colorScheme');
/** The page's background brightness, 0 (black) to 255 (white). */
const brightnessOf = async (p: Page): Promise<number> => {
  const colour = await p.evaluate<string>('getComputedStyle(document.body).backgroundColor');
  const [r, g, b] = (colour.match(/[\d.]+/g) ?? []).map(Number);
  return (r! + g! + b!) / 3;
};

/** The account's settings as the server has them. */
async function savedSettings(account: Account): Promise<Record<string, unknown>> {
  const login = await jsonRequest(app.stack.url, '/api/auth/login', { method: 'POST', body: account });
  return (await jsonRequest(app.stack.url, '/api/me/settings', { token: login.body.accessToken })).body;
}

describe('settings', { timeout: 90_000 }, () => {
  it('follow the person to a second browser: temperature, thinking and the dark theme', async () => {
    page = app.page = await newPage(app.browser, { colorScheme: 'light' });
    const account = await signUp(page, app.stack.url);
    expect(await brightnessOf(page)).toBeGreaterThan(200);

    await openSettings(page);
    await page.getByRole('checkbox', { name: 'Thinking', exact: true }).uncheck();
    await page.getByRole('spinbutton', { name: 'Temperature', exact: true }).fill('1.3');
    await page.getByRole('spinbutton', { name: 'Temperature', exact: true }).press('Tab');
    await page.getByRole('radio', { name: 'Dark', exact: true }).check();
    // At once, before any answer from the server.
    expect(await themeOf(page)).toBe('dark');
    expect(await colourSchemeOf(page)).toBe('dark');
    expect(await brightnessOf(page)).toBeLessThan(100);
    await screenshot(page, 'theme-toggle');
    await until('the settings to be saved', async () => {
      const saved = await savedSettings(account);
      return saved['theme'] === 'dark' && saved['thinking'] === false && saved['temperature'] === 1.3;
    });

    // Another browser: a fresh context, nothing in its localStorage, a light system scheme.
    const second = await newPage(app.browser, { colorScheme: 'light' });
    try {
      await second.goto(app.stack.url);
      expect(await second.evaluate<number>('localStorage.length')).toBe(0);
      expect(await brightnessOf(second)).toBeGreaterThan(200);
      await logIn(second, account);
      await messageBox(second).waitFor();
      await until('the server’s theme to apply', async () => (await themeOf(second)) === 'dark');
      expect(await brightnessOf(second)).toBeLessThan(100);
      await openSettings(second);
      expect(await second.getByRole('checkbox', { name: 'Thinking', exact: true }).isChecked()).toBe(false);
      expect(await second.getByRole('spinbutton', { name: 'Temperature', exact: true }).inputValue()).toBe('1.3');
      expect(await second.getByRole('radio', { name: 'Dark', exact: true }).isChecked()).toBe(true);
      // And they are what a question is sent with.
      const request = second.waitForRequest((r) => r.method() === 'POST' && /\/api\/sessions\/[^/]+\/messages$/.test(r.url()));
      await send(second, 'Which settings do I use?');
      expect((await request).postDataJSON()).toMatchObject({ enableThinking: false, params: { temperature: 1.3 } });
    } finally {
      await second.context().close();
    }
  });

  it('a change made just before logging out is saved, not lost in the pause before saving', async () => {
    page = app.page = await newPage(app.browser);
    const account = await signUp(page, app.stack.url);
    await openSettings(page);
    await page.getByRole('spinbutton', { name: 'Max tokens', exact: true }).fill('300');
    await page.getByRole('spinbutton', { name: 'Max tokens', exact: true }).press('Tab');
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await page.getByRole('button', { name: 'Log in', exact: true }).waitFor();
    expect(await savedSettings(account)).toMatchObject({ maxTokens: 300 });
  });

  it('Light overrides a dark system scheme, from the first paint of the next visit', async () => {
    page = app.page = await newPage(app.browser, { colorScheme: 'dark' });
    const account = await signUp(page, app.stack.url);
    // Theme System follows the dark scheme.
    expect(await themeOf(page)).toBeNull();
    expect(await brightnessOf(page)).toBeLessThan(100);

    await openSettings(page);
    await page.getByRole('radio', { name: 'Light', exact: true }).check();
    expect(await themeOf(page)).toBe('light');
    // Form controls too: the checkbox and number fields are drawn light.
    expect(await colourSchemeOf(page)).toBe('light');
    expect(await brightnessOf(page)).toBeGreaterThan(200);
    await screenshot(page, 'theme-light-over-dark');
    await until('the theme to be saved', async () => (await savedSettings(account))['theme'] === 'light');

    // Next visit: while the session is still being restored (the refresh held back), nothing of the
    // app's own code has run but the pre-paint script, and the page is already light.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/auth/refresh', async (route) => {
      await held;
      await route.continue();
    });
    await page.reload();
    await page.locator('.splash[aria-busy="true"]').waitFor();
    expect(await themeOf(page)).toBe('light');
    expect(await brightnessOf(page)).toBeGreaterThan(200);
    release();
    await messageBox(page).waitFor();

    // Back to System: dark again.
    await openSettings(page);
    await page.getByRole('radio', { name: 'System', exact: true }).check();
    expect(await themeOf(page)).toBeNull();
    expect(await colourSchemeOf(page)).toBe('light dark');
    expect(await brightnessOf(page)).toBeLessThan(100);
  });
});
