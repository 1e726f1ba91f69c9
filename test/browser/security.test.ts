// The browser side of the gateway's hardening, in real Chromium against the whole stack: the built UI
// runs under the gateway's strict Content-Security-Policy without a single violation (sign up, send,
// the settings panel, a streamed answer), the built UI ships no source maps, and a login refused by
// the rate limit is said in words on the login form.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS } from '../../services/gateway/test/support/stack.js';
import { answerFinished, logIn, newAccount, newPage, send, setMaxTokens, signUp, WEB_UI_DIST } from './support/app.js';
import { watchCspViolations } from './support/csp.js';
import { useAppSuite } from './support/suite.js';

// Two logins per IP per minute: the third is refused (sign-up is register, not login).
const app = useAppSuite({ gateway: { rateLimit: { ...GENEROUS_RATE_LIMITS, login: { perIp: { max: 2, windowMs: 60_000 } } } } });
let page: Page;

describe('browser security', { timeout: 90_000 }, () => {
  it('the built UI runs under the strict Content-Security-Policy with no violations', async () => {
    page = app.page = await newPage(app.browser);
    const violations = await watchCspViolations(page);
    const response = await page.goto(app.stack.url);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response?.headers()['x-content-type-options']).toBe('nosniff');
    expect(response?.headers()['referrer-policy']).toBe('no-referrer');

    await signUp(page, app.stack.url);
    await setMaxTokens(page, 8);
    await send(page, 'Say **hello** in `code`:\n\n```js\nconsole.log(1)\n```');
    await answerFinished(page);
    await page.reload();
    await page.getByRole('button', { name: 'Log out', exact: true }).waitFor();
    expect(await violations()).toEqual([]);
    // The watcher does see a violation: an inline <style> element is refused.
    await page.evaluate(`document.head.appendChild(Object.assign(document.createElement('style'), { textContent: 'body { color: red }' }))`);
    await expect.poll(async () => (await violations()).some((violation) => violation.startsWith('style-src'))).toBe(true);
  });

  it('the built UI has no source maps, and the gateway serves none', async () => {
    const files = readdirSync(WEB_UI_DIST, { recursive: true }).map(String);
    expect(files.some((file) => file.endsWith('.js'))).toBe(true);
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    const script = files.find((file) => file.endsWith('.js'))!;
    const map = await fetch(`${app.stack.url}/${script.split(path.sep).join('/')}.map`);
    expect(map.headers.get('content-type') ?? '').not.toContain('json');
  });

  it('a login refused by the rate limit says so on the login form', async () => {
    page = app.page = await newPage(app.browser);
    await page.goto(app.stack.url);
    await page.getByRole('button', { name: 'Log in', exact: true }).waitFor();
    const account = newAccount('limited');
    for (let i = 0; i < 2; i++) {
      const refused = page.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
      await logIn(page, account);
      expect((await refused).status()).toBe(401);
    }
    const limited = page.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
    await logIn(page, account);
    expect((await limited).status()).toBe(429);
    const alert = page.getByRole('alert');
    await expect.poll(async () => (await alert.innerText()).trim()).toBe('Too many requests. Please wait a moment and try again.');
  });
});
