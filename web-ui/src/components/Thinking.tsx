// The model's reasoning, apart from the answer: open while it thinks, folded when the answer
// starts; once the user opens or closes it, their choice wins over every later update.
import { useState } from 'preact/hooks';
import { t } from '../i18n';

export function thinkingLabel(thinking: boolean, thinkingMs: number | null): string {
  if (thinking) return t('message.thinking');
  if (thinkingMs === null) return t('message.thoughtProcess');
  return t('message.thoughtFor', Math.max(1, Math.round(thinkingMs / 1000)));
}

export function Thinking({ reasoning, thinking, thinkingMs }: { reasoning: string; thinking: boolean; thinkingMs: number | null }) {
  const [choice, setChoice] = useState<boolean | null>(null);
  const open = choice ?? thinking;
  return (
    <details
      class="thinking"
      open={open}
      onToggle={(event) => {
        const now = (event.currentTarget as HTMLDetailsElement).open;
        if (now !== open) setChoice(now);
      }}
    >
      <summary>
        <span class={thinking ? 'thinking-dot active' : 'thinking-dot'} aria-hidden="true" />
        {thinkingLabel(thinking, thinkingMs)}
      </summary>
      <div class="thinking-body">{reasoning}</div>
    </details>
  );
}
