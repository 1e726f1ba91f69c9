// The engine's own vocabulary, independent of gRPC: the server maps the proto contract onto it.

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatTurn {
  readonly role: ChatRole;
  readonly content: string;
}

/** The part of an answer already written: its reasoning (the think block's text) and its content. */
export interface AnswerPrefix {
  readonly reasoning: string;
  readonly content: string;
}

/** What a caller may ask for; unset fields fall back to the model's generation defaults. */
export interface SamplingRequest {
  readonly temperature?: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly repetitionPenalty?: number;
  readonly maxNewTokens?: number;
  readonly seed?: number;
  readonly stop?: readonly string[];
}

/** Sampling after defaults and validation: every field present. */
export interface SamplingParams {
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly repetitionPenalty: number;
  readonly maxNewTokens: number;
  readonly seed: number;
  readonly stop: readonly string[];
}

export interface GenerationRequest {
  readonly requestId: string;
  readonly messages: readonly ChatTurn[];
  /** Undefined: the chat template's default (Qwen3 thinks). */
  readonly enableThinking?: boolean;
  readonly sampling: SamplingRequest;
  /** Whose request this is: prefill chunks and batch slots go round-robin across keys. Unset: one shared key. */
  readonly fairnessKey?: string;
  /**
   * An answer cut short (at the token limit) that the model goes on writing instead of starting a new
   * one: the prompt ends inside it, and the deltas carry only what follows.
   */
  readonly answerPrefix?: AnswerPrefix;
  /** Aborting removes the sequence from the batch at the next step and ends the stream with `cancelled`. */
  readonly signal?: AbortSignal;
}

export type Channel = 'reasoning' | 'content';
export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Of promptTokens, those whose K/V an earlier sequence left in the prefix cache (no prefill). */
  readonly cachedPromptTokens: number;
}

export interface Timings {
  readonly queueWaitMs: number;
  readonly timeToFirstTokenMs: number;
  readonly decodeTokensPerSecond: number;
}

export type GenerationEvent =
  | { readonly type: 'delta'; readonly channel: Channel; readonly text: string; readonly tokenCount: number }
  | { readonly type: 'done'; readonly finishReason: FinishReason; readonly usage: Usage; readonly timings: Timings };

/**
 * What the engine reports as it works, for metrics; every method optional, seconds throughout.
 * Kept free of any metrics library: the server wires it to Prometheus (src/metrics.ts).
 */
export interface EngineObserver {
  /** A request left the queue for the batch after waiting this long. */
  admitted?(queueWaitSeconds: number): void;
  /** One prefill chunk's forward pass. */
  prefillStep?(seconds: number, tokens: number): void;
  /** One decode step's forward pass over `batchSize` requests. */
  decodeStep?(seconds: number, batchSize: number): void;
  /** A token was sampled: since the request arrived (first) or since its previous token. */
  token?(seconds: number, first: boolean): void;
  /** After every step: requests running (prefilling or decoding) and waiting, and the KV cache. */
  load?(state: { readonly running: number; readonly waiting: number; readonly kvCache: KvCacheState }): void;
  /** A request ended ('error': its step failed), `seconds` after it arrived. */
  finished?(reason: FinishReason | 'error', usage: Usage, seconds: number): void;
  /** A delta event is handed to the request's stream (the same object the consumer receives). */
  delta?(event: GenerationEvent): void;
}

export type ModelSourceKind = 'directory' | 'hub' | 'built-in';

export interface EngineLimits {
  readonly maxBatchSize: number;
  readonly maxQueueSize: number;
  readonly maxContextTokens: number;
  readonly maxNewTokensLimit: number;
  /** Longest prompt accepted, in tokens. Unset (or above it): the context less one token for the answer. */
  readonly maxPromptTokens?: number;
  /** K/V bytes running requests may reserve together, each its worst case (prompt + max new tokens). Unset: no bound. */
  readonly kvCacheBudgetBytes?: number;
}

/** The limits a loaded model enforces, every one resolved. */
export interface ModelLimits extends EngineLimits {
  readonly maxPromptTokens: number;
}

export interface LoadedModelInfo {
  readonly id: string;
  readonly source: ModelSourceKind;
  readonly path: string;
  readonly limits: ModelLimits;
}

/** The KV cache now: how it is kept and its bytes (ListModels and the metrics report it). */
export interface KvCacheState {
  readonly path: 'shared-buffer' | 'generic';
  /** Undefined: no budget configured. */
  readonly budgetBytes: number | undefined;
  /** Worst-case bytes of the requests prefilling and running. */
  readonly reservedBytes: number;
  /** Bytes held now, prefix cache included. */
  readonly allocatedBytes: number;
  /** Bytes of cached prefixes (finished conversations kept for their next turn). */
  readonly prefixCacheBytes: number;
}

export interface Engine {
  readonly model: LoadedModelInfo;
  readonly kvCache: KvCacheState;
  /**
   * Validates and enqueues. Throws InvalidArgumentError / ResourceExhaustedError synchronously-ish
   * (before the first event) and never after: once iteration starts, the stream ends with one `done`.
   */
  generate(request: GenerationRequest): AsyncIterable<GenerationEvent>;
  /** Sequences running or waiting. */
  readonly activeCount: number;
  /** Stops admitting new requests and resolves when every running stream has finished. */
  drain(): Promise<void>;
  /** Resolves once the engine has nothing left to do, background work (warming a next turn) included. */
  idle(): Promise<void>;
  /** Releases the ONNX session. */
  close(): Promise<void>;
}
