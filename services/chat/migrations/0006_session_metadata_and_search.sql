-- Session metadata people edit (pin, tags, a system prompt, a model) and full-text search.
ALTER TABLE chat.sessions
  ADD COLUMN pinned boolean NOT NULL DEFAULT false,
  ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
  ADD COLUMN system_prompt text NOT NULL DEFAULT '' CHECK (char_length(system_prompt) <= 8000),
  ADD COLUMN model text NOT NULL DEFAULT '' CHECK (char_length(model) <= 200);

-- ListSessions: pinned first, then newest activity; keyset on (pinned, updated_at, id).
DROP INDEX chat.sessions_owner_activity_idx;
CREATE INDEX sessions_owner_pinned_activity_idx ON chat.sessions (owner_id, pinned DESC, updated_at DESC, id DESC) WHERE deleted_at IS NULL;
-- The tag filter (tags @> ARRAY[tag]) reads one owner's sessions through that index: no index of its own.

-- SearchSessions: the 'simple' configuration (no stemming, no stop words) token-matches any
-- language. The queries use exactly these expressions, so the planner can use the indexes (for a
-- user with few sessions it rather reads them through the owner index, which is as good).
CREATE INDEX sessions_title_search_idx ON chat.sessions USING gin (to_tsvector('simple', title));
CREATE INDEX messages_content_search_idx ON chat.messages USING gin (to_tsvector('simple', content));
