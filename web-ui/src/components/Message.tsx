import { memo } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import { answerStats, canContinue, type ChatMessage } from '../state/conversation';
import { copyText } from './copy-code';
import { Markdown } from './Markdown';
import { Thinking } from './Thinking';
import { activeLocale, t } from '../i18n';
import { useLocale } from './use-locale';

export interface MessageProps {
  readonly message: ChatMessage;
  /** The latest answer: announced to screen readers as it streams. */
  readonly isLastAnswer: boolean;
  readonly busy: boolean;
  /** Answers this question, or the question of this answer, again (a new answer beside this one). */
  readonly onRegenerate: (key: string) => void;
  /** Set on the branch's last message: goes on with it when the token limit cut it. */
  readonly onContinue?: ((key: string) => void) | undefined;
  /** Sends an edit of this question beside it. */
  readonly onEdit: (key: string, content: string) => void;
  /** Shows the branch through a sibling of this message. */
  readonly onSwitch: (messageId: string) => void;
  /** Starts a new conversation from the branch up to this message. */
  readonly onFork: (messageId: string) => void;
}

/** `‹ 2/3 ›` on a message with siblings: the other versions of this question or answer. */
function Versions({ message, busy, onSwitch }: Pick<MessageProps, 'message' | 'busy' | 'onSwitch'>) {
  const ids = message.siblingIds;
  const at = message.id === null ? ids.length : ids.indexOf(message.id);
  if (ids.length < 2 || at < 0) return null;
  const to = (i: number) => () => {
    const id = ids[i];
    if (id !== undefined) onSwitch(id);
  };
  return (
    <div class="versions" role="group" aria-label={t('message.versions')}>
      <button type="button" class="button ghost small" aria-label={t('message.previousVersion')} disabled={busy || at === 0} onClick={to(at - 1)}>
        ‹
      </button>
      <span class="version-count">
        {Math.min(at + 1, ids.length)}/{ids.length}
      </span>
      <button type="button" class="button ghost small" aria-label={t('message.nextVersion')} disabled={busy || at >= ids.length - 1} onClick={to(at + 1)}>
        ›
      </button>
    </div>
  );
}

/** Copies the message's Markdown source, saying so for a moment. */
function CopyButton({ text }: { readonly text: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 1_500);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <button type="button" class="button ghost small" onClick={() => void copyText(text).then((ok) => setState(ok ? 'copied' : 'failed'))}>
      {state === 'copied' ? t('message.copied') : state === 'failed' ? t('message.copyFailed') : t('message.copy')}
    </button>
  );
}

/** "Fork": a new conversation with everything up to this message. */
function ForkButton({ message, busy, onFork }: Pick<MessageProps, 'message' | 'busy' | 'onFork'>) {
  if (busy || message.id === null) return null;
  const id = message.id;
  return (
    <button type="button" class="button ghost small" title={t('message.forkTitle')} onClick={() => onFork(id)}>
      {t('message.fork')}
    </button>
  );
}

/** When the message was written, shown while the pointer is over it (or it has focus). */
function WrittenAt({ iso }: { readonly iso: string | null }) {
  if (iso === null) return null;
  const at = new Date(iso);
  return (
    <time class="written-at" dateTime={iso} title={at.toLocaleString(activeLocale())}>
      {at.toLocaleTimeString(activeLocale(), { hour: '2-digit', minute: '2-digit' })}
    </time>
  );
}

/** "128 tokens · 21.4 tokens/s · first after 0.3 s" under an ended answer. */
function AnswerStats({ message }: { readonly message: ChatMessage }) {
  const stats = answerStats(message);
  if (!stats) return null;
  const parts = [t('message.tokens', stats.tokens)];
  if (stats.tokensPerSecond !== null) parts.push(t('message.tokensPerSecond', stats.tokensPerSecond));
  if (stats.firstTokenSeconds !== null) parts.push(t('message.firstToken', stats.firstTokenSeconds));
  return <span class="answer-stats">{parts.join(' · ')}</span>;
}

function UserMessage({ message, busy, onEdit, onSwitch, onFork }: MessageProps) {
  useLocale();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (editing) area.current?.focus();
  }, [editing]);
  const save = (): void => {
    if (draft.trim() === '') return;
    setEditing(false);
    onEdit(message.key, draft);
  };
  return (
    <article class="message user" aria-label={t('message.you')}>
      {editing ? (
        <div class="edit">
          <textarea
            ref={area}
            aria-label={t('message.editField')}
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
              {t('dialog.cancel')}
            </button>
            <button type="button" class="button primary" onClick={save} disabled={draft.trim() === ''}>
              {t('message.saveAndSend')}
            </button>
          </div>
        </div>
      ) : (
        <>
          <div class="bubble">{message.content}</div>
          <div class="message-actions">
            <Versions message={message} busy={busy} onSwitch={onSwitch} />
            <WrittenAt iso={message.createdAt} />
            <CopyButton text={message.content} />
            {!busy && message.id !== null && (
              <button
                type="button"
                class="button ghost small"
                onClick={() => {
                  setDraft(message.content);
                  setEditing(true);
                }}
              >
                {t('message.edit')}
              </button>
            )}
            <ForkButton message={message} busy={busy} onFork={onFork} />
          </div>
        </>
      )}
    </article>
  );
}

function AssistantMessage({ message, isLastAnswer, busy, onRegenerate, onContinue, onSwitch, onFork }: MessageProps) {
  useLocale();
  const streaming = message.status === 'streaming';
  const waiting = streaming && message.content === '' && message.reasoning === '';
  return (
    <article class="message assistant" aria-label={t('message.assistant')}>
      {(message.reasoning !== '' || message.thinking) && <Thinking reasoning={message.reasoning} thinking={message.thinking} thinkingMs={message.thinkingMs} />}
      <div class="answer" {...(isLastAnswer ? { 'aria-live': 'polite' } : {})}>
        {waiting ? (
          <div class="typing" aria-label={t('message.waiting')}>
            <span />
            <span />
            <span />
          </div>
        ) : (
          <Markdown text={message.content} streaming={streaming} />
        )}
      </div>
      {message.status === 'stopped' && <p class="note">{t('message.stopped')}</p>}
      {!streaming && message.finishReason === 'length' && <p class="note">{t('message.cutAtLimit')}</p>}
      {message.error && <p class="note error-note">{message.error}</p>}
      {!streaming && (
        <div class="message-actions">
          <Versions message={message} busy={busy} onSwitch={onSwitch} />
          <CopyButton text={message.content} />
          {!busy && onContinue && canContinue(message) && (
            <button type="button" class="button ghost small" onClick={() => onContinue(message.key)}>
              {t('message.continue')}
            </button>
          )}
          {!busy && message.id !== null && (
            <button type="button" class="button ghost small" onClick={() => onRegenerate(message.key)}>
              {t('message.regenerate')}
            </button>
          )}
          <ForkButton message={message} busy={busy} onFork={onFork} />
          <AnswerStats message={message} />
          <WrittenAt iso={message.createdAt} />
        </div>
      )}
    </article>
  );
}

export const Message = memo((props: MessageProps) => (props.message.role === 'user' ? <UserMessage {...props} /> : <AssistantMessage {...props} />));
