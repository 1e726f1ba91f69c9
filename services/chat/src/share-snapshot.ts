// Pure: what a share link shows, taken from the session's branch when it is shared and stored as
// jsonb, and its token. Only what a reader needs: no ids, statuses, runs or usage.
import { randomBytes } from 'node:crypto';
import type { MessageRole, MessageRow } from './messages-repository.js';

export interface SnapshotMessage {
  readonly role: MessageRole;
  readonly content: string;
  readonly thinking: string;
  /** ISO 8601. */
  readonly createdAt: string;
}

export interface ShareSnapshot {
  readonly title: string;
  readonly messages: readonly SnapshotMessage[];
}

/** 128 random bits, base64url (22 characters): unguessable, and safe in a URL path. */
export const newShareToken = (): string => randomBytes(16).toString('base64url');

export const SHARE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** The branch, first message first, as the snapshot stores it. */
export function shareSnapshot(title: string, branch: readonly Pick<MessageRow, 'role' | 'content' | 'reasoning' | 'createdAt'>[]): ShareSnapshot {
  return {
    title,
    messages: branch.map((m) => ({ role: m.role, content: m.content, thinking: m.reasoning, createdAt: m.createdAt.toISOString() })),
  };
}

/** A stored snapshot read back (jsonb is input too): anything malformed is left out, never thrown. */
export function readSnapshot(value: unknown): ShareSnapshot {
  const raw = (typeof value === 'object' && value !== null ? value : {}) as { title?: unknown; messages?: unknown };
  const messages = Array.isArray(raw.messages) ? raw.messages : [];
  return {
    title: typeof raw.title === 'string' ? raw.title : '',
    messages: messages.flatMap((m: { role?: unknown; content?: unknown; thinking?: unknown; createdAt?: unknown }) =>
      (m?.role === 'user' || m?.role === 'assistant') && typeof m.content === 'string'
        ? [{ role: m.role, content: m.content, thinking: typeof m.thinking === 'string' ? m.thinking : '', createdAt: typeof m.createdAt === 'string' ? m.createdAt : '' }]
        : [],
    ),
  };
}
