// The message box docked at the bottom: Enter sends, Shift+Enter breaks the line; Stop while an
// answer streams.
import { useEffect, useRef } from 'preact/hooks';

export interface ComposerProps {
  readonly draft: string;
  readonly onDraft: (text: string) => void;
  readonly busy: boolean;
  readonly onSend: (text: string) => void;
  readonly onStop: () => void;
  readonly settingsOpen: boolean;
  readonly onToggleSettings: () => void;
  readonly focusToken: number;
}

const MAX_HEIGHT_PX = 240;

export function Composer({ draft, onDraft, busy, onSend, onStop, settingsOpen, onToggleSettings, focusToken }: ComposerProps) {
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(MAX_HEIGHT_PX, el.scrollHeight)}px`;
  }, [draft]);
  useEffect(() => area.current?.focus(), [focusToken]);

  const canSend = !busy && draft.trim() !== '';
  const send = (): void => {
    if (canSend) onSend(draft);
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <textarea
        ref={area}
        aria-label="Message"
        placeholder="Message Free Chat"
        rows={1}
        value={draft}
        onInput={(e) => onDraft(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      <div class="composer-bar">
        <button type="button" class="button ghost small" aria-expanded={settingsOpen} aria-controls="settings-panel" onClick={onToggleSettings}>
          Settings
        </button>
        <span class="hint">Enter to send · Shift+Enter for a new line</span>
        {busy ? (
          <button type="button" class="button stop" onClick={onStop}>
            Stop
          </button>
        ) : (
          <button type="submit" class="button primary" disabled={!canSend}>
            Send
          </button>
        )}
      </div>
    </form>
  );
}
