// HTTP helpers for tests against a listening gateway: JSON calls, users, and an SSE reader.
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface JsonResponse<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export interface JsonRequestOptions {
  readonly method?: string;
  readonly token?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export async function jsonRequest<T = any>(baseUrl: string, path: string, options: JsonRequestOptions = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method: options.method ?? 'GET',
    headers,
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as T) : (undefined as T), headers: response.headers };
}

export interface TestUser {
  readonly id: string;
  readonly username: string;
  readonly password: string;
  accessToken: string;
  /** The refresh cookie as a `Cookie` header value (`freechat_refresh=…`). */
  refreshCookie: string;
}

/** The `name=value` of the refresh cookie a response set, or undefined. */
export function refreshCookieOf(headers: Headers): string | undefined {
  return headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .find((pair) => pair.startsWith('freechat_refresh=') && pair !== 'freechat_refresh=');
}

let counter = 0;

export async function registerUser(baseUrl: string, prefix = 'user'): Promise<TestUser> {
  const username = `${prefix}_${process.pid}_${++counter}`;
  const password = 'correct horse battery staple';
  const response = await jsonRequest(baseUrl, '/api/auth/register', { method: 'POST', body: { username, password } });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${JSON.stringify(response.body)}`);
  return {
    id: response.body.user.id,
    username,
    password,
    accessToken: response.body.accessToken,
    refreshCookie: refreshCookieOf(response.headers) ?? '',
  };
}

export interface SseEventRecord {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: any;
}

export interface SseReadResult {
  readonly status: number;
  readonly headers: Headers;
  readonly events: SseEventRecord[];
  readonly comments: string[];
  /** True when the reader stopped on `until`, not at the end of the stream. */
  readonly stoppedEarly: boolean;
}

export interface SseRequestOptions extends JsonRequestOptions {
  /** Stop reading (and drop the connection) once this returns true for an event. */
  readonly until?: (event: SseEventRecord, events: readonly SseEventRecord[]) => boolean;
  readonly timeoutMs?: number;
}

/** Reads an event stream, across arbitrary chunk boundaries, until it ends or `until` says stop. */
export async function readSse(baseUrl: string, path: string, options: SseRequestOptions = {}): Promise<SseReadResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('SSE read timed out')), options.timeoutMs ?? 30_000);
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method: options.method ?? 'GET',
      headers,
      signal: controller.signal,
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    });
    const events: SseEventRecord[] = [];
    const comments: string[] = [];
    if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
      const text = await response.text();
      return { status: response.status, headers: response.headers, events, comments: text ? [text] : [], stoppedEarly: false };
    }
    let stop = false;
    const parser = createParser({
      onEvent: (message: EventSourceMessage) => {
        if (stop) return;
        const record = { id: message.id, event: message.event, data: JSON.parse(message.data) };
        events.push(record);
        if (options.until?.(record, events)) stop = true;
      },
      onComment: (comment) => comments.push(comment.trim()),
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    while (!stop) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    if (stop) {
      await reader.cancel().catch(() => {});
      controller.abort();
    }
    return { status: response.status, headers: response.headers, events, comments, stoppedEarly: stop };
  } finally {
    clearTimeout(timer);
  }
}
