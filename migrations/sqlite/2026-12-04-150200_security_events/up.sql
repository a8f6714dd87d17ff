-- The audit log: sign-ins, password changes and administrative changes. No foreign keys to
-- users: a row keeps the username of the time and stays meaningful after the user is deleted.
CREATE TABLE security_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT,
    subject_id BIGINT,
    username TEXT NOT NULL DEFAULT '',
    session_id TEXT,
    client_address TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX security_events_at_idx ON security_events (at);
CREATE INDEX security_events_subject_idx ON security_events (subject_id, at);
CREATE INDEX security_events_actor_idx ON security_events (actor_id, at);
CREATE INDEX security_events_kind_idx ON security_events (kind, at);

INSERT INTO permissions (codename, name) VALUES
    ('audit.view_securityevent', 'Can view security event');
