// The HTTP client: JSON requests with the access token, one shared refresh on 401 (single-flight,
// and serialised across tabs with Web Locks when available; tabs that still race are covered by the
// server's grace window), streams for SSE. The access token lives in memory only; the refresh token
// in an HttpOnly cookie that no script here can read. localStorage keeps only a hint that a session
// exists, so a page load knows whether to try restoring one.
import { ApiError, NetworkError, errorFromResponse } from './errors';
import { filenameFromDisposition } from '../state/download';
import type { AuthResult, Download, GenerationRequest, ImportResult, MessagePage, ModelList, SearchResult, Session, SessionChanges, SessionPage, SharedConversation, ShareLink, UsageReport, User, UserSettings } from './types';

/** Whether this browser holds a session cookie: a hint, not a secret (the cookie is the credential). */
export interface SessionHint {
  get(): boolean;
  set(signedIn: boolean): void;
}

export const localSessionHint = (key = 'freechat.signedIn'): SessionHint => ({
  get: () => localStorage.getItem(key) === '1',
  set: (signedIn) => (signedIn ? localStorage.setItem(key, '1') : localStorage.removeItem(key)),
});

export interface ApiClientOptions {
  readonly hint: SessionHint;
  /** Refreshing failed: the user must log in again. */
  readonly onSessionExpired: () => void;
  readonly fetch?: typeof fetch;
}

interface RequestOptions {
  readonly body?: unknown;
  /** Sent as it is, as JSON (a file's text): never parsed here. */
  readonly rawJson?: string;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
  readonly auth?: boolean;
}

export class ApiClient {
  private accessToken: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  get hasSession(): boolean {
    return this.options.hint.get();
  }

  async login(username: string, password: string): Promise<User> {
    return this.accept(await this.json<AuthResult>('POST', '/api/auth/login', { body: { username, password }, auth: false }));
  }

  async register(username: string, password: string): Promise<User> {
    return this.accept(await this.json<AuthResult>('POST', '/api/auth/register', { body: { username, password }, auth: false }));
  }

  /** Restores a session from the refresh cookie; null when there is none or it is spent. */
  async restore(): Promise<User | null> {
    if (!this.hasSession) return null;
    if (!(await this.refresh())) return null;
    return this.json<User>('GET', '/api/me');
  }

  /** Ends the session on the server too: the cookie's token family and the access token are revoked. */
  async logout(): Promise<void> {
    const accessToken = this.accessToken;
    this.forget();
    const headers: Record<string, string> = accessToken ? { authorization: `Bearer ${accessToken}` } : {};
    await this.send('POST', '/api/auth/logout', { auth: false, headers }).catch(() => undefined);
  }

  listSessions = (): Promise<SessionPage> => this.json('GET', '/api/sessions?pageSize=100');
  createSession = (): Promise<Session> => this.json('POST', '/api/sessions', { body: {} });
  updateSession = (id: string, changes: SessionChanges): Promise<Session> =>
    this.json('PATCH', `/api/sessions/${encodeURIComponent(id)}`, { body: changes });
  /** Titles and messages of the user's conversations; the best match of each, best first. */
  search = (query: string, signal?: AbortSignal): Promise<{ results: SearchResult[] }> =>
    this.json('GET', `/api/search?q=${encodeURIComponent(query)}`, signal ? { signal } : {});
  deleteSession = (id: string): Promise<void> => this.json('DELETE', `/api/sessions/${encodeURIComponent(id)}`);
  /** The newest page, or with `before` (a page's nextCursor) the one before it; each page oldest to newest. */
  listMessages = (id: string, before?: string): Promise<MessagePage> =>
    this.json('GET', `/api/sessions/${encodeURIComponent(id)}/messages${before ? `?before=${encodeURIComponent(before)}` : ''}`);
  listModels = (): Promise<ModelList> => this.json('GET', '/api/models');
  getUsage = (days: number): Promise<UsageReport> => this.json('GET', `/api/me/usage?days=${days}`);
  getSettings = (): Promise<UserSettings> => this.json('GET', '/api/me/settings');
  /** Changes only the fields given; answers all of them. */
  updateSettings = (changes: Partial<UserSettings>): Promise<UserSettings> => this.json('PATCH', '/api/me/settings', { body: changes });
  stopRun = (runId: string): Promise<void> => this.json('POST', `/api/runs/${encodeURIComponent(runId)}/stop`);

  /** One conversation as a file: every branch as JSON, or the branch shown as Markdown. */
  exportSession = (id: string, format: 'json' | 'markdown'): Promise<Download> =>
    this.download(`/api/sessions/${encodeURIComponent(id)}/export?format=${format}`, format === 'json' ? 'conversation.json' : 'conversation.md');
  /** Every conversation of the user, one JSON file. */
  exportAll = (): Promise<Download> => this.download('/api/me/export', 'freechat-export.json');
  /** A Free Chat export or ChatGPT's conversations.json, as read from the file. */
  importFile = (text: string): Promise<ImportResult> => this.json('POST', '/api/import', { rawJson: text });
  share = (id: string): Promise<ShareLink> => this.json('POST', `/api/sessions/${encodeURIComponent(id)}/share`);
  revokeShares = (id: string): Promise<void> => this.json('DELETE', `/api/sessions/${encodeURIComponent(id)}/share`);
  /** A shared conversation: no sign-in, the token is the permission. */
  getShared = (token: string): Promise<SharedConversation> => this.json('GET', `/api/shared/${encodeURIComponent(token)}`, { auth: false });

