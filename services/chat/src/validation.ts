// Request checks at the gRPC edge: each failure names the proto field.
import { InvalidArgumentError } from './errors.js';

export const DEFAULT_TITLE = 'New chat';
export const MAX_TITLE_CHARS = 200;
export const MAX_CONTENT_CHARS = 32_000;
export const AUTO_TITLE_CHARS = 60;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_MESSAGE_PAGE = 50;
export const MAX_MESSAGE_PAGE = 200;
export const MAX_SYSTEM_PROMPT_CHARS = 8_000;
export const MAX_MODEL_CHARS = 200;
export const MAX_TAGS = 10;
export const MAX_TAG_CHARS = 40;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Characters as people count them (code points), so a limit never splits an emoji. */
export const charCount = (text: string): number => [...text].length;

export const isUuid = (value: string): boolean => UUID.test(value);

export function requireUuid(field: string, value: string): string {
  if (!isUuid(value)) throw new InvalidArgumentError(field, 'must be a UUID');
  return value.toLowerCase();
}

/**
 * NUL, which PostgreSQL's text cannot hold (an insert fails), and unpaired UTF-16 surrogates, which
 * would be stored silently replaced by U+FFFD (protobuf and pg both encode UTF-8). The gateway's
 * schemas refuse the same (`STORABLE_TEXT_PATTERN`); this is the check every other caller meets.
 */
const UNSTORABLE = /[\u0000\p{Cs}]/u;

export function requireStorableText(field: string, value: string): void {
  if (UNSTORABLE.test(value)) throw new InvalidArgumentError(field, 'must not contain NUL characters or unpaired surrogates');
}

/** Trimmed, 1-200 characters; empty is allowed only where a default applies (create). */
export function validateTitle(value: string, options: { readonly emptyMeansDefault: boolean }): string {
  requireStorableText('title', value);
  const title = value.trim();
  if (title === '' && options.emptyMeansDefault) return DEFAULT_TITLE;
  if (title === '') throw new InvalidArgumentError('title', 'must not be empty');
  if (charCount(title) > MAX_TITLE_CHARS) throw new InvalidArgumentError('title', `must be at most ${MAX_TITLE_CHARS} characters`);
  return title;
}

/** One tag as stored: NFC, trimmed, inner whitespace one space, lower-case, 1-40 characters. */
export function normaliseTag(field: string, value: string): string {
  requireStorableText(field, value);
  const tag = value.normalize('NFC').replace(/\s+/gu, ' ').trim().toLowerCase();
  if (tag === '') throw new InvalidArgumentError(field, 'must not be empty');
  if (charCount(tag) > MAX_TAG_CHARS) throw new InvalidArgumentError(field, `must be at most ${MAX_TAG_CHARS} characters`);
  return tag;
}

/** A session's tags: each normalised, duplicates (after normalising) dropped in order, at most 10. */
export function normaliseTags(values: readonly string[]): string[] {
  const tags = [...new Set(values.map((value) => normaliseTag('tags', value)))];
  if (tags.length > MAX_TAGS) throw new InvalidArgumentError('tags', `must be at most ${MAX_TAGS} distinct tags`);
  return tags;
}

/** Kept as written (its whitespace may be meant); empty means none. */
export function validateSystemPrompt(value: string): string {
  requireStorableText('system_prompt', value);
  if (charCount(value) > MAX_SYSTEM_PROMPT_CHARS)
    throw new InvalidArgumentError('system_prompt', `must be at most ${MAX_SYSTEM_PROMPT_CHARS} characters`);
  return value;
}

/** A model id, trimmed; empty means the default model. */
export function validateModel(value: string): string {
  requireStorableText('model', value);
  const model = value.trim();
  if (charCount(model) > MAX_MODEL_CHARS) throw new InvalidArgumentError('model', `must be at most ${MAX_MODEL_CHARS} characters`);
  return model;
}

/** Kept as written (leading spaces and newlines can matter), but never blank. */
export function validateContent(value: string): string {
  requireStorableText('content', value);
  if (value.trim() === '') throw new InvalidArgumentError('content', 'must not be empty');
  if (charCount(value) > MAX_CONTENT_CHARS) throw new InvalidArgumentError('content', `must be at most ${MAX_CONTENT_CHARS} characters`);
  return value;
}

export function pageSize(requested: number): number {
  if (requested === 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}

/** ListMessages' `limit`: absent or 0 is the default; above the maximum is refused, not clamped, like the gateway does. */
export function messagePageLimit(requested: number | undefined): number {
  if (!requested) return DEFAULT_MESSAGE_PAGE;
  if (requested > MAX_MESSAGE_PAGE) throw new InvalidArgumentError('limit', `must be at most ${MAX_MESSAGE_PAGE}`);
  return requested;
}

/** `max_new_tokens` against the model's limit (undefined: unknown, left to inference). */
export function validateMaxNewTokens(requested: number | undefined, limit: number | undefined): void {
  if (requested !== undefined && limit !== undefined && requested > limit)
    throw new InvalidArgumentError('params.max_new_tokens', `must be at most ${limit}, the model's limit`);
}

/** The first user message, on one line and cut to 60 characters. */
export function autoTitle(content: string): string {
  const line = content.replace(/\s+/g, ' ').trim();
  return [...line].slice(0, AUTO_TITLE_CHARS).join('').trim() || DEFAULT_TITLE;
}

export interface GenerationParamsInput {
  readonly temperature?: number | undefined;
  readonly topP?: number | undefined;
  readonly topK?: number | undefined;
  readonly maxNewTokens?: number | undefined;
  readonly seed?: number | undefined;
}

/** Bounds the chat service can know; the model's own limits are the inference service's to check. */
export function validateParams(params: GenerationParamsInput | undefined): void {
  if (!params) return;
  const { temperature, topP, maxNewTokens, seed } = params;
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0))
    throw new InvalidArgumentError('params.temperature', 'must be >= 0 (0 is greedy)');
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new InvalidArgumentError('params.top_p', 'must be in (0, 1]');
  if (maxNewTokens !== undefined && maxNewTokens < 1) throw new InvalidArgumentError('params.max_new_tokens', 'must be at least 1');
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw new InvalidArgumentError('params.seed', 'must be below 2^53');
}
