// The open conversation lives in the URL: `/c/<sessionId>`; anything else is the empty state.
const PATH = /^\/c\/([0-9a-fA-F-]{36})\/?$/;

export function sessionIdFromPath(pathname: string): string | null {
  return PATH.exec(pathname)?.[1]?.toLowerCase() ?? null;
}

export function pathForSession(sessionId: string | null): string {
  return sessionId === null ? '/' : `/c/${sessionId}`;
}

// A shared conversation's read-only page: `/s/<token>` (22 base64url characters), no sign-in needed.
const SHARED = /^\/s\/([A-Za-z0-9_-]{1,64})\/?$/;

export function shareTokenFromPath(pathname: string): string | null {
  return SHARED.exec(pathname)?.[1] ?? null;
}
