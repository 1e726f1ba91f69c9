// The API reference at /api/docs in real Chromium against the whole stack: it renders every route
// group and operation from the gateway's own files under the strict Content-Security-Policy (no
// CDN, no violation), and a developer can authorize with an access token and try an operation.
import { describe, expect, it } from 'vitest';
import { registerUser } from '../../services/gateway/test/support/http.js';
import { newPage, screenshot } from './support/app.js';
import { watchCspViolations } from './support/csp.js';
import { useAppSuite } from './support/suite.js';

const app = useAppSuite();
/**
 * What Swagger UI tries and the gateway's policy refuses, without loss (see api-docs.ts): one inline
 * <style> element React inserts (the page is fully styled by its stylesheet files), and webpack's
 * `new Function('return this')`, which falls back to `window` when refused.
 */
const HARMLESS_REFUSALS = [/^style-src-elem inline$/, /^Applying inline style violates/, /^script-src eval$/, /^Evaluating a string as JavaScript violates/];

describe('API reference', { timeout: 90_000 }, () => {
  it('renders the operations from the gateway alone, under the strict CSP, and tries GET /api/me with a token', async () => {
    const page = (app.page = await newPage(app.browser));
    const violations = await watchCspViolations(page);
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(app.stack.url) && !request.url().startsWith('data:')) foreign.push(request.url());
    });
    await page.goto(`${app.stack.url}/api/docs`);
    await page.getByRole('heading', { name: /Free Chat API/ }).waitFor();
    for (const tag of ['Auth', 'Sessions', 'Messages', 'Runs', 'Models', 'Usage']) {
      // A group's heading also names its collapse button.
      await expect.poll(() => page.getByRole('heading', { name: new RegExp(`^${tag}\\b`) }).count(), { message: tag }).toBe(1);
    }
    await page.getByText('Send a message; the answer streams back').waitFor();
    await page.getByText('List sessions, newest first').waitFor();
    await screenshot(page, 'api-docs');

    const user = await registerUser(app.stack.url, 'docs');
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    // Swagger UI's modal has no dialog role: its class is the only handle on it.
    const modal = page.locator('.modal-ux');
    await modal.getByLabel('Value').fill(user.accessToken);
    await modal.getByRole('button', { name: 'Apply credentials' }).click();
    await modal.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByText('The signed-in user').click();
    await page.getByRole('button', { name: 'Try it out' }).click();
    await page.getByRole('button', { name: 'Execute' }).click();
    const answer = page.locator('.live-responses-table');
    await expect.poll(() => answer.innerText()).toContain(user.username);
    await answer.scrollIntoViewIfNeeded();
    await screenshot(page, 'api-docs-try-me');

    expect(foreign).toEqual([]);
    expect((await violations()).filter((violation) => !HARMLESS_REFUSALS.some((known) => known.test(violation)))).toEqual([]);
  });
});
