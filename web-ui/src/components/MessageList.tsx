// The conversation, scrolled to the newest message while the user is at the bottom; scrolling up
// pauses that until they return to the bottom. A long conversation opens with its latest messages
// only; earlier ones render when the user scrolls up to them (the scroll position is kept). Older
// pages than the server sent come with "Show earlier messages" at the top, in place too.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatMessage } from '../state/conversation';
import { Message } from './Message';

const BOTTOM_SLACK_PX = 48;
const PAGE = 40;

export interface MessageListProps {
  readonly messages: readonly ChatMessage[];
  readonly busy: boolean;
  /** Changes when the list must jump to the bottom (a new conversation, a message sent). */
  readonly scrollToken: number;
  readonly onRegenerate: () => void;
  readonly onEdit: (content: string) => void;
  /** Present while older messages are on the server: adds them on top, resolving with how many. */
  readonly onLoadEarlier?: (() => Promise<number>) | undefined;
  readonly children?: preact.ComponentChildren;
}

export function MessageList({ messages, busy, scrollToken, onRegenerate, onEdit, onLoadEarlier, children }: MessageListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [away, setAway] = useState(false);
  // How many of the latest messages render. Counted from the end, so a list that changes under us
  // (another conversation's messages arriving) never hides a short conversation.
  const [shown, setShown] = useState(PAGE);
  const sentinel = useRef<HTMLDivElement>(null);
  const heightBefore = useRef<number | null>(null);
  const [loadingEarlier, setLoadingEarlier] = useState(false);
  // Messages put on top (an older page from the server) show at once: the window grows by as many,
  // in the very render that adds them, so what the user was reading never jumps.
  const firstKey = useRef(messages[0]?.key);
  const prepended = useRef(0);
  if (messages[0]?.key !== firstKey.current) {
    const moved = firstKey.current === undefined ? -1 : messages.findIndex((m) => m.key === firstKey.current);
    if (moved > 0) prepended.current += moved;
    firstKey.current = messages[0]?.key;
  }
  const skip = Math.max(0, messages.length - shown - prepended.current);
  // When an older page was asked for: the message at the top of the screen, where it was, and how
  // many had been put on top by then. Anchored to an element, not to scrollHeight: messages off
  // screen (content-visibility: auto) change height when they are first laid out, which would
  // move a height-based restore by hundreds of pixels.
  const pageRequest = useRef<{ anchor: Element; top: number; prepended: number } | null>(null);

  const showEarlier = async (): Promise<void> => {
    const el = scroller.current;
    if (!onLoadEarlier || loadingEarlier || !el) return;
    setLoadingEarlier(true);
    // Reading up, not following the latest: the bottom must not pull the list down.
    stick.current = false;
    const anchor = topVisible(el);
    pageRequest.current = anchor ? { anchor, top: offsetIn(el, anchor), prepended: prepended.current } : null;
    try {
      // Nothing added (failed, or nothing older after all): no place to restore.
      if ((await onLoadEarlier()) === 0) pageRequest.current = null;
    } finally {
      setLoadingEarlier(false);
    }
  };

  useEffect(() => {
    const el = sentinel.current;
    if (!el || skip === 0) return;
    const observer = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      heightBefore.current = scroller.current?.scrollHeight ?? null;
      setShown((n) => n + PAGE);
    }, { root: scroller.current, rootMargin: '600px 0px 0px 0px' });
    observer.observe(el);
    return () => observer.disconnect();
  }, [skip]);

  // Earlier messages were added above: keep what the user was looking at in place.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && heightBefore.current !== null) {
      el.scrollTop += el.scrollHeight - heightBefore.current;
      heightBefore.current = null;
    }
  }, [skip]);
  useLayoutEffect(() => {
    const el = scroller.current;
    const request = pageRequest.current;
    if (el && request && prepended.current !== request.prepended) {
      el.scrollTop += offsetIn(el, request.anchor) - request.top;
      pageRequest.current = null;
    }
  }, [messages]);

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
        {skip > 0 && (
          <div ref={sentinel} class="loading">
            Loading earlier messages…
          </div>
        )}
        {skip === 0 && onLoadEarlier && (
          <div class="earlier">
            <button type="button" class="button" disabled={loadingEarlier} onClick={() => void showEarlier()}>
              {loadingEarlier ? 'Loading earlier messages…' : 'Show earlier messages'}
            </button>
          </div>
        )}
        {messages.slice(skip).map((message, j) => {
          const i = j + skip;
          return (
          <Message
            key={message.key}
            message={message}
            isLastUser={i === lastUser}
            isLastAnswer={i === lastAnswer}
            busy={busy}
            onRegenerate={onRegenerate}
            onEdit={onEdit}
          />
          );
        })}
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

/** The first message whose bottom is below the top of the scroller: what the user is looking at. */
function topVisible(scroller: HTMLElement): Element | undefined {
  const top = scroller.getBoundingClientRect().top;
  return [...scroller.querySelectorAll('article')].find((article) => article.getBoundingClientRect().bottom > top);
}

function offsetIn(scroller: HTMLElement, element: Element): number {
  return element.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
}
