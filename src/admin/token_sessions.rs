//! Token sessions in the console: the "Sessions" section of the user page with its "End" and
//! "End all sessions" actions, and the session a refresh token carries on (token detail). Ending goes through the user manager with the acting
//! admin (only superusers end a superuser's sessions) and tells the blacklist actor, so the
//! session's access tokens are refused by the time the page comes back.

use crate::audit::{Audit, EventKind, sessions_ended};
use actix::Addr;
use actix_web::{HttpRequest, HttpResponse, web};

use super::error::ConsoleError;
use super::form::{self, path_id};
use super::layout::show_time;
use super::session::ConsoleSession;
use super::users::see_other;
use crate::actors::ASK_TIMEOUT;
use crate::actors::session_admin::EndSessionsOf;
use crate::actors::session_store::{LiveTokenSessions, SessionStore, TokenSessionOf};
use crate::actors::token_blacklist::{Remember, TokenBlacklist};
use crate::actors::token_store::WhichSessions;
use crate::actors::user_manager::UserManager;
use crate::api::SessionPolicy;
use crate::clock::Clock;
use crate::db::models::token_session::TokenSession;
use crate::db::stored_time;

/// A live session as the user page lists it.
pub struct SessionLine {
    pub id: String,
    pub kind: String,
    pub created: String,
    pub refreshed: String,
    pub expires: String,
    pub user_agent: String,
    pub client_address: String,
}

impl From<TokenSession> for SessionLine {
    fn from(s: TokenSession) -> Self {
        Self {
            id: s.id,
            kind: s.kind,
            created: show_time(s.created_at),
            refreshed: show_time(s.refreshed_at),
            expires: show_time(s.expires_at),
            user_agent: s.user_agent,
            client_address: s.client_address,
        }
    }
}

/// The user page's "Sessions" section.
#[derive(Default)]
pub struct SessionsPanel {
    pub lines: Vec<SessionLine>,
    /// `auth.change_user`, and superuser for a superuser's sessions.
    pub can_end: bool,
}

/// Where the user page reads sessions.
pub type SessionSource<'a> = (&'a Addr<SessionStore>, &'a SessionPolicy, &'a Clock);

/// The live sessions of user `id` (who is a superuser or not), as the signed-in admin sees them.
pub async fn panel(
    session: &ConsoleSession,
    (store, policy, clock): SessionSource<'_>,
    id: i64,
    superuser: bool,
) -> Result<SessionsPanel, ConsoleError> {
    let now = clock.now();
    let sessions = store
        .send(LiveTokenSessions {
            user_id: id,
            now: stored_time(now),
            idle_before: policy.idle_before(now),
        })
        .timeout(ASK_TIMEOUT)
        .await??
        .ok_or(ConsoleError::NotFound)?;
    Ok(SessionsPanel {
        lines: sessions.into_iter().map(SessionLine::from).collect(),
        can_end: session.can("auth.change_user") && (session.user.is_superuser || !superuser),
    })
}

/// The session a token detail page shows: the one whose current refresh (or sliding) token it
/// is.
pub struct SessionCard {
    pub line: SessionLine,
    pub user_id: i64,
    /// `live`, `ended`, `idle` or `expired`.
    pub state: &'static str,
    /// The badge class of the state.
    pub badge: &'static str,
    /// When and why it ended, for an ended session.
    pub ended: Option<String>,
}

/// The session whose current token has `jti`, if any.
pub async fn card(
    (store, policy, clock): SessionSource<'_>,
    jti: &str,
) -> Result<Option<SessionCard>, ConsoleError> {
    let Some(found) = store
        .send(TokenSessionOf(jti.to_owned()))
        .timeout(ASK_TIMEOUT)
        .await??
    else {
        return Ok(None);
    };
    let now = clock.now();
    let (state, badge) = if found.ended_at.is_some() {
        ("ended", "revoked")
    } else if found.expires_at <= stored_time(now) {
        ("expired", "expired")
    } else if !found.is_live(stored_time(now), policy.idle_before(now)) {
        ("idle", "expired")
    } else {
        ("live", "active")
    };
    let ended = found.ended_at.map(|at| {
        let reason = found.end_reason.as_deref().unwrap_or("ended");
        format!("{} ({})", show_time(at), reason.replace('_', " "))
    });
    Ok(Some(SessionCard {
        user_id: found.user_id,
        state,
        badge,
        ended,
        line: SessionLine::from(found),
    }))
}

/// Ends sessions of the user at `{id}`; how many ended.
async fn end(
    req: &HttpRequest,
    session: &ConsoleSession,
    which: WhichSessions,
    users: &Addr<UserManager>,
    (blacklist, audit): (&Addr<TokenBlacklist>, &Audit),
    clock: &Clock,
) -> Result<(i64, usize), ConsoleError> {
    session.require("auth.change_user")?;
    let id = path_id(req)?;
    let revoked = users
        .send(EndSessionsOf {
            by: session.acting()?,
            user_id: id,
            which,
            now: clock.now(),
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    let count = revoked.sessions.len();
    let base = super::audit::event(req, session, EventKind::SessionEnded);
    let event = sessions_ended(base, &revoked.sessions, "ended by an administrator");
    blacklist
        .send(Remember(revoked))
        .timeout(ASK_TIMEOUT)
        .await?;
    if let Some(event) = event {
        audit.record(event);
    }
    Ok((id, count))
}

/// **Permissions:** `auth.change_user` (superuser for a superuser's sessions). Ends one session.
pub async fn end_one(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    super::csrf::check(&form::read(body).await?, session.csrf())?;
    let sid = req.match_info().get("sid").unwrap_or_default().to_owned();
    let which = WhichSessions::One(sid);
    let (id, count) = end(&req, &session, which, &users, (&blacklist, &audit), &clock).await?;
    session
        .flash(if count == 1 {
            "The session was ended; its tokens stop working now."
        } else {
            "That session is not one of this user's live sessions (it may have ended already)."
        })
        .await?;
    Ok(see_other(session.url(&format!("/users/{id}/#sessions"))))
}

/// **Permissions:** `auth.change_user` (superuser for a superuser's sessions). Ends every live
/// session of the user.
pub async fn end_all(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    super::csrf::check(&form::read(body).await?, session.csrf())?;
    let which = WhichSessions::All;
    let (id, count) = end(&req, &session, which, &users, (&blacklist, &audit), &clock).await?;
    session
        .flash(format!(
            "{count} session(s) of this user ended; their tokens stop working now."
        ))
        .await?;
    Ok(see_other(session.url(&format!("/users/{id}/#sessions"))))
}
