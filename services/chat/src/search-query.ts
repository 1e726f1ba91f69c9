// Pure pieces of SearchSessions: the tsquery built from what a person typed, and the highlights cut
// out of a ts_headline. No user text ever reaches to_tsquery's syntax: only letters and digits do.
import { InvalidArgumentError } from './errors.js';
import { charCount, requireStorableText } from './validation.js';

export const MAX_QUERY_CHARS = 200;
export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 50;
/** More words than anyone types into a search box; the rest are ignored. */
const MAX_QUERY_WORDS = 16;

/** Private-use characters around each match in a headline: never HTML, and stripped from the text first. */
export const HIGHLIGHT_START = '\uE000';
export const HIGHLIGHT_STOP = '\uE001';

/** ts_headline's options: two short fragments around the matches, marked with the characters above. */
export const HEADLINE_OPTIONS = `StartSel=${HIGHLIGHT_START}, StopSel=${HIGHLIGHT_STOP}, MaxFragments=2, MaxWords=18, MinWords=6, ShortWord=0, FragmentDelimiter=" … "`;

/** Runs of letters, combining marks and digits: the words the 'simple' parser would find in them. */
const WORD = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * The query's text, checked (storable, 1-200 characters, not blank).
 */
export function validateQuery(value: string): string {
  requireStorableText('query', value);
  if (value.trim() === '') throw new InvalidArgumentError('query', 'must not be empty');
  if (charCount(value) > MAX_QUERY_CHARS) throw new InvalidArgumentError('query', `must be at most ${MAX_QUERY_CHARS} characters`);
  return value;
}

export function searchLimit(requested: number): number {
  if (requested === 0) return DEFAULT_SEARCH_LIMIT;
  if (requested > MAX_SEARCH_LIMIT) throw new InvalidArgumentError('limit', `must be at most ${MAX_SEARCH_LIMIT}`);
  return requested;
}

/**
 * A to_tsquery('simple', …) text: every word required (AND); the last also as a prefix (`:*`) while
 * it is being typed, that is unless the query ends with whitespace. Undefined when the query has no
 * word at all (only punctuation): nothing can match.
 */
export function buildTsQuery(query: string): string | undefined {
  const words = (query.normalize('NFC').toLowerCase().match(WORD) ?? []).slice(0, MAX_QUERY_WORDS);
  if (words.length === 0) return undefined;
  const typing = !/\s$/u.test(query);
  return words.map((word, i) => `'${word}'${typing && i === words.length - 1 ? ':*' : ''}`).join(' & ');
}

export interface HighlightedText {
  /** The text without markers. */
  readonly text: string;
  /** [start, end) of each match in `text`, in UTF-16 code units. */
  readonly highlights: readonly (readonly [number, number])[];
}

/** Splits a ts_headline made with HEADLINE_OPTIONS into plain text and the ranges it marked. */
export function splitHighlights(headline: string): HighlightedText {
  let text = '';
  const highlights: [number, number][] = [];
  let start: number | undefined;
  for (const part of headline.split(/([\uE000\uE001])/u)) {
    if (part === HIGHLIGHT_START) start = text.length;
    else if (part === HIGHLIGHT_STOP) {
      if (start !== undefined && text.length > start) highlights.push([start, text.length]);
      start = undefined;
    } else text += part;
  }
  return { text, highlights };
}
