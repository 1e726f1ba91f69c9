// The keyboard shortcuts: which key press means which action, and how each is written in the `?`
// overlay. Pure: the components install the listeners and do the work.

export type ShortcutAction = 'newChat' | 'focusComposer' | 'searchConversations' | 'stop' | 'copyLastAnswer' | 'toggleSidebar' | 'showShortcuts';

export interface Shortcut {
  readonly action: ShortcutAction;
  /** A letter matches by its key or by its physical key (KeyO), so other keyboard layouts work too. */
  readonly key: string;
  /** Ctrl, or Cmd on a Mac. */
  readonly mod: boolean;
  readonly shift: boolean;
  /** Whether it fires while the focus is in a text field; plain keys there are typing. */
  readonly whileTyping: boolean;
}

/** The key press: the fields of a KeyboardEvent that decide. */
export type KeyPress = Pick<KeyboardEvent, 'key' | 'code' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'>;

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'newChat', key: 'o', mod: true, shift: true, whileTyping: true },
  { action: 'focusComposer', key: 'Escape', mod: false, shift: true, whileTyping: true },
  { action: 'searchConversations', key: 'k', mod: true, shift: false, whileTyping: true },
  { action: 'stop', key: 'Escape', mod: false, shift: false, whileTyping: true },
  { action: 'copyLastAnswer', key: 'c', mod: true, shift: true, whileTyping: true },
  { action: 'toggleSidebar', key: 's', mod: true, shift: true, whileTyping: true },
  // `?` is Shift+/ on most layouts: the shift state is not checked, only the character.
  { action: 'showShortcuts', key: '?', mod: false, shift: false, whileTyping: false },
];

const isLetter = (key: string): boolean => /^[a-z]$/.test(key);

function matches(shortcut: Shortcut, press: KeyPress): boolean {
  if (press.altKey) return false;
  if ((press.ctrlKey || press.metaKey) !== shortcut.mod) return false;
  if (shortcut.key === '?') return press.key === '?';
  if (press.shiftKey !== shortcut.shift) return false;
  if (isLetter(shortcut.key)) return press.key.toLowerCase() === shortcut.key || press.code === `Key${shortcut.key.toUpperCase()}`;
  return press.key === shortcut.key;
}

/** The action a key press asks for; null when none, or when it is typing in a field. */
export function matchShortcut(press: KeyPress, typing: boolean): ShortcutAction | null {
  const found = SHORTCUTS.find((s) => matches(s, press) && (s.whileTyping || !typing));
  return found?.action ?? null;
}

/** The keys to press, as written on this platform: ['Ctrl', 'Shift', 'O'] or ['⌘', '⇧', 'O']. */
export function shortcutKeys(shortcut: Shortcut, mac: boolean): string[] {
  const keys: string[] = [];
  if (shortcut.mod) keys.push(mac ? '⌘' : 'Ctrl');
  if (shortcut.shift) keys.push(mac ? '⇧' : 'Shift');
  keys.push(shortcut.key === 'Escape' ? 'Esc' : shortcut.key.toUpperCase());
  return keys;
}

/** Whether the platform writes Cmd for the modifier. */
export const isMacPlatform = (platform: string): boolean => /Mac|iPhone|iPad/.test(platform);
