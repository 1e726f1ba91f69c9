// The message box's text, kept per conversation (state/drafts.ts): saved a moment after typing
// stops, at once when emptied (sent), before another conversation is shown, and when the page is left.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { createDraftStore } from '../state/drafts';

const SAVE_DELAY_MS = 400;

export type DraftSetter = (next: string | ((current: string) => string)) => void;

export function useDraft(userId: string, sessionId: string | null): [string, DraftSetter] {
  const store = useMemo(() => createDraftStore(localStorage, userId), [userId]);
  const [draft, setDraftState] = useState(() => store.load(sessionId));
  // The conversation whose draft the box shows, and the text not saved yet.
  const owner = useRef(sessionId);
  const text = useRef(draft);
  const pending = useRef<{ sessionId: string | null; text: string } | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const flush = useCallback(() => {
    clearTimeout(timer.current);
    const unsaved = pending.current;
    pending.current = null;
    if (unsaved) store.save(unsaved.sessionId, unsaved.text);
  }, [store]);

  // Before the browser paints: the box never shows the previous conversation's draft, even for a frame.
  useLayoutEffect(() => {
    if (owner.current === sessionId) return;
    flush();
    owner.current = sessionId;
    text.current = store.load(sessionId);
    setDraftState(text.current);
  }, [store, sessionId, flush]);

  useEffect(() => {
    addEventListener('pagehide', flush);
    return () => {
      removeEventListener('pagehide', flush);
      flush();
    };
  }, [flush]);

  const setDraft = useCallback<DraftSetter>(
    (next) => {
      text.current = typeof next === 'function' ? next(text.current) : next;
      setDraftState(text.current);
      pending.current = { sessionId: owner.current, text: text.current };
      clearTimeout(timer.current);
      if (text.current === '') flush();
      else timer.current = setTimeout(flush, SAVE_DELAY_MS);
    },
    [flush],
  );
  return [draft, setDraft];
}
