// Content-Security-Policy violations a page reports, from the DOM event and from the console: the
// browser tests that check a page runs under the gateway's strict policy.
import type { ConsoleMessage, Page } from 'playwright-core';

/** Starts watching `target` (before it navigates); the returned function lists what was refused so far. */
export async function watchCspViolations(target: Page): Promise<() => Promise<string[]>> {
  const consoleErrors: string[] = [];
  target.on('console', (message: ConsoleMessage) => {
    if (/Content Security Policy/i.test(message.text())) consoleErrors.push(message.text());
  });
  // As source text: this project's tests compile without the DOM library.
  await target.addInitScript(`
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));
  `);
  return async () => [...consoleErrors, ...((await target.evaluate('window.cspViolations')) as string[])];
}
