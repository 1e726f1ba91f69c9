-- Domain events: the transactional outbox, what the consumers have applied, what they gave up on,
-- and the usage they count.

-- Who named the session: 'auto' (the default or its first message), 'generated' (the title writer),
-- 'user' (created with a title or renamed). The title writer only ever replaces an 'auto' title.
ALTER TABLE sessions ADD COLUMN title_source text NOT NULL DEFAULT 'auto'
  CHECK (title_source IN ('auto', 'generated', 'user'));

-- Written in the same transaction as the change it describes. seq is the publishing order; every
-- writer locks the session row first, so one session's events are numbered in commit order.
CREATE TABLE outbox (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id uuid NOT NULL UNIQUE,
  type text NOT NULL,
  session_id uuid NOT NULL,
  user_id uuid NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  payload jsonb NOT NULL,
  published_at timestamptz,
  publish_attempts integer NOT NULL DEFAULT 0,
  last_error text
);

-- The relay: the few rows not yet published, oldest first.
CREATE INDEX outbox_pending_idx ON outbox (seq) WHERE published_at IS NULL;
-- One run.completed per assistant message, however often its final write is retried.
CREATE UNIQUE INDEX outbox_run_completed_key ON outbox ((payload ->> 'messageId')) WHERE type = 'run.completed';

-- An event a consumer has applied, inserted in the same transaction as its effect: a redelivery
-- finds it and is skipped.
CREATE TABLE processed_events (
  consumer text NOT NULL,
  event_id uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (consumer, event_id)
);

-- Events a consumer failed on events.maxAttempts times, acknowledged so they stop blocking their
-- session's queue. Kept for a person to look at.
CREATE TABLE dead_letters (
  consumer text NOT NULL,
  event_id uuid NOT NULL,
  type text NOT NULL,
  session_id uuid,
  attempts integer NOT NULL,
  reason text NOT NULL,
  event jsonb NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (consumer, event_id)
);

-- Per user, per UTC day: runs and the tokens they used.
CREATE TABLE usage_daily (
  user_id uuid NOT NULL,
  day date NOT NULL,
  requests integer NOT NULL DEFAULT 0,
  prompt_tokens bigint NOT NULL DEFAULT 0,
  completion_tokens bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, day)
);
