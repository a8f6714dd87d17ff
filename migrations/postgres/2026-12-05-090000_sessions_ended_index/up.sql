-- Only ended sessions are looked up by their end: a live session (most rows, and every
-- rotation's new row version) needs no entry in this index.
DROP INDEX token_sessions_ended_idx;
CREATE INDEX token_sessions_ended_idx ON token_sessions (ended_at) WHERE ended_at IS NOT NULL;
