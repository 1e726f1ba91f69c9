// What the sidebar shows, as pure functions: the conversations a title filter and a tag leave, in
// a "Pinned" group and the rest; the tags typed into a tag box; a search snippet cut into plain and
// highlighted parts (rendered as text nodes and <mark> elements, never as HTML).
import type { SearchResult, Session } from '../api/types';

/** How long typing must pause before the search is asked. */
export const SEARCH_DEBOUNCE_MS = 250;

export interface SessionGroups {
  readonly pinned: readonly Session[];
  readonly others: readonly Session[];
}

/** Latest activity first, as the server lists them (ISO times compare as strings); ties keep their order. */
const byActivity = (a: Session, b: Session): number => {
  const [x, y] = [a.updatedAt ?? '', b.updatedAt ?? ''];
  return x === y ? 0 : x < y ? 1 : -1;
};

/**
 * Title containing the filter (any case) and having the tag; pinned ones apart, each group by latest
 * activity (so a conversation unpinned here goes back to its place without a reload).
 */
export function groupSessions(sessions: readonly Session[], filter: string, tag: string | null): SessionGroups {
  const needle = filter.trim().toLowerCase();
  const shown = sessions
    .filter((s) => (needle === '' || s.title.toLowerCase().includes(needle)) && (tag === null || s.tags.includes(tag)))
    .sort(byActivity);
  return { pinned: shown.filter((s) => s.pinned), others: shown.filter((s) => !s.pinned) };
}

/** Search results for conversations the title filter does not already show (no conversation twice). */
export function extraResults(results: readonly SearchResult[], shown: SessionGroups): SearchResult[] {
  const ids = new Set([...shown.pinned, ...shown.others].map((s) => s.id));
  return results.filter((r) => !ids.has(r.sessionId));
}

/** "Work, side project ,, ideas" → ["Work", "side project", "ideas"]; the server lower-cases and dedupes. */
export function parseTags(input: string): string[] {
  return input
    // A Chinese keyboard types the full-width comma by default.
    .split(/[,，、]/)
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
}

export interface SnippetPart {
  readonly text: string;
  readonly marked: boolean;
}

/** The snippet in order, each part marked or not; ranges out of order, out of bounds or overlapping are tolerated. */
export function snippetParts(snippet: string, highlights: readonly (readonly [number, number])[]): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let at = 0;
  for (const [rawStart, rawEnd] of [...highlights].sort((a, b) => a[0] - b[0])) {
    const start = Math.max(at, Math.min(rawStart, snippet.length));
    const end = Math.max(start, Math.min(rawEnd, snippet.length));
    if (end === start) continue;
    if (start > at) parts.push({ text: snippet.slice(at, start), marked: false });
    const last = parts.at(-1);
    // Overlapping or touching ranges make one mark.
    if (last?.marked && start === at) parts[parts.length - 1] = { text: last.text + snippet.slice(start, end), marked: true };
    else parts.push({ text: snippet.slice(start, end), marked: true });
    at = end;
  }
  if (at < snippet.length) parts.push({ text: snippet.slice(at), marked: false });
  return parts;
}
