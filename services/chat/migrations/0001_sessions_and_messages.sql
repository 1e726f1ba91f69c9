-- Sessions and their messages. owner_id is the auth service's user id: no foreign key across schemas.
CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL,
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  deleted_at timestamptz
);

-- ListSessions: one owner's live sessions, newest activity first, keyset on (updated_at, id).
CREATE INDEX sessions_owner_activity_idx ON sessions (owner_id, updated_at DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE messages (
  id uuid PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (id),
  role text NOT NULL CHECK (role IN ('user', 'assistant')),
  content text NOT NULL DEFAULT '',
  -- The model's thinking, never mixed into content.
  reasoning text NOT NULL DEFAULT '',
  status text NOT NULL CHECK (status IN ('complete', 'streaming', 'stopped', 'error')),
  finish_reason text CHECK (finish_reason IN ('stop', 'length', 'cancelled', 'error')),
  prompt_tokens integer CHECK (prompt_tokens >= 0),
  completion_tokens integer CHECK (completion_tokens >= 0),
  run_id uuid,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- ListMessages and prompt history: one session's messages, oldest first.
CREATE INDEX messages_session_order_idx ON messages (session_id, created_at, id);
-- AttachRun / StopRun ownership: run id → message → session → owner.
CREATE UNIQUE INDEX messages_run_id_key ON messages (run_id) WHERE run_id IS NOT NULL;
-- The reaper: only the few rows still streaming.
CREATE INDEX messages_streaming_idx ON messages (updated_at) WHERE status = 'streaming';
