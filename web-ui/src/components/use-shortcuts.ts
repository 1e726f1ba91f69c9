// Installs the keyboard shortcuts a component handles (state/shortcuts.ts decides which key is
// which); each component registers only the actions it can carry out.
import { useEffect, useRef } from 'preact/hooks';
import { matchShortcut, type ShortcutAction } from '../state/shortcuts';

export type ShortcutHandlers = Partial<Record<ShortcutAction, () => void>>;

/** Whether the key press lands in a field where keys are text. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'submit', 'reset', 'range', 'color', 'file'].includes(target.type);
}

export function useShortcuts(handlers: ShortcutHandlers): void {
  const current = useRef(handlers);
  current.current = handlers;
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      // A modal dialog owns the keyboard; an input method composing a character owns its keys.
      if (e.defaultPrevented || e.isComposing || document.querySelector('dialog[open]')) return;
      const action = matchShortcut(e, isTypingTarget(e.target));
      const handler = action === null ? undefined : current.current[action];
      if (!handler) return;
      e.preventDefault();
      handler();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}
