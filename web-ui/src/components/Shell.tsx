// The signed-in app: sidebar, the open conversation (from the URL), banners and alerts.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { ApiError, describeError } from '../api/errors';
import type { Session, User } from '../api/types';
import { pathForSession, sessionIdFromPath } from '../state/route';
import { loadSettings, withModelLimit, type Settings } from '../state/settings';
import { ChatView } from './ChatView';
import { Sidebar } from './Sidebar';

// The later looks cover a busy model, whose title can come a minute after the answer; coming back
// to the tab looks again too.
const TITLE_REFRESH_DELAYS_MS = [2_500, 8_000, 20_000, 45_000, 90_000];

export const BUILT_IN_NOTICE = 'This server runs the built-in offline model: its replies are random text.';

export function Shell({ client, user, onLogout }: { client: ApiClient; user: User; onLogout: () => void }) {
  const [sessionId, setSessionId] = useState(() => sessionIdFromPath(location.pathname));
  const [sessions, setSessions] = useState<readonly Session[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [connection, setConnection] = useState<string | null>(null);
  const [builtIn, setBuiltIn] = useState(false);
  const [settings, setSettings] = useState(loadSettings);
  // The model's maxNewTokensLimit: what is sent never exceeds it (the API answers 400 above it).
  const [modelMaxTokens, setModelMaxTokens] = useState<number | undefined>(undefined);
  const [modelMaxPromptTokens, setModelMaxPromptTokens] = useState<number | undefined>(undefined);
  const [sidebarOpen, setSidebarOpen] = useState(false);

  const navigate = useCallback((id: string | null, options: { replace?: boolean } = {}) => {
    const path = pathForSession(id);
    if (location.pathname !== path) history[options.replace ? 'replaceState' : 'pushState'](null, '', path);
    setSessionId(id);
    setSidebarOpen(false);
  }, []);

  useEffect(() => {
    const onPop = (): void => setSessionId(sessionIdFromPath(location.pathname));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  const refreshSessions = useCallback(() => {
    client
      .listSessions()
      .then(({ sessions: list }) => setSessions(list))
      .catch((e: unknown) => setError(describeError(e)));
  }, [client]);

  // A conversation's title is written by the chat service shortly after its first answer (the
  // title writer consumes run.completed): look again a little later, twice, then stop.
  const lateRefresh = useRef<ReturnType<typeof setTimeout>[]>([]);
  const sessionsChanged = useCallback(() => {
    refreshSessions();
    for (const timer of lateRefresh.current) clearTimeout(timer);
    lateRefresh.current = TITLE_REFRESH_DELAYS_MS.map((ms) => setTimeout(refreshSessions, ms));
  }, [refreshSessions]);
  useEffect(() => () => lateRefresh.current.forEach(clearTimeout), []);
  useEffect(() => {
    const onVisible = () => document.visibilityState === 'visible' && refreshSessions();
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [refreshSessions]);

  useEffect(() => {
    refreshSessions();
    client
      .listModels()
      .then(({ models }) => {
        setBuiltIn(models.some((m) => m.builtIn));
        const limits = models.map((m) => m.maxNewTokensLimit).filter((n) => n > 0);
        setModelMaxTokens(limits.length > 0 ? Math.min(...limits) : undefined);
        const promptLimits = models.map((m) => m.maxPromptTokens ?? 0).filter((n) => n > 0);
        setModelMaxPromptTokens(promptLimits.length > 0 ? Math.min(...promptLimits) : undefined);
      })
      .catch((e: unknown) => {
        // An older gateway without /api/models: no banner, nothing to tell the user.
        if (!(e instanceof ApiError && e.status === 404)) setError(describeError(e));
      });
  }, [client, refreshSessions]);

  useEffect(() => {
    const title = sessions?.find((s) => s.id === sessionId)?.title;
    document.title = title ? `${title} · Free Chat` : 'Free Chat';
  }, [sessions, sessionId]);

  const onCreated = useCallback(
    (session: Session) => {
      setSessions((list) => [session, ...(list ?? []).filter((s) => s.id !== session.id)]);
      navigate(session.id);
    },
    [navigate],
  );

  // A new chat is only an empty page: the conversation is created with its first message, so
  // clicking twice never piles up empty conversations and nothing typed meanwhile is lost.
  const newChat = (): void => {
    setError(null);
    setSidebarOpen(false);
    if (sessionId !== null) navigate(null);
    (document.querySelector('textarea[aria-label="Message"]') as HTMLTextAreaElement | null)?.focus();
  };

  const rename = (id: string, title: string): void => {
    setSessions((list) => list?.map((s) => (s.id === id ? { ...s, title } : s)) ?? null);
    client
      .renameSession(id, title)
      .then((saved) => setSessions((list) => list?.map((s) => (s.id === id ? saved : s)) ?? null))
      .catch((e: unknown) => {
        setError(describeError(e));
        refreshSessions();
      });
  };

  const remove = (id: string): void => {
    client
      .deleteSession(id)
      .then(() => {
        setSessions((list) => list?.filter((s) => s.id !== id) ?? null);
        if (id === sessionId) navigate(null, { replace: true });
      })
      .catch((e: unknown) => setError(describeError(e)));
  };

  const alert = error ?? connection;
  return (
    <div class="shell">
      <Sidebar
        sessions={sessions}
        currentId={sessionId}
        username={user.username}
        open={sidebarOpen}
        onOpen={(id) => navigate(id)}
        onNew={newChat}
        onRename={rename}
        onDelete={remove}
        onLogout={onLogout}
        onClose={() => setSidebarOpen(false)}
      />
      {sidebarOpen && <div class="scrim" onClick={() => setSidebarOpen(false)} aria-hidden="true" />}
      <main class="main">
        <header class="topbar">
          <button type="button" class="button ghost small menu" aria-expanded={sidebarOpen} aria-controls="sidebar" onClick={() => setSidebarOpen((o) => !o)}>
            Conversations
          </button>
          <span class="topbar-title">{sessions?.find((s) => s.id === sessionId)?.title ?? 'Free Chat'}</span>
        </header>
        {builtIn && (
          <div role="status" class="banner">
            {BUILT_IN_NOTICE}
          </div>
        )}
        {alert && (
          <div role="alert" class="alert">
            <span>{alert}</span>
            {error && (
              <button type="button" class="button ghost small" onClick={() => setError(null)}>
                Dismiss
              </button>
            )}
          </div>
        )}
        <ChatView
          client={client}
          sessionId={sessionId}
          settings={withModelLimit(settings, modelMaxTokens)}
          modelMaxTokens={modelMaxTokens}
          modelMaxPromptTokens={modelMaxPromptTokens}
          onSettings={setSettings}
          onCreated={onCreated}
          onSessionsChanged={sessionsChanged}
          onError={setError}
          onConnection={setConnection}
          onNewChat={newChat}
        />
      </main>
    </div>
  );
}
