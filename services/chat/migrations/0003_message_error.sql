-- The error a failed answer ended with, so a reader who comes back after the run's log is gone is
-- told what the live readers were (e.g. inference_unavailable), not only "interrupted". Null for
-- answers that did not fail, and for those closed by the reaper or a dead owner (interrupted).
ALTER TABLE chat.messages ADD COLUMN error_code text, ADD COLUMN error_message text;
