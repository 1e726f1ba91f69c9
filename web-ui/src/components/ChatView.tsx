// The open conversation: loads the branch it shows, sends, streams, stops, answers any question
// again (edited or not, beside the earlier versions), switches between versions, and re-attaches to
// an answer still being written (after a reload or a switch of conversation).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { ApiError, describeError, describeRunError } from '../api/errors';
import type { ModelInfo, Session, SessionChanges } from '../api/types';
import { applyRun, fromServer, pendingAnswer, prepareRegenerate, resumableRun, userMessage, type ChatMessage } from '../state/conversation';
import { LiveRun } from '../state/live-run';
import { initialRun, type RunState } from '../state/run';
import type { Settings } from '../state/settings';
import { rememberThinkingMs, thinkingMsOf } from '../state/thinking-times';
import { Composer } from './Composer';
import { ConversationSettings } from './ConversationSettings';
import { copyText } from './copy-code';
import { MessageList } from './MessageList';
import { SettingsPanel } from './SettingsPanel';
import { useDraft } from './use-draft';
import { useShortcuts } from './use-shortcuts';
import { t } from '../i18n';

export interface ChatViewProps {
  readonly client: ApiClient;
  /** Whose drafts the message box keeps. */
  readonly userId: string;
  readonly sessionId: string | null;
  readonly settings: Settings;
  readonly onSettings: (settings: Settings) => void;
  /** The model's maxNewTokensLimit; `settings` already respects it. */
  readonly modelMaxTokens?: number | undefined;
  /** The model's maxPromptTokens: the composer warns when a draft likely exceeds it. */
  readonly modelMaxPromptTokens?: number | undefined;
  /** A conversation was created for the first message: open it without reloading. */
  readonly onCreated: (session: Session) => void;
  /** Titles or order may have changed. */
  readonly onSessionsChanged: () => void;
  readonly onError: (message: string | null) => void;
  readonly onConnection: (message: string | null) => void;
  /** Leave a conversation that does not exist for an empty new chat. */
  readonly onNewChat: () => void;
  /** The open conversation as listed (its system prompt and model); null for a new chat or while unknown. */
  readonly conversation: Session | null;
  /** The models a conversation can ask for (GET /api/models). */
  readonly models: readonly ModelInfo[];
  /** Saves the open conversation's own settings. */
  readonly onUpdateConversation: (id: string, changes: SessionChanges) => void;
}

// How long a silent stream (no event, no heartbeat) waits before saying "not responding"; the
// browser tests shorten it through localStorage rather than wait the real 30 s.
const stallTimeoutMs = (): number | undefined => {
  const ms = Number(localStorage.getItem('freechat.stallTimeoutMs'));
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
};

let keySeq = 0;
const newKey = (): string => `local-${++keySeq}`;