  sendMessage(sessionId: string, content: string, request: GenerationRequest, signal: AbortSignal): Promise<Response | null> {
    return this.stream('POST', `/api/sessions/${encodeURIComponent(sessionId)}/messages`, { body: { content, ...request }, signal });
  }

  /** Answers `target.messageId` (a question, or an answer to replace) again, its question edited to `target.content` if set. */
  regenerate(sessionId: string, target: { messageId: string; content?: string | undefined }, request: GenerationRequest, signal: AbortSignal): Promise<Response | null> {
    const body = { messageId: target.messageId, ...(target.content !== undefined && { content: target.content }), ...request };
    return this.stream('POST', `/api/sessions/${encodeURIComponent(sessionId)}/regenerate`, { body, signal });
  }

  /** Goes on writing the answer `messageId`, which the token limit cut; the run starts with the answer so far. */
  continueAnswer(sessionId: string, messageId: string, request: GenerationRequest, signal: AbortSignal): Promise<Response | null> {
    return this.stream('POST', `/api/sessions/${encodeURIComponent(sessionId)}/continue`, { body: { messageId, ...request }, signal });
  }

  /** A new conversation holding the branch up to `messageId`. */
  forkSession = (sessionId: string, messageId: string): Promise<Session> =>
    this.json('POST', `/api/sessions/${encodeURIComponent(sessionId)}/fork`, { body: { messageId } });

  /** Shows the branch through `messageId` (one of a message's siblings). */
  selectBranch = (sessionId: string, messageId: string): Promise<Session> =>
    this.json('POST', `/api/sessions/${encodeURIComponent(sessionId)}/branch`, { body: { messageId } });

  /** The run's events after `<runId>:<lastSeq>`; null (204) when nothing is left. */
  attach(runId: string, lastSeq: number, signal: AbortSignal): Promise<Response | null> {
    return this.stream('GET', `/api/runs/${encodeURIComponent(runId)}/events`, { headers: { 'last-event-id': `${runId}:${lastSeq}` }, signal });
  }

  private accept(result: AuthResult): User {
    this.accessToken = result.accessToken;
    this.options.hint.set(true);
    return result.user;
  }

  private forget(): void {
    this.accessToken = null;
    this.options.hint.set(false);
  }

  /** One refresh at a time; every caller waiting on a 401 shares it. */
  private refresh(): Promise<boolean> {
    this.refreshing ??= this.lockedRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private lockedRefresh(): Promise<boolean> {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    // lib.dom types the result as a promise of the callback's promise; `then` flattens it.
    return locks ? locks.request('freechat-refresh', () => this.doRefresh()).then((ok) => ok) : this.doRefresh();
  }

  private async doRefresh(): Promise<boolean> {
    if (!this.hasSession) return false;
    let response: Response;
    try {
      // The cookie rides along (same origin); the body is empty.
      response = await this.send('POST', '/api/auth/refresh', { auth: false });
    } catch (error) {
      throw error instanceof NetworkError ? error : new NetworkError(error);
    }
    if (!response.ok) {
      // Only a refusal of the token ends the session; a 5xx or 429 may pass.
      if (response.status === 400 || response.status === 401 || response.status === 403 || response.status === 404) {
        this.forget();
        return false;
      }
      throw await errorFromResponse(response);
    }
    this.accept((await response.json()) as AuthResult);
    return true;
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined || options.rawJson !== undefined) headers['content-type'] = 'application/json';
    if (options.auth !== false && this.accessToken) headers['authorization'] = `Bearer ${this.accessToken}`;
    try {
      return await this.fetchImpl(path, {
        method,
        headers,
        body: options.rawJson ?? (options.body === undefined ? null : JSON.stringify(options.body)),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new NetworkError(error);
    }
  }

  /** Sends with the access token; on 401 refreshes once and retries. */
  private async authed(method: string, path: string, options: RequestOptions): Promise<Response> {
    if (options.auth !== false && this.accessToken === null && this.hasSession) await this.refresh();
    const response = await this.send(method, path, options);
    if (response.status !== 401 || options.auth === false) return response;
    if (!(await this.refresh())) {
      this.options.onSessionExpired();
      throw await errorFromResponse(response);
    }
    const retried = await this.send(method, path, options);
    if (retried.status === 401) {
      this.forget();
      this.options.onSessionExpired();
    }
    return retried;
  }

  private async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.authed(method, path, options);
    if (!response.ok) throw await errorFromResponse(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private async download(path: string, fallbackName: string): Promise<Download> {
    const response = await this.authed('GET', path, {});
    if (!response.ok) throw await errorFromResponse(response);
    return { blob: await response.blob(), filename: filenameFromDisposition(response.headers.get('content-disposition'), fallbackName) };
  }

  private async stream(method: string, path: string, options: RequestOptions): Promise<Response | null> {
    const response = await this.authed(method, path, { ...options, headers: { accept: 'text/event-stream', ...options.headers } });
    if (response.status === 204) return null;
    if (!response.ok) throw await errorFromResponse(response);
    if (!response.body) throw new ApiError(500, 'internal', 'empty stream');
    return response;
  }
}

export { ApiError };
