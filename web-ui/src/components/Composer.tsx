// The message box docked at the bottom: Enter sends, Shift+Enter breaks the line; Stop while an
// answer streams. Says so when the draft is likely too long for the model (the server decides).
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { promptLengthWarning } from '../state/prompt-length';
import { t } from '../i18n';

export interface ComposerProps {
  readonly draft: string;
  readonly onDraft: (text: string) => void;
  readonly busy: boolean;
  readonly onSend: (text: string) => void;
  readonly onStop: () => void;
  readonly settingsOpen: boolean;
  readonly onToggleSettings: () => void;
  readonly focusToken: number;
  /** The model's prompt limit in tokens, when known. */
  readonly maxPromptTokens?: number | undefined;
}

const MAX_HEIGHT_PX = 240;

export function Composer({ draft, onDraft, busy, onSend, onStop, settingsOpen, onToggleSettings, focusToken, maxPromptTokens }: ComposerProps) {
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(MAX_HEIGHT_PX, el.scrollHeight)}px`;
  }, [draft]);
  useEffect(() => area.current?.focus(), [focusToken]);

  const tooLong = useMemo(() => promptLengthWarning(draft, maxPromptTokens), [draft, maxPromptTokens]);
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
        aria-label={t('composer.label')}
        placeholder={t('composer.placeholder')}
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
          {t('composer.settings')}
        </button>
        {tooLong ? (
          // Not a block: the estimate is rough, and the server's refusal names the real counts.
          <span class="hint too-long" role="status">
            {tooLong}
          </span>
        ) : (
          <span class="hint">{t('composer.hint')}</span>
        )}
        {busy ? (
          <button type="button" class="button stop" onClick={onStop}>
            {t('composer.stop')}
          </button>
        ) : (
          <button type="submit" class="button primary" disabled={!canSend}>
            {t('composer.send')}
          </button>
        )}
      </div>
    </form>
  );
}
