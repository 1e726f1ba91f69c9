// "This conversation": its own system prompt and model, beside the person's settings. The prompt is
// saved a moment after typing stops and when the field is left (a new chat's is kept at once), the
// model when it is picked.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ModelInfo, SessionChanges } from '../api/types';
import { t } from '../i18n';
import { useLocale } from './use-locale';

/** The longest system prompt the API takes. */
const MAX_SYSTEM_PROMPT = 8000;
/** How long after the last key a conversation's prompt is saved. */
const SAVE_AFTER_MS = 600;

export interface ConversationSettingsProps {
  readonly systemPrompt: string;
  /** Empty: the default model. */
  readonly model: string;
  readonly models: readonly ModelInfo[];
  /** A new chat keeps them until its first message creates it. */
  readonly pending: boolean;
  readonly onChange: (changes: SessionChanges) => void;
}

export function ConversationSettings({ systemPrompt, model, models, pending, onChange }: ConversationSettingsProps) {
  useLocale();
  const [draft, setDraft] = useState(systemPrompt);
  useEffect(() => setDraft(systemPrompt), [systemPrompt]);
  const saving = useRef<{ timer: ReturnType<typeof setTimeout>; value: string } | null>(null);
  const save = (value: string): void => {
    if (saving.current) clearTimeout(saving.current.timer);
    saving.current = null;
    if (value !== systemPrompt) onChange({ systemPrompt: value });
  };
  const typed = (value: string): void => {
    setDraft(value);
    if (pending) return save(value);
    if (saving.current) clearTimeout(saving.current.timer);
    saving.current = { timer: setTimeout(() => save(value), SAVE_AFTER_MS), value };
  };
  // Leaving the conversation (or closing the panel) saves what was typed, against the latest props.
  const latestSave = useRef(save);
  latestSave.current = save;
  useEffect(() => () => saving.current && latestSave.current(saving.current.value), []);
  // A model chosen earlier that is no longer served stays visible, so the choice is not silently lost.
  const ids = models.map((m) => m.id);
  if (model !== '' && !ids.includes(model)) ids.push(model);
  return (
    <section class="settings conversation-settings" aria-label={t('conversation.settings')}>
      <label class="system-prompt">
        <span>{t('conversation.systemPrompt')}</span>
        <textarea
          rows={2}
          maxLength={MAX_SYSTEM_PROMPT}
          placeholder={t('conversation.systemPromptPlaceholder')}
          value={draft}
          onInput={(e) => typed(e.currentTarget.value)}
          onBlur={(e) => save(e.currentTarget.value)}
        />
      </label>
      <label>
        {t('conversation.model')}
        <select value={model} onChange={(e) => onChange({ model: e.currentTarget.value })}>
          <option value="">{t('conversation.defaultModel', models[0]?.id ?? null)}</option>
          {ids.map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
      </label>
      {pending && <p class="usage">{t('conversation.pending')}</p>}
    </section>
  );
}
