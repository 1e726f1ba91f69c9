import { memo } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatMessage } from '../state/conversation';
import { Markdown } from './Markdown';
import { Thinking } from './Thinking';

export interface MessageProps {
  readonly message: ChatMessage;
  readonly isLastUser: boolean;
  readonly isLastAnswer: boolean;
  readonly busy: boolean;
  readonly onRegenerate: () => void;
  readonly onEdit: (content: string) => void;
}

function UserMessage({ message, isLastUser, busy, onEdit }: MessageProps) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (editing) area.current?.focus();
  }, [editing]);
  const save = (): void => {
    if (draft.trim() === '') return;
    setEditing(false);
    onEdit(draft);
  };
  return (
    <article class="message user" aria-label="You">
      {editing ? (
        <div class="edit">
          <textarea
            ref={area}
            aria-label="Edit message"
            value={draft}
            rows={Math.min(12, Math.max(2, draft.split('\n').length))}
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setEditing(false);
              else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                save();
              }
            }}
          />
          <div class="edit-actions">
            <button type="button" class="button ghost" onClick={() => setEditing(false)}>
              Cancel
            </button>
            <button type="button" class="button primary" onClick={save} disabled={draft.trim() === ''}>
              Save and send
            </button>
          </div>
        </div>
      ) : (
        <>
          <div class="bubble">{message.content}</div>
          {isLastUser && !busy && (
            <div class="message-actions">
              <button
                type="button"
                class="button ghost small"
                onClick={() => {
                  setDraft(message.content);
                  setEditing(true);
                }}
              >
                Edit
              </button>
            </div>
          )}
        </>
      )}
    </article>
  );
}

function AssistantMessage({ message, isLastAnswer, busy, onRegenerate }: MessageProps) {
  const streaming = message.status === 'streaming';
  const waiting = streaming && message.content === '' && message.reasoning === '';
  return (
    <article class="message assistant" aria-label="Assistant">
      {(message.reasoning !== '' || message.thinking) && <Thinking reasoning={message.reasoning} thinking={message.thinking} thinkingMs={message.thinkingMs} />}
      <div class="answer" {...(isLastAnswer ? { 'aria-live': 'polite' } : {})}>
        {waiting ? (
          <div class="typing" aria-label="Waiting for the answer">
            <span />
            <span />
            <span />
          </div>
        ) : (
          <Markdown text={message.content} streaming={streaming} />
        )}
      </div>
      {message.status === 'stopped' && <p class="note">Stopped</p>}
      {message.error && <p class="note error-note">{message.error}</p>}
      {isLastAnswer && !busy && (
        <div class="message-actions">
          <button type="button" class="button ghost small" onClick={onRegenerate}>
            Regenerate
          </button>
        </div>
      )}
    </article>
  );
}

export const Message = memo((props: MessageProps) => (props.message.role === 'user' ? <UserMessage {...props} /> : <AssistantMessage {...props} />));
