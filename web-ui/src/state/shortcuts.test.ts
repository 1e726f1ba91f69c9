import { describe, expect, it } from 'vitest';
import { SHORTCUTS, matchShortcut, shortcutKeys, type KeyPress } from './shortcuts';

const press = (key: string, mods: Partial<KeyPress> = {}): KeyPress => ({
  key,
  code: /^[a-z]$/i.test(key) ? `Key${key.toUpperCase()}` : '',
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});

describe('matchShortcut', () => {
  it('matches Ctrl or Cmd with Shift and the letter, whatever its case', () => {
    expect(matchShortcut(press('O', { ctrlKey: true, shiftKey: true }), false)).toBe('newChat');
    expect(matchShortcut(press('o', { metaKey: true, shiftKey: true }), false)).toBe('newChat');
    expect(matchShortcut(press('C', { ctrlKey: true, shiftKey: true }), false)).toBe('copyLastAnswer');
    expect(matchShortcut(press('S', { metaKey: true, shiftKey: true }), false)).toBe('toggleSidebar');
    expect(matchShortcut(press('k', { ctrlKey: true }), false)).toBe('searchConversations');
  });

  it('matches a letter by its physical key on another layout', () => {
    expect(matchShortcut({ ...press('щ', { ctrlKey: true, shiftKey: true }), code: 'KeyO' }, false)).toBe('newChat');
  });

  it('needs exactly the modifiers of the shortcut', () => {
    expect(matchShortcut(press('o', { ctrlKey: true }), false)).toBeNull();
    expect(matchShortcut(press('k', { ctrlKey: true, shiftKey: true }), false)).toBeNull();
    expect(matchShortcut(press('O', { shiftKey: true }), false)).toBeNull();
    expect(matchShortcut(press('o', { ctrlKey: true, shiftKey: true, altKey: true }), false)).toBeNull();
    expect(matchShortcut(press('c', { ctrlKey: true }), false)).toBeNull(); // plain copy stays the browser's
  });

  it('tells Esc (stop) from Shift+Esc (focus the message box)', () => {
    expect(matchShortcut(press('Escape'), false)).toBe('stop');
    expect(matchShortcut(press('Escape', { shiftKey: true }), true)).toBe('focusComposer');
  });

  it('opens the overlay on ? but not while typing, where ? is a character', () => {
    expect(matchShortcut(press('?', { shiftKey: true }), false)).toBe('showShortcuts');
    expect(matchShortcut(press('?', { shiftKey: true }), true)).toBeNull();
    expect(matchShortcut(press('/'), false)).toBeNull();
  });

  it('lets the modifier combinations work while typing', () => {
    expect(matchShortcut(press('o', { ctrlKey: true, shiftKey: true }), true)).toBe('newChat');
    expect(matchShortcut(press('k', { metaKey: true }), true)).toBe('searchConversations');
  });

  it('ignores plain letters', () => {
    expect(matchShortcut(press('k'), false)).toBeNull();
    expect(matchShortcut(press('O', { shiftKey: true }), true)).toBeNull();
  });
});

describe('shortcutKeys', () => {
  const newChat = SHORTCUTS.find((s) => s.action === 'newChat')!;
  it('writes Ctrl elsewhere and the Mac symbols on a Mac', () => {
    expect(shortcutKeys(newChat, false)).toEqual(['Ctrl', 'Shift', 'O']);
    expect(shortcutKeys(newChat, true)).toEqual(['⌘', '⇧', 'O']);
    expect(shortcutKeys(SHORTCUTS.find((s) => s.action === 'focusComposer')!, false)).toEqual(['Shift', 'Esc']);
  });
});
