// One stack and one browser per test file, a fresh context per test, and a screenshot of the page
// a failing test leaves behind: the lifecycle every browser test file shares.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Stack } from '../../../services/gateway/test/support/stack.js';
import { launchBrowser, screenshot, startAppStack } from './app.js';

export interface AppSuite {
  readonly stack: Stack;
  readonly browser: Browser;
  /** The page the running test opened; closed (with its context) after each test. */
  page: Page | undefined;
}

export function useAppSuite(options: Parameters<typeof startAppStack>[0] = {}): AppSuite {
  const suite = { page: undefined } as { stack: Stack; browser: Browser; page: Page | undefined };
  beforeAll(async () => {
    [suite.stack, suite.browser] = await Promise.all([startAppStack(options), launchBrowser()]);
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.stack?.close();
  });
  afterEach(async ({ task }) => {
    const page = suite.page;
    suite.page = undefined;
    if (task.result?.state === 'fail' && page) await screenshot(page, `failed-${task.name}`).catch(() => {});
    await page?.context().close();
  });
  return suite;
}
