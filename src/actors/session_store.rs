//! Console sessions and the read-only views of tokens and token sessions (console pages and
//! the sessions API), on a small `SyncArbiter` apart from the user manager so they never queue
//! behind bcrypt.

use actix::prelude::*;
use time::PrimitiveDateTime;

use crate::db::models::Page;
use crate::db::models::session::{self, NewSession, Session};
use crate::db::models::token_admin::{self, Counts, TokenFilter, TokenRow};
use crate::db::models::token_session::{self, TokenSession};
use crate::db::models::user;
use crate::db::{DbError, DbPool};

pub struct SessionStore {
    pool: DbPool,
}

impl SessionStore {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    pub(super) fn pool(&self) -> &DbPool {
        &self.pool
    }
}

impl Actor for SessionStore {
    type Context = SyncContext<Self>;
}

/// Stores a new session (the caller made the token and keeps it; only its digest is given).
#[derive(Message)]
#[rtype(result = "Result<Session, DbError>")]
pub struct CreateSession {
    pub token_digest: String,
    pub user_id: i64,
    pub user_stamp: String,
    pub csrf_token: String,
    pub flash: Option<String>,
    pub now: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
}

impl Handler<CreateSession> for SessionStore {
    type Result = Result<Session, DbError>;

    fn handle(&mut self, msg: CreateSession, _: &mut Self::Context) -> Self::Result {
        let new = NewSession {
            token_digest: &msg.token_digest,
            user_id: msg.user_id,
            user_stamp: &msg.user_stamp,
            csrf_token: &msg.csrf_token,
            flash: msg.flash.as_deref(),
            created_at: msg.now,
            last_seen_at: msg.now,
            expires_at: msg.expires_at,
        };
        let mut conn = self.pool.get()?;
        // Each sign-in also clears out sessions that outlived their lifetime, so the table
        // holds at most the sessions of one `admin_session_lifetime`.
        session::delete_expired(&mut conn, msg.now)?;
        session::insert(&mut conn, &new)
    }
}

/// The session with this token digest.
#[derive(Message)]
#[rtype(result = "Result<Option<Session>, DbError>")]
pub struct LoadSession(pub String);

impl Handler<LoadSession> for SessionStore {
    type Result = Result<Option<Session>, DbError>;

    fn handle(&mut self, msg: LoadSession, _: &mut Self::Context) -> Self::Result {
        session::find_by_digest(&mut *self.pool.get()?, &msg.0)
    }
}

/// Records activity (idle timeout) and/or replaces the flash message.
#[derive(Message)]
#[rtype(result = "Result<(), DbError>")]
pub struct UpdateSession {
    pub id: i64,
    pub seen_at: Option<PrimitiveDateTime>,
    pub flash: Option<Option<String>>,
}

impl Handler<UpdateSession> for SessionStore {
    type Result = Result<(), DbError>;

    fn handle(&mut self, msg: UpdateSession, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.pool.get()?;
        if let Some(at) = msg.seen_at {
            session::touch(&mut conn, msg.id, at)?;
        }
        if let Some(flash) = msg.flash {
            session::set_flash(&mut conn, msg.id, flash.as_deref())?;
        }
        Ok(())
    }
}

/// Ends a session (logout, expiry).
#[derive(Message)]
#[rtype(result = "Result<(), DbError>")]
pub struct EndSession(pub i64);

impl Handler<EndSession> for SessionStore {
    type Result = Result<(), DbError>;

    fn handle(&mut self, msg: EndSession, _: &mut Self::Context) -> Self::Result {
        session::delete(&mut *self.pool.get()?, msg.0)
    }
}

/// A page of outstanding tokens.
#[derive(Message)]
#[rtype(result = "Result<(Vec<TokenRow>, i64), DbError>")]
pub struct ListTokens {
    pub filter: TokenFilter,
    pub now: PrimitiveDateTime,
    pub page: Page,
}

impl Handler<ListTokens> for SessionStore {
    type Result = Result<(Vec<TokenRow>, i64), DbError>;

    fn handle(&mut self, msg: ListTokens, _: &mut Self::Context) -> Self::Result {
        token_admin::list(&mut *self.pool.get()?, &msg.filter, msg.now, msg.page)
    }
}

#[derive(Message)]
#[rtype(result = "Result<Option<TokenRow>, DbError>")]
pub struct GetToken(pub i64);

impl Handler<GetToken> for SessionStore {
    type Result = Result<Option<TokenRow>, DbError>;

    fn handle(&mut self, msg: GetToken, _: &mut Self::Context) -> Self::Result {
        token_admin::find(&mut *self.pool.get()?, msg.0)
    }
}

/// The dashboard: counts and recent sign-ins.
#[derive(Message)]
#[rtype(result = "Result<(Counts, Vec<(i64, String, PrimitiveDateTime)>), DbError>")]
pub struct Dashboard {
    pub now: PrimitiveDateTime,
    pub day_ago: PrimitiveDateTime,
}

impl Handler<Dashboard> for SessionStore {
    type Result = Result<(Counts, Vec<(i64, String, PrimitiveDateTime)>), DbError>;

    fn handle(&mut self, msg: Dashboard, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.pool.get()?;
        Ok((
            token_admin::counts(&mut conn, msg.now, msg.day_ago)?,
            token_admin::recent_logins(&mut conn, 10)?,
        ))
    }
}

/// The most token sessions a listing shows (the newest).
pub const LISTED_SESSIONS: i64 = 100;

/// A user's live token sessions, newest first, at most [`LISTED_SESSIONS`]; `None` when there
/// is no such user.
#[derive(Message)]
#[rtype(result = "Result<Option<Vec<TokenSession>>, DbError>")]
pub struct LiveTokenSessions {
    pub user_id: i64,
    pub now: PrimitiveDateTime,
    /// Sessions last refreshed at or before this are idle, not live.
    pub idle_before: Option<PrimitiveDateTime>,
}

impl Handler<LiveTokenSessions> for SessionStore {
    type Result = Result<Option<Vec<TokenSession>>, DbError>;

    fn handle(&mut self, msg: LiveTokenSessions, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.pool.get()?;
        if user::find(&mut conn, msg.user_id)?.is_none() {
            return Ok(None);
        }
        token_session::newest_live_for_user(
            &mut conn,
            msg.user_id,
            msg.now,
            msg.idle_before,
            LISTED_SESSIONS,
        )
        .map(Some)
    }
}

/// The token session whose current refresh (or sliding) token has this jti.
#[derive(Message)]
#[rtype(result = "Result<Option<TokenSession>, DbError>")]
pub struct TokenSessionOf(pub String);

impl Handler<TokenSessionOf> for SessionStore {
    type Result = Result<Option<TokenSession>, DbError>;

    fn handle(&mut self, msg: TokenSessionOf, _: &mut Self::Context) -> Self::Result {
        token_session::by_current_jti(&mut *self.pool.get()?, &msg.0)
    }
}
