DROP INDEX token_sessions_ended_idx;
CREATE INDEX token_sessions_ended_idx ON token_sessions (ended_at);
