// The signed-in app: sidebar, the open conversation (from the URL), banners and alerts.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { ApiError, describeError } from '../api/errors';
import type { ModelInfo, Session, SessionChanges, User } from '../api/types';
import { createDraftStore } from '../state/drafts';
import { pathForSession, sessionIdFromPath } from '../state/route';
import { applyChange, loadSettings, withModelLimit, type Settings } from '../state/settings';
import { SettingsSync } from '../state/settings-sync';
import { applyTheme } from '../theme';
import { ChatView } from './ChatView';
import { ConversationMenu } from './ConversationMenu';
import { DataActions } from './DataActions';
import { ShortcutsDialog } from './ShortcutsDialog';
import { Sidebar } from './Sidebar';
import { useShortcuts } from './use-shortcuts';
import { t } from '../i18n';

// The later looks cover a busy model, whose title can come a minute after the answer; coming back
// to the tab looks again too.
const TITLE_REFRESH_DELAYS_MS = [2_500, 8_000, 20_000, 45_000, 90_000];
/** How often the list is read again while a conversation is answering (see below). */
const ANSWERING_REFRESH_MS = 3_000;

/** How long logging out waits for settings still being saved. */
const LOGOUT_SAVE_WAIT_MS = 3_000;

const focusComposer = (): void => document.querySelector<HTMLTextAreaElement>('.composer textarea')?.focus();

