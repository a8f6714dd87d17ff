//! The blocking work done once before the server accepts requests: migrations, the signing
//! key, the revocation list and the first superuser.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use time::OffsetDateTime;

use crate::actors::ended_sessions::EndedSessions;
use crate::actors::revoked::RevokedSet;
use crate::actors::token_blacklist::Lists;
use crate::auth::{HashError, PasswordHasher};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::models::revocation::Revocations;
use crate::db::models::{secret, token, token_session, user};
use crate::db::{DbConn, DbError, DbPool, migrations, stored_time};
use crate::jwt::{KeyError, SigningKeys, needs_generated_secret};
use crate::superuser;

/// Name of the generated HMAC key in `server_secrets`.
const SIGNING_KEY_NAME: &str = "jwt_signing_key";

pub struct Prepared {
    pub keys: SigningKeys,
    pub lists: Lists,
    /// When the lists were read.
    pub loaded_at: OffsetDateTime,
    pub dummy_hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("cannot use the database: {0}")]
    Database(#[from] DbError),
    #[error("signing keys: {0}")]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Hash(#[from] HashError),
    /// `login_fields` has `email` but some addresses belong to several users.
    #[error("{0}")]
    SharedEmails(String),
    #[error(
        "the stored signing key is corrupt ({0}); delete the row jwt_signing_key from server_secrets to generate a new one"
    )]
    CorruptKey(String),
}

pub fn prepare(
    settings: &Settings,
    pool: &DbPool,
    clock: &Clock,
) -> Result<Prepared, PrepareError> {
    let applied = migrations::run_pending(&mut *pool.for_migrations()?)?;
    if !applied.is_empty() {
        tracing::info!(?applied, "database migrations applied");
    }
    let mut conn = pool.get()?;
    check_unique_emails(settings, &mut conn)?;
    let keys = signing_keys(settings, &mut conn, clock.now())?;
    let loaded_at = clock.now();
    let now = stored_time(loaded_at);
    let window = settings.session_token_window();
    let rows = Revocations {
        tokens: token::revoked_live(&mut conn, now, None)?,
        sessions: token_session::ended_recently(
            &mut conn,
            now,
            stored_time(loaded_at - window),
            None,
        )?,
    };
    let lists = Lists {
        revoked: RevokedSet::with_capacity(rows.tokens.len()).into(),
        ended: EndedSessions::new(window, rows.sessions.len()).into(),
    };
    lists.remember(&rows);
    tracing::info!(
        revoked = lists.revoked.len(),
        ended_sessions = lists.ended.len(),
        "revocation lists loaded"
    );

    let hasher = PasswordHasher::new(settings.bcrypt_cost);
    if settings.create_default_superuser
        && let Some(created) = superuser::ensure_default(&mut conn, &hasher, clock.now())?
    {
        announce_default_superuser(settings, &created);
    }
    Ok(Prepared {
        keys,
        lists,
        loaded_at,
        dummy_hash: hasher.dummy_hash()?,
    })
}

/// How many shared addresses a refusal names.
const SHARED_EMAILS_SHOWN: u32 = 10;

/// With `email` in `login_fields`, refuses a database where an email address (compared
/// case-insensitively) belongs to several users: a sign-in with it would name nobody for sure.
/// The message names the first addresses and how many users hold each.
pub fn check_unique_emails(settings: &Settings, conn: &mut DbConn) -> Result<(), PrepareError> {
    let fields = settings
        .login_field_set()
        .map_err(|e| PrepareError::SharedEmails(format!("configuration: {e}")))?;
    if !fields.unique_emails() {
        return Ok(());
    }
    let (shared, total) = user::shared_emails(conn, SHARED_EMAILS_SHOWN)?;
    if shared.is_empty() {
        return Ok(());
    }
    let mut listed: Vec<String> = shared
        .iter()
        .map(|s| format!("{} ({} users)", s.email, s.users))
        .collect();
    let unlisted = total - i64::try_from(shared.len()).unwrap_or(total);
    if unlisted > 0 {
        listed.push(format!("and {unlisted} more"));
    }
    Err(PrepareError::SharedEmails(format!(
        "login_fields includes email, but {total} email address(es) belong to more than one \
         user (compared case-insensitively): {}; give each of those users an address of its \
         own (or none), or remove email from login_fields",
        listed.join(", ")
    )))
}

/// The configured keys, or the HMAC key kept in the database (generated on first start).
pub fn signing_keys(
    settings: &Settings,
    conn: &mut DbConn,
    now: OffsetDateTime,
) -> Result<SigningKeys, PrepareError> {
    if !needs_generated_secret(settings) {
        return Ok(SigningKeys::from_settings(settings, None)?);
    }
    let (stored, created) =
        secret::get_or_create(conn, SIGNING_KEY_NAME, stored_time(now), || {
            let mut bytes = [0u8; 64];
            rand::rng().fill_bytes(&mut bytes);
            URL_SAFE_NO_PAD.encode(bytes)
        })?;
    if created {
        tracing::info!(
            "no signing_key configured: generated a random 512-bit key and stored it in the database"
        );
    } else {
        tracing::info!("no signing_key configured: using the generated key stored in the database");
    }
    let secret = URL_SAFE_NO_PAD
        .decode(stored.trim())
        .map_err(|e| PrepareError::CorruptKey(e.to_string()))?;
    Ok(SigningKeys::from_settings(settings, Some(&secret))?)
}

fn announce_default_superuser(settings: &Settings, created: &superuser::Created) {
    // Printed once, to the terminal only: never a log line.
    println!(
        "\n  keyward created the superuser {:?} with the password:\n\n      {}\n\n  \
         It is shown this once. Sign in to the console at http://{}{}/ and change it.\n",
        created.username,
        created.password,
        settings.bind,
        settings.paths.console_root()
    );
    tracing::info!(username = %created.username, "default superuser created (password printed to the terminal once)");
}
