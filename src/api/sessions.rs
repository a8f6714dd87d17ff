//! Token sessions (one per login) over the API: the caller's own under `/api/me/sessions/`,
//! anyone's under `/api/users/{id}/sessions/` for admins. Ending a session blacklists its
//! refresh token and refuses its access tokens; the answer goes out once this instance
//! refuses them. Lists are plain (not paginated): the newest
//! [`LISTED_SESSIONS`](crate::actors::session_store::LISTED_SESSIONS) live sessions.

use crate::audit::{Audit, EventKind, NewEvent, sessions_ended};
use actix::Addr;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use super::endpoint::{Meta, Routes};
use super::session_policy::SessionPolicy;
use super::users::path_id;
use crate::actors::ASK_TIMEOUT;
use crate::actors::session_admin::EndSessionsOf;
use crate::actors::session_store::{LiveTokenSessions, SessionStore};
use crate::actors::token_blacklist::{EndUserSessions, Remember, TokenBlacklist};
use crate::actors::token_store::{EndSessions, WhichSessions};
use crate::actors::user_manager::UserManager;
use crate::auth::permissions::{Caller, ChecksRights, Policy};
use crate::auth::{Allowed, AuthUser};
use crate::clock::Clock;
use crate::config::Paths;
use crate::db::models::token_session::TokenSession;
use crate::db::stored_time;
use crate::error::ApiError;

/// Reading a user's sessions needs `auth.view_user`; ending them `auth.change_user`.
pub struct SessionPermissions;
impl Policy for SessionPermissions {
    fn allows(caller: &Caller<'_>) -> Result<bool, ApiError> {
        let needed = if caller.is_safe() {
            "auth.view_user"
        } else {
            "auth.change_user"
        };
        Ok(caller.user.is_some_and(|u| u.has_perm(needed)))
    }
}
impl ChecksRights for SessionPermissions {}

type CanManageSessions = Allowed<SessionPermissions>;

static MINE: Meta = Meta {
    name: "Session List",
    description: "Your live sessions (one per login), newest first, at most 100; `current` marks the one of the token you called with.",
    fields: &[],
    allow: "GET, HEAD, OPTIONS",
};
static MINE_OTHERS: Meta = Meta {
    name: "Revoke Other Sessions",
    description: "Ends every live session of yours but the current one: {\"ended\": n}.",
    fields: &[],
    allow: "POST, OPTIONS",
};
static MINE_ONE: Meta = Meta {
    name: "Session Instance",
    description: "Ends one of your sessions (your current one too: that is a logout).",
    fields: &[],
    allow: "DELETE, OPTIONS",
};
static THEIRS: Meta = Meta {
    name: "User Session List",
    description: "A user's live sessions, newest first, at most 100.",
    fields: &[],
    allow: "GET, HEAD, OPTIONS",
};
static THEIRS_ALL: Meta = Meta {
    name: "Revoke All Sessions",
    description: "Ends every live session of the user: {\"ended\": n}.",
    fields: &[],
    allow: "POST, OPTIONS",
};
static THEIRS_ONE: Meta = Meta {
    name: "User Session Instance",
    description: "Ends one session of the user.",
    fields: &[],
    allow: "DELETE, OPTIONS",
};

/// The fixed paths come before the `{sid}` ones, which would otherwise take them (and answer
/// their `POST` with a 405).
pub fn config(cfg: &mut impl Routes, paths: &Paths) {
    cfg.serve::<AuthUser>(&paths.me_sessions, &MINE, |r| {
        r.route(web::get().to(mine)).route(web::head().to(mine))
    });
    cfg.serve::<AuthUser>(&paths.me_sessions_revoke_others, &MINE_OTHERS, |r| {
        r.route(web::post().to(revoke_others))
    });
    cfg.serve::<AuthUser>(&paths.me_session, &MINE_ONE, |r| {
        r.route(web::delete().to(end_mine))
    });
    cfg.serve::<CanManageSessions>(&paths.user_sessions, &THEIRS, |r| {
        r.route(web::get().to(theirs)).route(web::head().to(theirs))
    });
    cfg.serve::<CanManageSessions>(&paths.user_sessions_revoke_all, &THEIRS_ALL, |r| {
        r.route(web::post().to(revoke_all))
    });
    cfg.serve::<CanManageSessions>(&paths.user_session, &THEIRS_ONE, |r| {
        r.route(web::delete().to(end_theirs))
    });
}