export function Shell({ client, user, onLogout }: { client: ApiClient; user: User; onLogout: () => void }) {
  const [sessionId, setSessionId] = useState(() => sessionIdFromPath(location.pathname));
  const [sessions, setSessions] = useState<readonly Session[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [connection, setConnection] = useState<string | null>(null);
  const [builtIn, setBuiltIn] = useState(false);
  const [models, setModels] = useState<readonly ModelInfo[]>([]);
  // The cached copy first; the server's once it answers (SettingsSync).
  const [settings, setSettings] = useState(loadSettings);
  // The model's maxNewTokensLimit: what is sent never exceeds it (the API answers 400 above it).
  const [modelMaxTokens, setModelMaxTokens] = useState<number | undefined>(undefined);
  const [modelMaxPromptTokens, setModelMaxPromptTokens] = useState<number | undefined>(undefined);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  // Folded away on a wide screen (Ctrl/Cmd+Shift+S); a phone's drawer is `sidebarOpen`.
  const [sidebarHidden, setSidebarHidden] = useState(false);
  const [shortcutsOpen, setShortcutsOpen] = useState(false);

  const sync = useMemo(
    () =>
      new SettingsSync(settings, {
        load: client.getSettings,
        save: client.updateSettings,
        onSettings: setSettings,
        onSaveFailed: (e) => setError(t('shell.settingsNotSaved', describeError(e))),
      }),
    // One per signed-in shell: `settings` is only its starting point.
    [client],
  );
  useEffect(() => {
    sync.start();
    // Leaving the page (or the tab) saves what is still waiting for the pause.
    const onHidden = () => document.visibilityState === 'hidden' && void sync.flush();
    document.addEventListener('visibilitychange', onHidden);
    return () => {
      document.removeEventListener('visibilitychange', onHidden);
      sync.stop();
    };
  }, [sync]);
  // Before the browser paints the change: no frame in the old theme.
  useLayoutEffect(() => applyTheme(settings.theme), [settings.theme]);
  const changeSettings = useCallback(
    (changed: Settings) => {
      const next = applyChange(settings, modelMaxTokens, changed);
      sync.change(next);
      setSettings(next);
    },
    [settings, modelMaxTokens, sync],
  );
  const logOut = (): void => {
    // What is waiting is saved first, while the session still allows it; a server that does not
    // answer does not keep the person from logging out.
    const patience = new Promise<void>((resolve) => setTimeout(resolve, LOGOUT_SAVE_WAIT_MS));
    void Promise.race([sync.flush(), patience]).finally(onLogout);
  };

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
  // An answer written in the background (its conversation left mid-answer) ends unseen: while any
  // conversation is answering, the list is read again every few seconds so its dot goes out.
  useEffect(() => {
    if (!sessions?.some((s) => s.answering)) return;
    const timer = setTimeout(refreshSessions, ANSWERING_REFRESH_MS);
    return () => clearTimeout(timer);
  }, [sessions, refreshSessions]);
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
        setModels(models);
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
    document.title = title ? `${title} · ${t('app.name')}` : t('app.name');
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
    focusComposer();
  };

  const narrow = (): boolean => matchMedia('(max-width: 768px)').matches;
  useShortcuts({
    newChat,
    focusComposer,
    searchConversations: () => {
      if (narrow()) setSidebarOpen(true);
      else setSidebarHidden(false);
      // After the sidebar is shown again.
      requestAnimationFrame(() => document.querySelector<HTMLInputElement>('#sidebar .filter')?.select());
    },
    toggleSidebar: () => (narrow() ? setSidebarOpen((o) => !o) : setSidebarHidden((h) => !h)),
    showShortcuts: () => setShortcutsOpen(true),
  });

  // Shown at once; the saved session (tags normalised by the server) replaces it, a refusal reloads the list.
  const update = (id: string, changes: SessionChanges): void => {
    setSessions((list) => list?.map((s) => (s.id === id ? { ...s, ...changes } : s)) ?? null);
    client
      .updateSession(id, changes)
      .then((saved) => setSessions((list) => list?.map((s) => (s.id === id ? saved : s)) ?? null))
      .catch((e: unknown) => {
        setError(describeError(e));
        refreshSessions();
      });
  };

  const search = useCallback((query: string, signal: AbortSignal) => client.search(query, signal).then((r) => r.results), [client]);

  const remove = (id: string): void => {
    client
      .deleteSession(id)
      .then(() => {
        setSessions((list) => list?.filter((s) => s.id !== id) ?? null);
        createDraftStore(localStorage, user.id).save(id, '');
        if (id === sessionId) navigate(null, { replace: true });
      })
      .catch((e: unknown) => setError(describeError(e)));
  };

  // The open conversation's model bounds its max tokens (the server refuses more); else the served ones'.
  const conversation = sessions?.find((s) => s.id === sessionId) ?? null;
  const chosenModel = conversation?.model ? models.find((m) => m.id === conversation.model) : undefined;
  const chatMaxTokens = chosenModel && chosenModel.maxNewTokensLimit > 0 ? chosenModel.maxNewTokensLimit : modelMaxTokens;

  const alert = error ?? connection;
  return (
    <div class={sidebarHidden ? 'shell sidebar-hidden' : 'shell'}>
      <Sidebar
        sessions={sessions}
        currentId={sessionId}
        username={user.username}
        open={sidebarOpen}
        onOpen={(id) => navigate(id)}
        onNew={newChat}
        onUpdate={update}
        search={search}
        onDelete={remove}
        onLogout={logOut}
        onClose={() => setSidebarOpen(false)}
        account={<DataActions client={client} onImported={refreshSessions} />}
      />
      {sidebarOpen && <div class="scrim" onClick={() => setSidebarOpen(false)} aria-hidden="true" />}
      <main class="main">
        <header class="topbar">
          <button type="button" class="button ghost small menu" aria-expanded={sidebarOpen} aria-controls="sidebar" onClick={() => setSidebarOpen((o) => !o)}>
            {t('shell.conversations')}
          </button>
          <span class="topbar-title">{sessions?.find((s) => s.id === sessionId)?.title ?? t('app.name')}</span>
        </header>
        {sessionId !== null && (
          <div class="chat-head">
            <span class="chat-head-title">{sessions?.find((s) => s.id === sessionId)?.title ?? ''}</span>
            <ConversationMenu key={sessionId} client={client} sessionId={sessionId} onError={setError} />
          </div>
        )}
        {builtIn && (
          <div role="status" class="banner">
            {t('shell.builtInModel')}
          </div>
        )}
        {alert && (
          <div role="alert" class="alert">
            <span>{alert}</span>
            {error && (
              <button type="button" class="button ghost small" onClick={() => setError(null)}>
                {t('shell.dismiss')}
              </button>
            )}
          </div>
        )}
        <ChatView
          client={client}
          userId={user.id}
          sessionId={sessionId}
          settings={withModelLimit(settings, chatMaxTokens)}
          modelMaxTokens={chatMaxTokens}
          modelMaxPromptTokens={modelMaxPromptTokens}
          onSettings={changeSettings}
          onCreated={onCreated}
          onSessionsChanged={sessionsChanged}
          onError={setError}
          onConnection={setConnection}
          onNewChat={newChat}
          conversation={conversation}
          models={models}
          onUpdateConversation={update}
        />
      </main>
      {shortcutsOpen && <ShortcutsDialog onClose={() => setShortcutsOpen(false)} />}
    </div>
  );
}
