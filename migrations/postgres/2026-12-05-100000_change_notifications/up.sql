-- Change notifications. Every write that changes what a request may do tells the keyward
-- instances sharing this database, through NOTIFY on the channel `keyward`, from inside the
-- writing transaction: the notice goes out when (and only if) it commits, whichever path wrote
-- (API, console, command line, or SQL by hand). Each instance listens and updates its memory
-- (revocation lists, user cache) at once.
--
-- A payload is `<kind>:<sent>[:<field>...]`, `sent` being the writing transaction's start in
-- milliseconds since the epoch and the last field taking the rest of the payload:
--
--   user:<sent>:<user id>              a user's row, groups or own permissions changed
--   users:<sent>                       a group, a group's permissions or a permission changed
--   revoked:<sent>:<expires>:<jti>     a live token was revoked (expires: epoch seconds)
--   unrevoked:<sent>:<jti>             a live token's revocation was lifted
--   ended:<sent>:<ended>:<deadline>:<session id>   a session ended (epoch seconds)
--   reopened:<sent>:<session id>       an ended session was reopened
--   resync:<sent>                      revocations changed in a way no payload above carries
--
-- A kind never changes meaning; a new need gets a new kind, and an instance that reads a kind
-- it does not know reloads everything it keeps in memory.
--
-- Refresh-token rotation blacklists the spent token on every refresh; a NOTIFY in that
-- transaction would serialize the commits of all refreshes (PostgreSQL holds a global lock
-- from a notifying transaction's commit until its end, fsync included). Its entries are marked
-- `rotated` and announced by the instance after the commit instead.

ALTER TABLE blacklisted_tokens ADD COLUMN rotated BOOLEAN NOT NULL DEFAULT FALSE;

CREATE FUNCTION keyward_announce(kind TEXT, fields TEXT) RETURNS VOID
LANGUAGE sql AS $$
    SELECT pg_notify(
        'keyward',
        kind || ':' || floor(extract(epoch FROM now()) * 1000)::bigint || coalesce(':' || fields, '')
    )
$$;

-- Ids longer than this do not travel in a payload (a payload holds at most 8000 bytes).
CREATE FUNCTION keyward_fits(id TEXT) RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE AS $$ SELECT length(id) <= 200 $$;

CREATE FUNCTION keyward_epoch(at TIMESTAMP) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$ SELECT floor(extract(epoch FROM at))::bigint::text $$;

-- users: any change but last_login (a sign-in), and deletion.
CREATE FUNCTION keyward_user_row_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM keyward_announce('user', OLD.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER users_announce_update AFTER UPDATE ON users FOR EACH ROW
    WHEN ((to_jsonb(OLD) - 'last_login') IS DISTINCT FROM (to_jsonb(NEW) - 'last_login'))
    EXECUTE FUNCTION keyward_user_row_changed();
CREATE TRIGGER users_announce_delete AFTER DELETE ON users FOR EACH ROW
    EXECUTE FUNCTION keyward_user_row_changed();

-- user_groups, user_permissions: the users on either side of the change.
CREATE FUNCTION keyward_membership_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM keyward_announce('user', OLD.user_id::text);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM keyward_announce('user', NEW.user_id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER user_groups_announce AFTER INSERT OR UPDATE OR DELETE ON user_groups
    FOR EACH ROW EXECUTE FUNCTION keyward_membership_changed();
CREATE TRIGGER user_permissions_announce AFTER INSERT OR UPDATE OR DELETE ON user_permissions
    FOR EACH ROW EXECUTE FUNCTION keyward_membership_changed();

-- groups, permissions, group_permissions (and truncating any user table): many users at once,
-- one notice per statement.
CREATE FUNCTION keyward_users_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM keyward_announce('users', NULL);
    RETURN NULL;
END
$$;

CREATE TRIGGER groups_announce AFTER UPDATE OR DELETE OR TRUNCATE ON groups
    FOR EACH STATEMENT EXECUTE FUNCTION keyward_users_changed();
CREATE TRIGGER permissions_announce AFTER UPDATE OR DELETE OR TRUNCATE ON permissions
    FOR EACH STATEMENT EXECUTE FUNCTION keyward_users_changed();
CREATE TRIGGER group_permissions_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON group_permissions FOR EACH STATEMENT EXECUTE FUNCTION keyward_users_changed();
CREATE TRIGGER users_announce_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION keyward_users_changed();
CREATE TRIGGER user_groups_announce_truncate AFTER TRUNCATE ON user_groups
    FOR EACH STATEMENT EXECUTE FUNCTION keyward_users_changed();
CREATE TRIGGER user_permissions_announce_truncate AFTER TRUNCATE ON user_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION keyward_users_changed();

-- blacklisted_tokens: a revocation of a live token (rotation's entries excepted, see above),
-- and the lifting of one (deleting the entries of expired tokens announces nothing).
CREATE FUNCTION keyward_revocation_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    token RECORD;
BEGIN
    SELECT jti, expires_at INTO token FROM outstanding_tokens
        WHERE id = CASE WHEN TG_OP = 'INSERT' THEN NEW.token_id ELSE OLD.token_id END;
    IF NOT FOUND OR token.expires_at <= (now() AT TIME ZONE 'UTC') THEN
        RETURN NULL;
    END IF;
    IF NOT keyward_fits(token.jti) THEN
        PERFORM keyward_announce('resync', NULL);
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM keyward_announce('revoked', keyward_epoch(token.expires_at) || ':' || token.jti);
    ELSE
        PERFORM keyward_announce('unrevoked', token.jti);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER blacklisted_tokens_announce_insert AFTER INSERT ON blacklisted_tokens
    FOR EACH ROW WHEN (NOT NEW.rotated) EXECUTE FUNCTION keyward_revocation_changed();
CREATE TRIGGER blacklisted_tokens_announce_delete AFTER DELETE ON blacklisted_tokens
    FOR EACH ROW EXECUTE FUNCTION keyward_revocation_changed();

-- token_sessions: a session ended before its deadline, or reopened. Refreshes, which update
-- the row without touching ended_at, announce nothing.
CREATE FUNCTION keyward_session_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT keyward_fits(NEW.id) THEN
        PERFORM keyward_announce('resync', NULL);
    ELSIF NEW.ended_at IS NULL THEN
        PERFORM keyward_announce('reopened', NEW.id);
    ELSIF NEW.expires_at > (now() AT TIME ZONE 'UTC') THEN
        PERFORM keyward_announce(
            'ended',
            keyward_epoch(NEW.ended_at) || ':' || keyward_epoch(NEW.expires_at) || ':' || NEW.id
        );
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER token_sessions_announce AFTER UPDATE OF ended_at ON token_sessions
    FOR EACH ROW WHEN (OLD.ended_at IS DISTINCT FROM NEW.ended_at)
    EXECUTE FUNCTION keyward_session_changed();
