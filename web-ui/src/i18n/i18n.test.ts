import { describe, expect, it } from 'vitest';
import { DICTIONARIES, initialLocale, pickLocale, translate } from './index';

describe('dictionaries', () => {
  it('have exactly the same keys in English and Simplified Chinese', () => {
    expect(Object.keys(DICTIONARIES['zh-CN']).sort()).toEqual(Object.keys(DICTIONARIES.en).sort());
  });

  it('have the same kind of entry (text or a function of the same arity) for each key', () => {
    for (const [key, entry] of Object.entries(DICTIONARIES.en)) {
      const other: unknown = DICTIONARIES['zh-CN'][key as keyof typeof DICTIONARIES.en];
      expect(typeof other, key).toBe(typeof entry);
      if (typeof entry === 'function') expect((other as (...a: unknown[]) => string).length, key).toBe(entry.length);
      else expect(String(other).trim(), key).not.toBe('');
    }
  });
});

describe('translate', () => {
  it('counts with the language’s plural rules and number formatting', () => {
    expect(translate('en', 'usage.none', 1)).toBe('No answers in the last 1 day.');
    expect(translate('en', 'usage.none', 30)).toBe('No answers in the last 30 days.');
    expect(translate('en', 'message.tokens', 12345)).toBe('12,345 tokens');
    expect(translate('en', 'message.tokens', 1)).toBe('1 token');
    expect(translate('zh-CN', 'message.tokens', 12345)).toBe('12,345 个 token');
    expect(translate('zh-CN', 'usage.none', 30)).toBe('最近 30 天没有回答。');
    expect(translate('en', 'data.imported', 2, 8)).toBe('Imported 2 conversations (8 messages).');
    expect(translate('en', 'data.imported', 1, 1)).toBe('Imported 1 conversation (1 message).');
    expect(translate('zh-CN', 'data.imported', 2, 1234)).toBe('已导入 2 个对话（1,234 条消息）。');
  });

  it('puts a name into the labels that carry one', () => {
    expect(translate('en', 'sidebar.pinNamed', 'Trip')).toBe('Pin Trip');
    expect(translate('en', 'sidebar.unpinNamed', 'Trip')).toBe('Unpin Trip');
    expect(translate('en', 'sidebar.clearTagNamed', 'work')).toBe('Clear the tag filter work');
    expect(translate('zh-CN', 'sidebar.editTagsNamed', '旅行')).toBe('编辑 旅行 的标签');
    expect(translate('zh-CN', 'shared.documentTitleNamed', '旅行')).toBe('旅行 · 分享 · Free Chat');
  });

  it('gives each language its own text', () => {
    expect(translate('en', 'sidebar.newChat')).toBe('New chat');
    expect(translate('zh-CN', 'sidebar.newChat')).toBe('新对话');
  });
});

describe('pickLocale', () => {
  it('takes the first browser language the UI speaks', () => {
    expect(pickLocale(['zh-CN', 'en-US'])).toBe('zh-CN');
    expect(pickLocale(['en-GB', 'zh-CN'])).toBe('en');
    expect(pickLocale(['fr-FR', 'zh-Hans-CN', 'en'])).toBe('zh-CN');
    expect(pickLocale(['zh'])).toBe('zh-CN');
  });

  it('falls back to English', () => {
    expect(pickLocale(['de-DE', 'fr'])).toBe('en');
    expect(pickLocale([])).toBe('en');
  });

  it('prefers the choice stored from Settings, ignoring anything unknown', () => {
    expect(initialLocale('en', ['zh-CN'])).toBe('en');
    expect(initialLocale('zh-CN', ['en-US'])).toBe('zh-CN');
    expect(initialLocale('klingon', ['zh-CN'])).toBe('zh-CN');
    expect(initialLocale(null, ['en-US'])).toBe('en');
  });
});
