// The conversation, scrolled to the newest message while the user is at the bottom; scrolling up
// pauses that until they return to the bottom.
import { useCallback, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatMessage } from '../state/conversation';
import { Message } from './Message';

const BOTTOM_SLACK_PX = 48;

export interface MessageListProps {
  readonly messages: readonly ChatMessage[];
  readonly busy: boolean;
  /** Changes when the list must jump to the bottom (a new conversation, a message sent). */
  readonly scrollToken: number;
  readonly onRegenerate: () => void;
  readonly onEdit: (content: string) => void;
  readonly children?: preact.ComponentChildren;
}

export function MessageList({ messages, busy, scrollToken, onRegenerate, onEdit, children }: MessageListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [away, setAway] = useState(false);

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK_PX;
    stick.current = atBottom;
    setAway(!atBottom);
  }, []);

  const toBottom = useCallback(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, []);

  useLayoutEffect(() => {
    stick.current = true;
    setAway(false);
    toBottom();
  }, [scrollToken, toBottom]);

  useLayoutEffect(() => {
    if (stick.current) toBottom();
  }, [messages, toBottom]);

  let lastUser = -1;
  let lastAnswer = -1;
  messages.forEach((m, i) => {
    if (m.role === 'user') lastUser = i;
    else lastAnswer = i;
  });
  if (lastAnswer < lastUser) lastAnswer = -1;

  return (
    <div class="scroller" ref={scroller} onScroll={onScroll}>
      <div class="column messages">
        {messages.map((message, i) => (
          <Message
            key={message.key}
            message={message}
            isLastUser={i === lastUser}
            isLastAnswer={i === lastAnswer}
            busy={busy}
            onRegenerate={onRegenerate}
            onEdit={onEdit}
          />
        ))}
        {children}
      </div>
      {away && (
        <button
          type="button"
          class="jump"
          onClick={() => {
            stick.current = true;
            setAway(false);
            toBottom();
          }}
        >
          Scroll to latest
        </button>
      )}
    </div>
  );
}
