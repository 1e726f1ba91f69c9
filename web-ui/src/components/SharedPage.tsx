// A shared conversation, read-only and without signing in (`/s/<token>`): the branch as it was
// when shared, rendered like a conversation (the safe Markdown renderer, thinking folded), under a
// banner that says what it is.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiClient, localSessionHint } from '../api/client';
import { ApiError, describeError } from '../api/errors';
import type { SharedConversation } from '../api/types';
import { Markdown } from './Markdown';
import { Thinking } from './Thinking';

type Load = { kind: 'loading' } | { kind: 'shown'; shared: SharedConversation } | { kind: 'gone' } | { kind: 'failed'; message: string };

export function SharedPage({ token }: { token: string }) {
  const client = useMemo(() => new ApiClient({ hint: localSessionHint(), onSessionExpired: () => {} }), []);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  useEffect(() => {
    client.getShared(token).then(
      (shared) => setLoad({ kind: 'shown', shared }),
      (error: unknown) => setLoad(error instanceof ApiError && error.status === 404 ? { kind: 'gone' } : { kind: 'failed', message: describeError(error) }),
    );
  }, [client, token]);
  // A link is for the people it was given to: search engines are asked not to list it.
  useEffect(() => {
    const robots = document.createElement('meta');
    robots.name = 'robots';
    robots.content = 'noindex, nofollow';
    document.head.append(robots);
    return () => robots.remove();
  }, []);
  useEffect(() => {
    document.title = load.kind === 'shown' ? `${load.shared.title} · Shared · Free Chat` : 'Shared conversation · Free Chat';
  }, [load]);

  return (
    <div class="shared-page">
      <div role="status" class="banner shared-banner">
        <span>Shared conversation · read-only</span>
        <a class="button ghost small" href="/">
          Open Free Chat
        </a>
      </div>
      <main class="scroller">
        {load.kind === 'loading' && <p class="loading">Loading conversation…</p>}
        {load.kind === 'gone' && (
          <div class="empty">
            <h1>This link doesn’t work</h1>
            <p>It may have been revoked, or the conversation deleted.</p>
          </div>
        )}
        {load.kind === 'failed' && (
          <div role="alert" class="alert">
            {load.message}
          </div>
        )}
        {load.kind === 'shown' && <Conversation shared={load.shared} />}
      </main>
    </div>
  );
}

function Conversation({ shared }: { shared: SharedConversation }) {
  return (
    <div class="column messages">
      <header class="shared-head">
        <h1>{shared.title}</h1>
        {shared.sharedAt && <p class="muted">Shared {new Date(shared.sharedAt).toLocaleDateString([], { year: 'numeric', month: 'long', day: 'numeric' })}</p>}
      </header>
      {shared.messages.map((message, i) =>
        message.role === 'user' ? (
          <article key={i} class="message user" aria-label="You">
            <div class="bubble">{message.content}</div>
          </article>
        ) : (
          <article key={i} class="message assistant" aria-label="Assistant">
            {message.thinking !== '' && <Thinking reasoning={message.thinking} thinking={false} thinkingMs={null} />}
            <div class="answer">
              <Markdown text={message.content} streaming={false} />
            </div>
          </article>
        ),
      )}
    </div>
  );
}
