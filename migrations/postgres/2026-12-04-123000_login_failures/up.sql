-- Failed sign-ins, counted per (address, username) pair, per username and per address.
-- key_digest is SHA-256 of the counter's scope, username and address.
CREATE TABLE login_failures (
    key_digest TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    failures BIGINT NOT NULL,
    last_failed_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);
CREATE INDEX login_failures_locked_idx ON login_failures (locked_until);
CREATE INDEX login_failures_last_failed_idx ON login_failures (last_failed_at);
