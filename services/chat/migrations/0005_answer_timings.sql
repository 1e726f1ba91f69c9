-- How long an answer took, for the numbers under it (time to first token, tokens per second): both in
-- milliseconds from the run's start. Null for answers written before, and first_token_ms when no text came.
ALTER TABLE chat.messages
  ADD COLUMN first_token_ms integer CHECK (first_token_ms >= 0),
  ADD COLUMN duration_ms integer CHECK (duration_ms >= 0);
