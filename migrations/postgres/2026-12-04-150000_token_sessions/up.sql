-- One row per login: a session is a family of tokens (a refresh token and its rotations, or a
-- sliding token) that all carry its id in the `sid` claim.
CREATE TABLE token_sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    current_jti TEXT NOT NULL,
    previous_jti TEXT,
    rotated_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    refreshed_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    client_address TEXT NOT NULL DEFAULT '',
    ended_at TIMESTAMP,
    end_reason TEXT,
    ended_by BIGINT
);
CREATE INDEX token_sessions_user_idx ON token_sessions (user_id, created_at);
CREATE INDEX token_sessions_ended_idx ON token_sessions (ended_at);
CREATE INDEX token_sessions_expires_idx ON token_sessions (expires_at);
CREATE INDEX token_sessions_current_jti_idx ON token_sessions (current_jti);
