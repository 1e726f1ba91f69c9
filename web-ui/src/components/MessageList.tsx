// The conversation, scrolled to the newest message while the user is at the bottom; scrolling up
// pauses that until they return to the bottom. A long conversation opens with its latest messages
// only; earlier ones render when the user scrolls up to them (the scroll position is kept). Older
// pages than the server sent come with "Show earlier messages" at the top, in place too.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatMessage } from '../state/conversation';
import { Message } from './Message';
import { t } from '../i18n';

const BOTTOM_SLACK_PX = 48;
const PAGE = 40;

export interface MessageListProps {
  readonly messages: readonly ChatMessage[];
  readonly busy: boolean;
  /** Changes when the list must jump to the bottom (a new conversation, a message sent). */
  readonly scrollToken: number;
  readonly onRegenerate: (key: string) => void;
  /** Goes on with the last answer, cut at the token limit. */
  readonly onContinue: (key: string) => void;
  readonly onEdit: (key: string, content: string) => void;
  readonly onSwitch: (messageId: string) => void;
  readonly onFork: (messageId: string) => void;
  /** Present while older messages are on the server: adds them on top, resolving with how many. */
  readonly onLoadEarlier?: (() => Promise<number>) | undefined;
  readonly children?: preact.ComponentChildren;
}

export function MessageList({ messages, busy, scrollToken, onRegenerate, onContinue, onEdit, onSwitch, onFork, onLoadEarlier, children }: MessageListProps) {
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
  // Stops the pinning of the last restore (see pinInPlace), if it is still going.
  const unpin = useRef<() => void>(() => {});
  useEffect(() => () => unpin.current(), []);

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
      unpin.current();
      unpin.current = pinInPlace(el, request.anchor, request.top);
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
    // Going to the latest supersedes keeping an older message in place.
    unpin.current();
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

  const lastAnswer = messages.at(-1)?.role === 'assistant' ? messages.length - 1 : -1;

  return (
    <div class="scroller" ref={scroller} onScroll={onScroll}>
      <div class="column messages">
        {skip > 0 && (
          <div ref={sentinel} class="loading">
            {t('chat.loadingEarlier')}
          </div>
        )}
        {skip === 0 && onLoadEarlier && (
          <div class="earlier">
            <button type="button" class="button" disabled={loadingEarlier} onClick={() => void showEarlier()}>
              {loadingEarlier ? t('chat.loadingEarlier') : t('chat.showEarlier')}
            </button>
          </div>
        )}
        {messages.slice(skip).map((message, j) => {
          const i = j + skip;
          return (
          <Message
            key={message.key}
            message={message}
            isLastAnswer={i === lastAnswer}
            busy={busy}
            onRegenerate={onRegenerate}
            onContinue={i === messages.length - 1 ? onContinue : undefined}
            onEdit={onEdit}
            onSwitch={onSwitch}
            onFork={onFork}
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
          {t('chat.scrollToLatest')}
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

/** Frames in a row without a correction after which the place counts as settled. */
const SETTLED_FRAMES = 3;
/** Gives up after this many frames even if something keeps moving (about a second). */
const MAX_PIN_FRAMES = 60;

/**
 * Puts `anchor` `top` px below the top of the scroller now, and keeps it there until layout has
 * settled. One correction in the commit is not enough: it is measured while the messages just
 * added above are still off screen with content-visibility: auto, counted at their placeholder
 * height (contain-intrinsic-size); those near the screen get their real height in the next frames,
 * moving everything below them. Chromium's scroll anchoring absorbs that; without it (Safari has
 * none; Chromium with overflow-anchor: none) the place ended ~700 px off. So: measure again each
 * frame and correct (before that frame paints: animation frame callbacks run ahead of layout and
 * paint), until nothing moved for SETTLED_FRAMES frames. Meanwhile this replaces the browser's
 * scroll anchoring (overflow-anchor: none), so that any scroll not made here is someone else's
 * (the user's wheel, keys or scrollbar, find in page) and ends the pinning at once instead of
 * being fought. Returns a function that stops it early.
 */
function pinInPlace(scroller: HTMLElement, anchor: Element, top: number): () => void {
  const anchoring = scroller.style.overflowAnchor;
  scroller.style.overflowAnchor = 'none';
  let expected = scroller.scrollTop;
  // Scrolls by how far the anchor drifted; whether the scroll position changed (not when there was
  // no drift, or the scroller could not go further).
  const correct = (): boolean => {
    const drift = offsetIn(scroller, anchor) - top;
    if (Math.abs(drift) < 1) return false;
    const before = scroller.scrollTop;
    scroller.scrollTop = before + drift;
    expected = scroller.scrollTop;
    return Math.abs(expected - before) >= 1;
  };
  let frame = 0;
  let frames = 0;
  let quiet = 0;
  const stop = (): void => {
    cancelAnimationFrame(frame);
    scroller.removeEventListener('scroll', onScroll);
    scroller.style.overflowAnchor = anchoring;
  };
  // Scroll events for our own corrections find the position we set; any other position is a
  // scroll by someone else.
  const onScroll = (): void => {
    if (Math.abs(scroller.scrollTop - expected) >= 1) stop();
  };
  const tick = (): void => {
    quiet = correct() ? 0 : quiet + 1;
    if (quiet >= SETTLED_FRAMES || ++frames >= MAX_PIN_FRAMES || !anchor.isConnected) stop();
    else frame = requestAnimationFrame(tick);
  };
  correct();
  scroller.addEventListener('scroll', onScroll, { passive: true });
  frame = requestAnimationFrame(tick);
  return stop;
}

function offsetIn(scroller: HTMLElement, element: Element): number {
  return element.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
}
