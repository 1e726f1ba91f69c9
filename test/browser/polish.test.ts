// Everyday polish in the browser: keyboard shortcuts and their `?` overlay, drafts kept per
// conversation across reloads, the installable web app's manifest and icons, and the UI in
// Simplified Chinese with a switch back to English in Settings. Real Chromium against the whole stack.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { answerFinished, answers, conversations, messageBox, newAccount, newPage, screenshot, send, signUp, storedLatestConversation, until, type Account } from './support/app.js';
import { useAppSuite } from './support/suite.js';

// Page-side globals used inside page.evaluate callbacks, which run in Chromium: this project's
// type-check has no DOM library, so they are declared here, loosely.
declare const document: any, navigator: any, Image: any;

const app = useAppSuite();
let page: Page;

const overlay = (p: Page) => p.getByRole('dialog', { name: 'Keyboard shortcuts', exact: true });
const focusedText = (p: Page) => p.evaluate(() => document.activeElement?.textContent?.trim() ?? '');

/** Signs up and has one answered conversation open. */
async function oneConversation(p: Page, question: string): Promise<{ path: string; account: Account }> {
  const account = await signUp(p, app.stack.url);
  await send(p, question);
  await answerFinished(p);
  await until('the conversation in the URL', () => /^\/c\//.test(new URL(p.url()).pathname));
  return { path: new URL(p.url()).pathname, account };
}

describe('keyboard shortcuts', { timeout: 90_000 }, () => {
  it('? opens an overlay listing the shortcuts (not while typing); Esc closes it and gives the focus back', async () => {
    page = app.page = await newPage(app.browser);
    await signUp(page, app.stack.url);

    // In the message box `?` is a character.
    await messageBox(page).press('?');
    expect(await messageBox(page).inputValue()).toBe('?');
    expect(await overlay(page).count()).toBe(0);
    await messageBox(page).fill('');

    await page.getByRole('button', { name: 'Settings', exact: true }).focus();
    await page.keyboard.press('?');
    await overlay(page).waitFor();
    const text = await overlay(page).innerText();
    for (const line of ['New chat', 'Focus the message box', 'Search conversations', 'Stop the answer', 'Copy the last answer', 'Show or hide the sidebar', 'Show keyboard shortcuts']) {
      expect(text).toContain(line);
    }
    const newChatKeys = await overlay(page).locator('.shortcut', { hasText: 'New chat' }).locator('kbd').allInnerTexts();
    expect(newChatKeys).toEqual(['Ctrl', 'Shift', 'O']);
    // Modal: the focus is inside it.
    expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
    await screenshot(page, 'shortcuts-overlay');

    await page.keyboard.press('Escape');
    await overlay(page).waitFor({ state: 'detached' });
    expect(await focusedText(page)).toBe('Settings');
  });

  it('Ctrl+Shift+O starts a new chat; Ctrl+K searches conversations; Ctrl+Shift+S hides the sidebar; Ctrl+Shift+C copies the last answer', async () => {
    page = app.page = await newPage(app.browser, { permissions: ['clipboard-read', 'clipboard-write'] });
    const { account } = await oneConversation(page, 'Shortcut test question');
    const stored = (await storedLatestConversation(app.stack.url, account)).messages.findLast((m) => m.role === 'assistant')!;

    // The answer's Markdown source, as the Copy button under it copies it.
    await messageBox(page).press('Control+Shift+C');
    await until('the answer on the clipboard', async () => (await page.evaluate(() => navigator.clipboard.readText())) === stored.content, 5_000);

    await messageBox(page).press('Control+Shift+O');
    await until('the new chat URL', () => new URL(page.url()).pathname === '/');
    await page.getByRole('heading', { name: 'Start a conversation' }).waitFor();
    expect(await answers(page).count()).toBe(0);
    expect(await messageBox(page).evaluate((el) => el === document.activeElement)).toBe(true);

    await page.keyboard.press('Control+k');
    const filter = page.getByRole('searchbox', { name: 'Search conversations', exact: true });
    await until('the filter focused', () => filter.evaluate((el) => el === document.activeElement));

    await page.keyboard.press('Shift+Escape');
    await until('the message box focused', () => messageBox(page).evaluate((el) => el === document.activeElement));

    await page.keyboard.press('Control+Shift+S');
    await conversations(page).waitFor({ state: 'hidden' });
    await page.keyboard.press('Control+Shift+S');
    await conversations(page).waitFor({ state: 'visible' });
  });
});

describe('drafts', { timeout: 90_000 }, () => {
  it('a draft typed in a conversation survives a reload and comes back after visiting another; sending clears it', async () => {
    page = app.page = await newPage(app.browser);
    const { path } = await oneConversation(page, 'Draft test question');

    await messageBox(page).fill('half a follow-up\nsecond line');
    await page.reload();
    await messageBox(page).waitFor();
    await until('the draft restored', async () => (await messageBox(page).inputValue()) === 'half a follow-up\nsecond line');

    // The new chat has its own (empty) draft; going back shows this conversation's again.
    await page.getByRole('button', { name: 'New chat', exact: true }).click();
    await until('the new chat', () => new URL(page.url()).pathname === '/');
    // The URL changes first, the box's text with the next render.
    await until('the new chat’s empty box', async () => (await messageBox(page).inputValue()) === '');
    await messageBox(page).fill('an idea for later');
    await conversations(page).getByRole('link', { name: 'Draft test question' }).click();
    await until('the conversation again', () => new URL(page.url()).pathname === path);
    await until('its draft back', async () => (await messageBox(page).inputValue()) === 'half a follow-up\nsecond line');

    await messageBox(page).press('Enter');
    await answerFinished(page);
    expect(await messageBox(page).inputValue()).toBe('');
    await page.reload();
    await messageBox(page).waitFor();
    await answers(page).last().waitFor();
    expect(await messageBox(page).inputValue()).toBe('');
    // The new chat's draft was kept too.
    await page.getByRole('button', { name: 'New chat', exact: true }).click();
    await until('the new chat draft', async () => (await messageBox(page).inputValue()) === 'an idea for later');
  });
});

describe('installable web app', { timeout: 60_000 }, () => {
  it('the manifest is linked and served, and its icons load at their sizes', async () => {
    page = app.page = await newPage(app.browser);
    await page.goto(app.stack.url);
    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    expect(href).toBe('/manifest.webmanifest');
    expect(await page.locator('meta[name="theme-color"]').count()).toBeGreaterThan(0);

    const response = await page.request.get(new URL(href!, app.stack.url).toString());
    expect(response.status()).toBe(200);
    const manifest = (await response.json()) as { name: string; short_name: string; start_url: string; display: string; icons: { src: string; sizes: string; type: string; purpose: string }[] };
    expect(manifest).toMatchObject({ name: 'Free Chat', short_name: 'Free Chat', start_url: '/', display: 'standalone' });
    const pngs = manifest.icons.filter((i) => i.type === 'image/png');
    expect(pngs.map((i) => `${i.sizes} ${i.purpose}`).sort()).toEqual(['192x192 any', '192x192 maskable', '512x512 any', '512x512 maskable']);
    expect(manifest.icons.some((i) => i.type === 'image/svg+xml')).toBe(true);

    for (const icon of manifest.icons) {
      // Loaded by the page itself, under its Content-Security-Policy.
      const width = await page.evaluate(async (src) => {
        const img = new Image();
        img.src = src;
        await img.decode();
        return img.naturalWidth;
      }, icon.src);
      if (icon.sizes !== 'any') expect(`${width}x${width}`).toBe(icon.sizes);
      else expect(width).toBeGreaterThan(0);
    }
  });
});

describe('languages', { timeout: 90_000 }, () => {
  it('a browser in Chinese gets the UI in Chinese; Settings switches it to English, which stays', async () => {
    page = app.page = await newPage(app.browser, { locale: 'zh-CN' });
    await page.goto(app.stack.url);
    const account = newAccount('zh');
    await page.getByLabel('用户名').fill(account.username);
    await page.getByLabel('密码').fill(account.password);
    await page.getByRole('button', { name: '创建账号', exact: true }).click();

    const box = page.getByRole('textbox', { name: '消息', exact: true });
    await box.waitFor();
    expect(await box.getAttribute('placeholder')).toBe('给 Free Chat 发消息');
    await page.getByRole('button', { name: '新对话', exact: true }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    // A short answer, so the screenshot shows the whole conversation.
    await page.getByRole('button', { name: '设置', exact: true }).click();
    await page.getByRole('spinbutton', { name: '最大 token 数', exact: true }).fill('40');
    await page.getByRole('spinbutton', { name: '最大 token 数', exact: true }).press('Tab');
    await page.getByRole('button', { name: '设置', exact: true }).click();
    await box.fill('你好');
    await box.press('Enter');
    await page.getByRole('article', { name: '助手' }).last().getByRole('button', { name: '重新生成', exact: true }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: '设置', exact: true }).click();
    await screenshot(page, 'ui-zh-CN');
    await page.getByRole('button', { name: '设置', exact: true }).click();

    // The sidebar in Chinese: search box, a second conversation, the first one pinned and tagged.
    const search = page.getByRole('searchbox', { name: '搜索对话', exact: true });
    expect(await search.getAttribute('placeholder')).toBe('搜索对话');
    await page.getByRole('button', { name: '新对话', exact: true }).click();
    await box.fill('周末计划');
    await box.press('Enter');
    await page.getByRole('article', { name: '助手' }).last().getByRole('button', { name: '重新生成', exact: true }).waitFor({ timeout: 60_000 });
    const list = page.getByRole('navigation', { name: '对话列表', exact: true });
    await list.getByRole('button', { name: '置顶 你好', exact: true }).click();
    await list.getByRole('list', { name: '已置顶', exact: true }).waitFor();
    expect(await list.getByRole('heading').allTextContents()).toEqual(['已置顶', '最近']);
    expect(await list.getByRole('button', { name: '取消置顶 你好', exact: true }).getAttribute('title')).toBe('取消置顶');
    await list.getByRole('button', { name: '编辑 你好 的标签', exact: true }).click();
    const tags = list.getByRole('textbox', { name: '你好 的标签', exact: true });
    expect(await tags.getAttribute('placeholder')).toBe('标签，用逗号分隔');
    await tags.fill('工作, 想法');
    await tags.press('Enter');
    await until('the tag chips', async () => (await list.locator('.tag-chip').allInnerTexts()).join() === '工作,想法');
    expect(await page.getByRole('button', { name: '导出全部数据', exact: true }).count()).toBe(1);
    // Nothing in the sidebar is left in English (the product name aside): texts, labels, tooltips, placeholders.
    const sidebarText = await page.evaluate(() => {
      const sidebar = document.getElementById('sidebar');
      const attributes = [...sidebar.querySelectorAll('[aria-label], [title], [placeholder]')].flatMap((el: any) =>
        ['aria-label', 'title', 'placeholder'].map((name) => el.getAttribute(name) ?? ''),
      );
      return [sidebar.innerText, ...attributes].join('\n');
    });
    expect(sidebarText.replaceAll('Free Chat', '').replaceAll(account.username, '').match(/[A-Za-z]{2,}/g)).toBeNull();
    await list.getByRole('link', { name: '你好', exact: true }).hover();
    await screenshot(page, 'ui-zh-CN-sidebar');
    // The open conversation's menu too.
    const menu = page.locator('summary[aria-label="对话操作"]');
    await menu.click();
    expect(await page.getByRole('menuitem').allInnerTexts()).toEqual(['导出为 Markdown', '导出为 JSON', '分享…']);
    await screenshot(page, 'ui-zh-CN-menu');
    await menu.click();

    await page.getByRole('button', { name: '设置', exact: true }).click();
    await page.getByRole('combobox', { name: '语言' }).selectOption('en');
    await page.getByRole('button', { name: 'New chat', exact: true }).waitFor();
    expect(await messageBox(page).getAttribute('placeholder')).toBe('Message Free Chat');
    expect(await answers(page).last().getByRole('button', { name: 'Regenerate', exact: true }).count()).toBe(1);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');

    await page.reload();
    await page.getByRole('button', { name: 'New chat', exact: true }).waitFor();
    expect(await messageBox(page).getAttribute('placeholder')).toBe('Message Free Chat');
  });
});
