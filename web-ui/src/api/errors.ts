// Errors the UI can meet, and the plain-language sentence each one shows. Pure: no DOM.
import { t } from '../i18n';

/** The gateway answered with `{error: {code, message}}` (or at least a status). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The request never got an answer: offline, DNS, connection reset. */
export class NetworkError extends Error {
  constructor(cause?: unknown) {
    super('network error', { cause });
    this.name = 'NetworkError';
  }
}

/** The sentences, in the active language when read. */
export const MESSAGES = {
  get network() {
    return t('error.network');
  },
  get rateLimited() {
    return t('error.rateLimited');
  },
  get server() {
    return t('error.server');
  },
  get unavailable() {
    return t('error.unavailable');
  },
  get sessionExpired() {
    return t('error.sessionExpired');
  },
  get runInProgress() {
    return t('error.runInProgress');
  },
  get wrongCredentials() {
    return t('error.wrongCredentials');
  },
  get stalled() {
    return t('error.stalled');
  },
  get reconnecting() {
    return t('error.reconnecting');
  },
};

/** A sentence for the user; 4xx messages from the gateway are already meant for people. */
export function describeError(error: unknown): string {
  if (error instanceof NetworkError) return MESSAGES.network;
  if (error instanceof ApiError) {
    if (error.status === 429) return MESSAGES.rateLimited;
    if (error.status === 503 || error.status === 504) return MESSAGES.unavailable;
    if (error.status >= 500) return MESSAGES.server;
    if (error.status === 401) return MESSAGES.sessionExpired;
    if (error.code === 'run_in_progress') return MESSAGES.runInProgress;
    return error.message || MESSAGES.server;
  }
  return MESSAGES.server;
}

/** A refused login is about what was typed, not an expired session (both are 401s). */
export function describeLoginError(error: unknown): string {
  return error instanceof ApiError && error.status === 401 ? MESSAGES.wrongCredentials : describeError(error);
}

/**
 * The API could not be asked (no answer, or a 5xx/429): worth a retry. A refusal (another 4xx)
 * is an answer, and retrying it changes nothing.
 */
export function isTransient(error: unknown): boolean {
  return error instanceof NetworkError || (error instanceof ApiError && (error.status >= 500 || error.status === 429));
}

/** An `error` event inside a run stream. */
export function describeRunError(code: string, message: string): string {
  if (code === 'rate_limited' || code === 'resource_exhausted') return t('error.modelBusy');
  if (code === 'service_unavailable' || code === 'unavailable') return MESSAGES.unavailable;
  if (code === 'invalid_request' && message) return message;
  if (code === 'prompt_too_long') {
    // The server's message names its token counts: the authoritative "how long is too long".
    return t('error.promptTooLong', message || t('error.promptTooLongDefault'));
  }
  return t('error.answerFailed');
}

export async function errorFromResponse(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = response.statusText;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // Not JSON (a proxy's error page): the status alone decides the message.
  }
  return new ApiError(response.status, code, message);
}