/// How the API shows a session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_refreshed: OffsetDateTime,
    /// The absolute deadline: no token of the session outlives it.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires: OffsetDateTime,
    pub user_agent: String,
    pub client_address: String,
    /// The session of the token the request came with.
    pub current: bool,
    /// `pair` or `sliding`.
    pub kind: String,
}

impl SessionView {
    fn new(session: TokenSession, current: Option<&str>) -> Self {
        Self {
            current: current == Some(session.id.as_str()),
            id: session.id,
            created: session.created_at.assume_utc(),
            last_refreshed: session.refreshed_at.assume_utc(),
            expires: session.expires_at.assume_utc(),
            user_agent: session.user_agent,
            client_address: session.client_address,
            kind: session.kind,
        }
    }
}

/// Where the live sessions are read, and what "live" means now.
type Reading<'a> = (&'a Addr<SessionStore>, &'a SessionPolicy, &'a Clock);

/// The live sessions of `user_id` as JSON; `None` when there is no such user.
async fn listing(
    (store, policy, clock): Reading<'_>,
    user_id: i64,
    current: Option<&str>,
) -> Result<Option<HttpResponse>, ApiError> {
    let now = clock.now();
    let sessions = store
        .send(LiveTokenSessions {
            user_id,
            now: stored_time(now),
            idle_before: policy.idle_before(now),
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    Ok(sessions.map(|sessions| {
        let views: Vec<SessionView> = sessions
            .into_iter()
            .map(|s| SessionView::new(s, current))
            .collect();
        HttpResponse::Ok().json(views)
    }))
}

/// The `{sid}` of the path.
fn path_sid(req: &HttpRequest) -> String {
    req.match_info().get("sid").unwrap_or_default().to_owned()
}

/// `{"ended": n}`.
fn ended(count: usize) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "ended": count }))
}

/// Ends sessions of the caller; memory knows before this returns. How many ended.
async fn end_own(
    (req, audit): (&HttpRequest, &Audit),
    auth: &AuthUser,
    which: WhichSessions,
    blacklist: &Addr<TokenBlacklist>,
    clock: &Clock,
) -> Result<usize, ApiError> {
    let message = EndUserSessions(EndSessions {
        user_id: auth.user.id,
        which,
        by: Some(auth.user.id),
        at: stored_time(clock.now()),
    });
    let revocations = blacklist.send(message).timeout(ASK_TIMEOUT).await??;
    let base = NewEvent::from_request(req, EventKind::SessionEnded).actor(auth.user.id);
    if let Some(event) = sessions_ended(base, &revocations.sessions, "ended by the user") {
        audit.record(event);
    }
    Ok(revocations.sessions.len())
}

/// **Permissions:** authenticated. The caller's live sessions, newest first.
#[utoipa::path(
    get,
    path = "/api/me/sessions/",
    operation_id = "sessions_mine",
    tag = "sessions",
    summary = "The caller's live sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Newest first", body = Vec<super::sessions::SessionView>),
        crate::api::openapi::responses::NotAuthenticated
    )
)]
pub(super) async fn mine(
    auth: AuthUser,
    store: web::Data<Addr<SessionStore>>,
    policy: web::Data<SessionPolicy>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let current = auth.token.session_id.as_deref();
    listing((&store, &policy, &clock), auth.user.id, current)
        .await?
        .ok_or(ApiError::NotFound)
}

