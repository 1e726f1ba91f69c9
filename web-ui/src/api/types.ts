// The gateway's JSON shapes as the UI sees them (services/gateway/src/schemas.ts is the source).

export interface User {
  readonly id: string;
  readonly username: string;
  readonly createdAt: string | null;
}

/** GET/PATCH /api/me/settings: the person's settings, the same in every browser. */
export interface UserSettings {
  readonly thinking: boolean;
  readonly temperature: number;
  readonly maxTokens: number;
  readonly theme: 'system' | 'light' | 'dark';
  /** BCP 47 ("en", "zh-CN"); null: not chosen. */
  readonly language: string | null;
}

export interface AuthResult {
  readonly user: User;
  readonly accessToken: string;
  readonly accessTokenExpiresAt: string | null;
}

export interface Session {
  readonly id: string;
  readonly title: string;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
  /** The last message of the branch the session shows. */
  readonly currentLeafId: string | null;
  /** An answer in it is being written now (in lists). */
  readonly answering: boolean;
  /** Listed in the "Pinned" group on top. */
  readonly pinned: boolean;
  /** Trimmed, lower-case, distinct (the server normalises them). */
  readonly tags: readonly string[];
  readonly systemPrompt: string;
  readonly model: string;
}

/** What PATCH /api/sessions/:id changes: any of these, the rest stays. */
export interface SessionChanges {
  readonly title?: string;
  readonly pinned?: boolean;
  readonly tags?: readonly string[];
  readonly systemPrompt?: string;
  readonly model?: string;
}

/** One conversation found by GET /api/search: its best match. */
export interface SearchResult {
  readonly sessionId: string;
  /** The matching message; null when the title matched. */
  readonly messageId: string | null;
  readonly title: string;
  /** Plain text; `highlights` are the [start, end) of the matched words in it. */
  readonly snippet: string;
  readonly highlights: readonly (readonly [number, number])[];
}

export type MessageStatus = 'complete' | 'streaming' | 'stopped' | 'error' | 'unspecified';
export type FinishReason = 'stop' | 'length' | 'cancelled' | 'error';

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface DailyUsage extends Usage {
  /** YYYY-MM-DD, UTC. */
  readonly date: string;
  readonly requests: number;
}

export interface UsageReport {
  /** Newest first; days without usage left out. */
  readonly days: readonly DailyUsage[];
  readonly total: Usage & { readonly requests: number };
  readonly from: string;
}

/** An answer's timings, in ms from its run's start. */
export interface Timings {
  /** Until its first text; null when none came. */
  readonly timeToFirstTokenMs: number | null;
  readonly durationMs: number;
}

export interface ServerMessage {
  readonly id: string;
  readonly sessionId: string;
  /** The message this one follows; null for a first message. */
  readonly parentId: string | null;
  /** Every message following the same parent, this one included, oldest first. */
  readonly siblingIds: readonly string[];
  readonly role: 'user' | 'assistant' | 'unspecified';
  readonly content: string;
  readonly reasoning: string;
  readonly status: MessageStatus;
  readonly finishReason: FinishReason | null;
  readonly usage: Usage | null;
  readonly createdAt: string | null;
  readonly runId: string | null;
  /** Null until an answer has ended (and for answers stored before timings were kept). */
  readonly timings: Timings | null;
}

export interface ModelInfo {
  readonly id: string;
  readonly source: 'directory' | 'hub' | 'built-in';
  readonly builtIn: boolean;
  readonly maxContextTokens: number;
  readonly maxNewTokensLimit: number;
  /** Longest prompt in the model's tokens; null when the server does not say. */
  readonly maxPromptTokens?: number | null;
}

export interface GenerationParams {
  readonly temperature?: number;
  readonly maxNewTokens?: number;
}

export interface GenerationRequest {
  readonly enableThinking: boolean;
  readonly params: GenerationParams;
}

/** A read-only link to a conversation as it was when shared (POST /api/sessions/:id/share). */
export interface ShareLink {
  readonly token: string;
  /** The page's path, `/s/<token>`. */
  readonly url: string;
  readonly createdAt: string | null;
}

/** What a share link shows (GET /api/shared/:token): the branch as it was, no ids. */
export interface SharedConversation {
  readonly title: string;
  readonly sharedAt: string | null;
  readonly messages: readonly { readonly role: 'user' | 'assistant' | 'unspecified'; readonly content: string; readonly thinking: string; readonly createdAt: string | null }[];
}

export interface ImportResult {
  readonly imported: readonly { readonly sessionId: string; readonly title: string; readonly messages: number }[];
}

/** A file to save: its content and the name the server gave it. */
export interface Download {
  readonly blob: Blob;
  readonly filename: string;
}
