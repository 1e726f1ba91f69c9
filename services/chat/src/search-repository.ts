// Full-text search over one owner's live sessions: titles and every message (any branch), through
// the GIN indexes of migration 0006 (the expressions here must stay exactly those of the indexes).
import type pg from 'pg';
import { HEADLINE_OPTIONS, splitHighlights, type HighlightedText } from './search-query.js';

export interface SearchHitRow {
  readonly sessionId: string;
  /** Null for a title hit. */
  readonly messageId: string | null;
  readonly title: string;
  readonly snippet: HighlightedText;
}

interface Raw {
  session_id: string;
  message_id: string | null;
  title: string;
  headline: string;
}

// Each session's best hit (on equal rank, the title), the best `limit` of those; headlines only
// for them. The markers are removed from the text first, so a message containing them cannot forge
// a highlight.
const SEARCH_SQL = `
WITH q AS (SELECT to_tsquery('simple', $2) AS query),
hits AS (
  SELECT s.id AS session_id, NULL::uuid AS message_id, ts_rank(to_tsvector('simple', s.title), q.query) AS rank
    FROM chat.sessions s, q
   WHERE s.owner_id = $1 AND s.deleted_at IS NULL AND to_tsvector('simple', s.title) @@ q.query
  UNION ALL
  SELECT m.session_id, m.id, ts_rank(to_tsvector('simple', m.content), q.query)
    FROM chat.messages m JOIN chat.sessions s ON s.id = m.session_id, q
   WHERE s.owner_id = $1 AND s.deleted_at IS NULL AND to_tsvector('simple', m.content) @@ q.query
),
best AS (
  SELECT DISTINCT ON (session_id) session_id, message_id, rank
    FROM hits ORDER BY session_id, rank DESC, message_id NULLS FIRST
),
top AS (
  SELECT best.*, s.title, s.updated_at FROM best JOIN chat.sessions s ON s.id = best.session_id
   ORDER BY best.rank DESC, s.updated_at DESC, best.session_id LIMIT $3
)
SELECT top.session_id, top.message_id, top.title,
       ts_headline('simple', translate(coalesce(m.content, top.title), E'\\uE000\\uE001', ''), q.query, $4) AS headline
  FROM top LEFT JOIN chat.messages m ON m.id = top.message_id, q
 ORDER BY top.rank DESC, top.updated_at DESC, top.session_id`;

export class SearchRepository {
  constructor(private readonly db: pg.Pool) {}

  /** `tsQuery` from buildTsQuery: never raw user input. */
  async search(ownerId: string, tsQuery: string, limit: number): Promise<SearchHitRow[]> {
    const { rows } = await this.db.query<Raw>(SEARCH_SQL, [ownerId, tsQuery, limit, HEADLINE_OPTIONS]);
    return rows.map((r) => ({ sessionId: r.session_id, messageId: r.message_id, title: r.title, snippet: splitHighlights(r.headline) }));
  }
}
