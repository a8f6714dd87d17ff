CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL DEFAULT '',
    password TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    is_staff BOOLEAN NOT NULL DEFAULT FALSE,
    is_superuser BOOLEAN NOT NULL DEFAULT FALSE,
    date_joined TIMESTAMP NOT NULL,
    last_login TIMESTAMP,
    security_stamp TEXT NOT NULL
);
CREATE INDEX users_email_idx ON users (email);
CREATE INDEX users_superuser_idx ON users (is_superuser) WHERE is_superuser;

CREATE TABLE groups (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE permissions (
    id BIGSERIAL PRIMARY KEY,
    codename TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE user_groups (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_groups_group_idx ON user_groups (group_id);

CREATE TABLE group_permissions (
    group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    permission_id BIGINT NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, permission_id)
);
CREATE INDEX group_permissions_permission_idx ON group_permissions (permission_id);

CREATE TABLE user_permissions (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission_id BIGINT NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, permission_id)
);
CREATE INDEX user_permissions_permission_idx ON user_permissions (permission_id);

CREATE TABLE outstanding_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    jti TEXT NOT NULL UNIQUE,
    token_digest TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX outstanding_tokens_user_idx ON outstanding_tokens (user_id);
CREATE INDEX outstanding_tokens_expires_idx ON outstanding_tokens (expires_at);

CREATE TABLE blacklisted_tokens (
    id BIGSERIAL PRIMARY KEY,
    token_id BIGINT NOT NULL UNIQUE REFERENCES outstanding_tokens (id) ON DELETE CASCADE,
    blacklisted_at TIMESTAMP NOT NULL
);

CREATE INDEX blacklisted_tokens_at_idx ON blacklisted_tokens (blacklisted_at);

CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

INSERT INTO permissions (codename, name) VALUES
    ('auth.view_user', 'Can view user'),
    ('auth.add_user', 'Can add user'),
    ('auth.change_user', 'Can change user'),
    ('auth.delete_user', 'Can delete user'),
    ('auth.view_group', 'Can view group'),
    ('auth.add_group', 'Can add group'),
    ('auth.change_group', 'Can change group'),
    ('auth.delete_group', 'Can delete group'),
    ('auth.view_permission', 'Can view permission'),
    ('auth.add_permission', 'Can add permission'),
    ('auth.change_permission', 'Can change permission'),
    ('auth.delete_permission', 'Can delete permission'),
    ('token_blacklist.view_outstandingtoken', 'Can view outstanding token'),
    ('token_blacklist.add_outstandingtoken', 'Can add outstanding token'),
    ('token_blacklist.change_outstandingtoken', 'Can change outstanding token'),
    ('token_blacklist.delete_outstandingtoken', 'Can delete outstanding token'),
    ('token_blacklist.view_blacklistedtoken', 'Can view blacklisted token'),
    ('token_blacklist.add_blacklistedtoken', 'Can add blacklisted token'),
    ('token_blacklist.change_blacklistedtoken', 'Can change blacklisted token'),
    ('token_blacklist.delete_blacklistedtoken', 'Can delete blacklisted token');
