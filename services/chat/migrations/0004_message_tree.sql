-- Conversations as trees: every message has the message it follows (null for a first message), so
-- editing a question or regenerating an answer adds a sibling instead of replacing anything. A
-- session shows one branch, the path from a root to its current leaf.
ALTER TABLE chat.messages ADD COLUMN parent_id uuid REFERENCES chat.messages (id);
ALTER TABLE chat.sessions ADD COLUMN current_leaf_id uuid REFERENCES chat.messages (id);

-- Existing conversations were linear: each message follows the one before it, the last is the leaf.
UPDATE chat.messages m SET parent_id = ordered.previous
  FROM (SELECT id, lag(id) OVER (PARTITION BY session_id ORDER BY created_at, id) AS previous FROM chat.messages) ordered
 WHERE m.id = ordered.id AND ordered.previous IS NOT NULL;
UPDATE chat.sessions s SET current_leaf_id = (
  SELECT id FROM chat.messages WHERE session_id = s.id ORDER BY created_at DESC, id DESC LIMIT 1);

-- A message's children (siblings of one another) in the order they were written; a session's roots.
CREATE INDEX messages_children_idx ON chat.messages (parent_id, created_at, id) WHERE parent_id IS NOT NULL;
CREATE INDEX messages_roots_idx ON chat.messages (session_id, created_at, id) WHERE parent_id IS NULL;
