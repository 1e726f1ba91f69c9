-- Read-only share links: each token holds a snapshot of one session's branch (title and messages) as
-- it was when shared, so the link does not follow the conversation. Revoking (or deleting the
-- session) sets revoked_at; the row is kept, and a revoked token answers like an unknown one.
CREATE TABLE chat.shared_snapshots (
  token text PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES chat.sessions (id),
  user_id uuid NOT NULL,
  snapshot jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  revoked_at timestamptz
);

-- A session's live links (list, revoke).
CREATE INDEX shared_snapshots_session_idx ON chat.shared_snapshots (session_id, created_at DESC) WHERE revoked_at IS NULL;
