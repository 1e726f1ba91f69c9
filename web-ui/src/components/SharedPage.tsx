// A shared conversation, read-only and without signing in (`/s/<token>`): the branch as it was
// when shared, rendered like a conversation (the safe Markdown renderer, thinking folded), under a
// banner that says what it is.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiClient, localSessionHint } from '../api/client';
import { ApiError, describeError } from '../api/errors';
import type { SharedConversation } from '../api/types';
import { Markdown } from './Markdown';
import { Thinking } from './Thinking';
import { activeLocale, t } from '../i18n';

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
    document.title = load.kind === 'shown' ? t('shared.documentTitleNamed', load.shared.title) : t('shared.documentTitle');
  }, [load]);

  return (
    <div class="shared-page">
      <div role="status" class="banner shared-banner">
        <span>{t('shared.banner')}</span>
        <a class="button ghost small" href="/">
          {t('shared.open')}
        </a>
      </div>
      <main class="scroller">
        {load.kind === 'loading' && <p class="loading">{t('chat.loading')}</p>}
        {load.kind === 'gone' && (
          <div class="empty">
            <h1>{t('shared.goneTitle')}</h1>
            <p>{t('shared.goneBody')}</p>
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
        {shared.sharedAt && <p class="muted">{t('shared.sharedOn', new Date(shared.sharedAt).toLocaleDateString(activeLocale(), { year: 'numeric', month: 'long', day: 'numeric' }))}</p>}
      </header>
      {shared.messages.map((message, i) =>
        message.role === 'user' ? (
          <article key={i} class="message user" aria-label={t('message.you')}>
            <div class="bubble">{message.content}</div>
          </article>
        ) : (
          <article key={i} class="message assistant" aria-label={t('message.assistant')}>
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