export function ChatView(props: ChatViewProps) {
  const { client, userId, sessionId, settings, onSettings, modelMaxTokens, modelMaxPromptTokens, onCreated, onSessionsChanged, onError, onConnection, onNewChat } = props;
  // A new chat's system prompt and model, until its first message creates it.
  // The ref is what a send reads: a change (the prompt's blur) may come just before, ahead of the re-render.
  const [pendingChanges, setPendingChanges] = useState<SessionChanges>({});
  const pending = useRef(pendingChanges);
  const changePending = (changes: SessionChanges): void => {
    pending.current = { ...pending.current, ...changes };
    setPendingChanges(pending.current);
  };
  useEffect(() => {
    if (sessionId === null) return;
    pending.current = {};
    setPendingChanges({});
  }, [sessionId]);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  // The cursor of the page before the oldest loaded message; null once the first message is loaded.
  const [earlierCursor, setEarlierCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  // The URL names a conversation the API does not know (never existed, deleted, someone else's).
  const [missing, setMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [draft, setDraft] = useDraft(userId, sessionId);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [scrollToken, setScrollToken] = useState(0);
  const [focusToken, setFocusToken] = useState(0);
  const live = useRef<LiveRun | null>(null);
  const createdHere = useRef<string | null>(null);
  const latest = useRef({ messages, sessionId, settings, busy, earlierCursor });
  latest.current = { messages, sessionId, settings, busy, earlierCursor };

  const startRun = useCallback(
    (key: string, options: { open?: (signal: AbortSignal) => Promise<Response | null>; runId?: string }, onStartFailed?: (message: string) => void) => {
      setBusy(true);
      let started = options.runId !== undefined;
      const show = (run: RunState): void => {
        setMessages((m) => applyRun(m, key, run, describeRunError));
        // The user message is stored once the run exists: a first message has just titled the conversation.
        if (!started && run.runId !== null) {
          started = true;
          onSessionsChanged();
        }
      };
      const end = (): void => {
        if (live.current === run) live.current = null;
        setBusy(false);
      };
      const run: LiveRun = new LiveRun({
        client,
        ...options,
        ...(stallTimeoutMs() !== undefined ? { stallTimeoutMs: stallTimeoutMs()! } : {}),
        onUpdate: show,
        onEnd: (state) => {
          show(state);
          end();
          if (state.assistantMessageId && state.thinkingMs !== null) rememberThinkingMs(state.assistantMessageId, state.thinkingMs);
          if (state.error) onError(describeRunError(state.error.code, state.error.message));
          onSessionsChanged();
        },
        onFail: (message, state) => {
          end();
          onError(message);
          if (state.runId === null && onStartFailed) onStartFailed(message);
          else setMessages((m) => applyRun(m, key, { ...state, phase: 'finished', error: state.error ?? { code: 'connection', message } }, () => message));
        },
        onConnection,
      });
      live.current = run;
    },
    [client, onError, onConnection, onSessionsChanged],
  );

  // Open a conversation: load it, and re-attach to an answer still being written.
  useEffect(() => {
    if (sessionId !== null && sessionId === createdHere.current) {
      createdHere.current = null;
      return;
    }
    live.current?.detach();
    live.current = null;
    setBusy(false);
    onConnection(null);
    setMessages([]);
    setEarlierCursor(null);
    setMissing(false);
    setScrollToken((t) => t + 1);
    setFocusToken((t) => t + 1);
    if (sessionId === null) return;
    let cancelled = false;
    setLoading(true);
    client
      .listMessages(sessionId)
      .then(({ messages: stored, nextCursor }) => {
        if (cancelled) return;
        // The newest page only: its last message is the latest, the one a streaming answer would be.
        const shown = fromServer(stored, thinkingMsOf);
        setEarlierCursor(nextCursor);
        const resume = resumableRun(shown);
        // A streaming answer is rendered from the run's replay alone: its stored partial text is dropped.
        setMessages(resume ? applyRun(shown, resume.key, initialRun(resume.runId), describeRunError) : shown);
        setScrollToken((t) => t + 1);
        if (resume) startRun(resume.key, { runId: resume.runId });
      })
      .catch((error: unknown) => {
        if (cancelled) return;
        if (error instanceof ApiError && error.status === 404) setMissing(true);
        else onError(describeError(error));
      })
      .finally(() => {
        if (!cancelled) setLoading(false);
      });
    return () => {
      cancelled = true;
    };
  }, [client, sessionId, startRun, onError, onConnection]);

  useEffect(() => () => live.current?.detach(), []);

  // "Show earlier messages": the page before the oldest loaded one goes on top. Resolves with how
  // many were added, so the list can show them and keep the user's place.
  const loadEarlier = useCallback(async (): Promise<number> => {
    const { sessionId: sid, earlierCursor: cursor } = latest.current;
    if (sid === null || cursor === null) return 0;
    try {
      const page = await client.listMessages(sid, cursor);
      if (latest.current.sessionId !== sid) return 0;
      const known = new Set(latest.current.messages.map((m) => m.key));
      const older = fromServer(page.messages, thinkingMsOf).filter((m) => !known.has(m.key));
      setMessages((m) => [...older, ...m]);
      setEarlierCursor(page.nextCursor);
      return older.length;
    } catch (error) {
      onError(describeError(error));
      return 0;
    }
  }, [client, onError]);

  const request = (): { enableThinking: boolean; params: { temperature: number; maxNewTokens: number } } => ({
    enableThinking: latest.current.settings.thinking,
    params: { temperature: latest.current.settings.temperature, maxNewTokens: latest.current.settings.maxTokens },
  });

  const send = async (content: string): Promise<void> => {
    if (latest.current.busy) return;
    onError(null);
    let sid = latest.current.sessionId;
    setBusy(true);
    if (sid === null) {
      try {
        const created = await client.createSession();
        sid = created.id;
        createdHere.current = sid;
        // Its own settings first, so its first answer already follows them.
        const session = Object.keys(pending.current).length > 0 ? await client.updateSession(sid, pending.current) : created;
        onCreated(session);
      } catch (error) {
        setBusy(false);
        onError(describeError(error));
        return;
      }
    }
    const userKey = newKey();
    const answerKey = newKey();
    setDraft('');
    setMessages((m) => [...m, userMessage(userKey, content), pendingAnswer(answerKey)]);
    setScrollToken((t) => t + 1);
    const target = sid;
    startRun(answerKey, { open: (signal) => client.sendMessage(target, content, request(), signal) }, () => {
      // Nothing was accepted: take the message back into the box so it is not lost.
      setMessages((m) => m.filter((x) => x.key !== userKey && x.key !== answerKey));
      setDraft((d) => (d === '' ? content : d));
    });
  };

  const regenerate = useCallback(
    (key: string, edited?: string) => {
      const sid = latest.current.sessionId;
      if (latest.current.busy || sid === null) return;
      const keys = { user: newKey(), answer: newKey() };
      const before = latest.current.messages;
      const prepared = prepareRegenerate(before, key, keys, edited);
      if (!prepared) return;
      onError(null);
      setMessages(prepared.messages);
      setScrollToken((t) => t + 1);
      const target = { messageId: prepared.messageId, content: edited };
      startRun(keys.answer, { open: (signal) => client.regenerate(sid, target, request(), signal) }, () => setMessages(before));
    },
    [client, startRun, onError],
  );
  const onRegenerate = useCallback((key: string) => regenerate(key), [regenerate]);

  // Continue: the same answer streams again, its run starting with the text it already has.
  const onContinue = useCallback(
    (key: string) => {
      const sid = latest.current.sessionId;
      const answer = latest.current.messages.find((m) => m.key === key);
      if (latest.current.busy || sid === null || !answer?.id) return;
      const before = latest.current.messages;
      const messageId = answer.id;
      onError(null);
      setScrollToken((t) => t + 1);
      startRun(key, { open: (signal) => client.continueAnswer(sid, messageId, request(), signal) }, () => setMessages(before));
    },
    [client, startRun, onError],
  );
  const onEdit = useCallback((key: string, content: string) => regenerate(key, content), [regenerate]);

  // ‹ › on a message: the server remembers the branch shown, then the branch is read again.
  const onSwitch = useCallback(
    (messageId: string) => {
      const sid = latest.current.sessionId;
      if (latest.current.busy || sid === null) return;
      onError(null);
      client
        .selectBranch(sid, messageId)
        .then(() => client.listMessages(sid))
        .then(({ messages: stored, nextCursor }) => {
          if (latest.current.sessionId !== sid) return;
          setMessages(fromServer(stored, thinkingMsOf));
          setEarlierCursor(nextCursor);
        })
        .catch((error: unknown) => onError(describeError(error)));
    },
    [client, onError],
  );

  // Fork: the new conversation opens like any other (loaded from the server).
  const onFork = useCallback(
    (messageId: string) => {
      const sid = latest.current.sessionId;
      if (latest.current.busy || sid === null) return;
      onError(null);
      client
        .forkSession(sid, messageId)
        .then(onCreated)
        .catch((error: unknown) => onError(describeError(error)));
    },
    [client, onCreated, onError],
  );

  const stop = useCallback(() => live.current?.stop(), []);
  useShortcuts({
    ...(busy ? { stop } : {}),
    copyLastAnswer: () => {
      const answer = latest.current.messages.findLast((m) => m.role === 'assistant' && m.content !== '');
      if (answer) void copyText(answer.content);
    },
  });

  if (missing) {
    return (
      <div class="chat">
        <div class="scroller">
          <div class="empty" role="status">
            <h1>{t('chat.missingTitle')}</h1>
            <p>{t('chat.missingBody')}</p>
            <button type="button" class="button primary" onClick={onNewChat}>
              {t('chat.startNew')}
            </button>
          </div>
        </div>
      </div>
    );
  }

  const empty = messages.length === 0 && !loading;
  return (
    <div class="chat">
      {empty ? (
        <div class="scroller">
          <div class="empty">
            <h1>{t('chat.emptyTitle')}</h1>
            <p>{t('chat.emptyBody')}</p>
          </div>
        </div>
      ) : (
        <MessageList
          key={sessionId ?? 'new'}
          messages={messages}
          busy={busy}
          scrollToken={scrollToken}
          onRegenerate={onRegenerate}
          onContinue={onContinue}
          onEdit={onEdit}
          onSwitch={onSwitch}
          onFork={onFork}
          onLoadEarlier={earlierCursor === null ? undefined : loadEarlier}
        >
          {loading && <p class="loading">{t('chat.loading')}</p>}
        </MessageList>
      )}
      <div class="dock">
        <div class="column">
          {settingsOpen && (
            <SettingsPanel
              settings={settings}
              modelMaxTokens={modelMaxTokens}
              loadUsage={client.getUsage}
              onChange={onSettings}
            />
          )}
          {settingsOpen && (
            <ConversationSettings
              key={sessionId ?? 'new'}
              systemPrompt={(sessionId === null ? pendingChanges.systemPrompt : props.conversation?.systemPrompt) ?? ''}
              model={(sessionId === null ? pendingChanges.model : props.conversation?.model) ?? ''}
              models={props.models}
              pending={sessionId === null}
              onChange={(changes) => (sessionId === null ? changePending(changes) : props.onUpdateConversation(sessionId, changes))}
            />
          )}
          <Composer
            draft={draft}
            onDraft={setDraft}
            busy={busy}
            onSend={(text) => void send(text)}
            onStop={stop}
            settingsOpen={settingsOpen}
            onToggleSettings={() => setSettingsOpen((o) => !o)}
            focusToken={focusToken}
            maxPromptTokens={modelMaxPromptTokens}
          />
        </div>
      </div>
    </div>
  );
}