/// **Permissions:** authenticated. Ends one of the caller's live sessions: `204`, or `404`
/// for any id that is not one (another user's included).
#[utoipa::path(
    delete,
    path = "/api/me/sessions/{sid}/",
    operation_id = "sessions_end_mine",
    tag = "sessions",
    summary = "End one of the caller's sessions",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "The session id")),
    responses(
        (status = 204, description = "Ended"),
        crate::api::openapi::responses::NotAuthenticatedOrFound
    )
)]
pub(super) async fn end_mine(
    req: HttpRequest,
    auth: AuthUser,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let which = WhichSessions::One(path_sid(&req));
    if end_own((&req, &audit), &auth, which, &blacklist, &clock).await? == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// **Permissions:** authenticated. Ends every live session of the caller but the one of the
/// token presented (all of them for a token from before sessions).
#[utoipa::path(
    post,
    path = "/api/me/sessions/revoke-others/",
    operation_id = "sessions_revoke_others",
    tag = "sessions",
    summary = "End the caller's other sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many ended", body = crate::api::openapi::bodies::Ended),
        crate::api::openapi::responses::NotAuthenticated
    )
)]
pub(super) async fn revoke_others(
    req: HttpRequest,
    auth: AuthUser,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let which = match &auth.token.session_id {
        Some(current) => WhichSessions::AllBut(current.clone()),
        None => WhichSessions::All,
    };
    Ok(ended(
        end_own((&req, &audit), &auth, which, &blacklist, &clock).await?,
    ))
}

/// **Permissions:** `auth.view_user`. The user's live sessions, newest first.
#[utoipa::path(
    get,
    path = "/api/users/{id}/sessions/",
    operation_id = "sessions_theirs",
    tag = "sessions",
    summary = "A user's live sessions",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The id")),
    responses(
        (status = 200, description = "Newest first", body = Vec<super::sessions::SessionView>),
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn theirs(
    req: HttpRequest,
    guard: CanManageSessions,
    store: web::Data<Addr<SessionStore>>,
    policy: web::Data<SessionPolicy>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "User")?;
    let current = guard.caller().and_then(|c| c.token.session_id.as_deref());
    listing((&store, &policy, &clock), id, current)
        .await?
        .ok_or(ApiError::NoMatch("User"))
}

/// Ends sessions of the user at `{id}` as the acting admin; memory knows before this returns.
/// How many ended.
async fn end_as_admin(
    req: &HttpRequest,
    guard: &CanManageSessions,
    which: WhichSessions,
    users: &Addr<UserManager>,
    (blacklist, audit): (&Addr<TokenBlacklist>, &Audit),
    clock: &Clock,
) -> Result<usize, ApiError> {
    let by = guard.acting()?;
    let base = NewEvent::from_request(req, EventKind::SessionEnded).actor(by.user().id);
    let message = EndSessionsOf {
        by,
        user_id: path_id(req, "User")?,
        which,
        now: clock.now(),
    };
    let revocations = users
        .send(message)
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("User"))?;
    let count = revocations.sessions.len();
    let event = sessions_ended(base, &revocations.sessions, "ended by an administrator");
    blacklist
        .send(Remember(revocations))
        .timeout(ASK_TIMEOUT)
        .await?;
    if let Some(event) = event {
        audit.record(event);
    }
    Ok(count)
}

/// **Permissions:** `auth.change_user` (superuser for a superuser's sessions). `204`, or
/// `404` when `{sid}` is not one of the user's live sessions.
#[utoipa::path(
    delete,
    path = "/api/users/{id}/sessions/{sid}/",
    operation_id = "sessions_end_theirs",
    tag = "sessions",
    summary = "End one session of a user",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user id"), ("sid" = String, Path, description = "The session id")),
    responses(
        (status = 204, description = "Ended"),
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn end_theirs(
    req: HttpRequest,
    guard: CanManageSessions,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let which = WhichSessions::One(path_sid(&req));
    if end_as_admin(&req, &guard, which, &users, (&blacklist, &audit), &clock).await? == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// **Permissions:** `auth.change_user` (superuser for a superuser's sessions). Ends every live
/// session of the user: `{"ended": n}`.
#[utoipa::path(
    post,
    path = "/api/users/{id}/sessions/revoke-all/",
    operation_id = "sessions_revoke_all",
    tag = "sessions",
    summary = "End every session of a user",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The id")),
    responses(
        (status = 200, description = "How many ended", body = crate::api::openapi::bodies::Ended),
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn revoke_all(
    req: HttpRequest,
    guard: CanManageSessions,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let which = WhichSessions::All;
    Ok(ended(
        end_as_admin(&req, &guard, which, &users, (&blacklist, &audit), &clock).await?,
    ))
}
