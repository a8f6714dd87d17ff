//! simplejwt's four token views: obtain pair, refresh, verify, blacklist.

use std::sync::Arc;

use actix::Addr;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::{Value, json};

use super::body;
use super::cookie_transport::{Kind, Presented, Transport};
use super::endpoint::{Anyone, Meta, Routes};
use super::fields::{Fields, Trim};
use super::headers::token_answer;
use super::issue::{Login, mint_failed, minted_row, presented_row};
use super::rotation_retries::RotationRetries;
use super::session_policy::SessionPolicy;
use crate::actors::ASK_TIMEOUT;
use crate::actors::ended_sessions::EndedSessions;
use crate::actors::revoked::RevokedSet;
use crate::actors::sign_in::{Authenticate, LoginPurpose};
use crate::actors::token_blacklist::{Blacklist, Refresh, Rotate, TokenBlacklist};
use crate::actors::token_store::{MintSuccessor, RefreshSession, SessionRefresh};
use crate::actors::user_manager::UserManager;
use crate::audit::{Audit, EventKind, NewEvent, sign_in_event};
use crate::auth::{AuthSettings, UserSnapshot};
use crate::client::ClientView;
use crate::clock::Clock;
use crate::config::Paths;
use crate::db::models::token::Blacklisting;
use crate::db::models::token_session::EndReason;
use crate::db::stored_time;
use crate::error::ApiError;
use crate::jwt::{Decoded, TokenCodec, TokenError, TokenKind};
use crate::metrics::{Mailbox, Metrics, RefreshKind, SignInOutcome, SignInVia, timed};

/// Rotation switches, as app data.
#[derive(Debug, Clone, Copy)]
pub struct Rotation {
    pub rotate_refresh_tokens: bool,
    pub blacklist_after_rotation: bool,
}

static OBTAIN: Meta = Meta {
    name: "Token Obtain Pair",
    description: "Takes a set of user credentials and returns an access and refresh JSON web token pair to prove the authentication of those credentials.",
    fields: &[("username", "Username"), ("password", "Password")],
    allow: "POST, OPTIONS",
};
static REFRESH: Meta = Meta {
    name: "Token Refresh",
    description: "Takes a refresh type JSON web token and returns an access type JSON web token if the refresh token is valid.",
    fields: &[("refresh", "Refresh")],
    allow: "POST, OPTIONS",
};
static VERIFY: Meta = Meta {
    name: "Token Verify",
    description: "Takes a token and indicates if it is valid. This view provides no information about a token's fitness for a particular use.",
    fields: &[("token", "Token")],
    allow: "POST, OPTIONS",
};
static BLACKLIST: Meta = Meta {
    name: "Token Blacklist",
    description: "Takes a token and blacklists it.",
    fields: &[("refresh", "Refresh")],
    allow: "POST, OPTIONS",
};

/// The most used first: the router tries resources in order.
pub fn config(cfg: &mut impl Routes, paths: &Paths) {
    cfg.serve::<Anyone>(&paths.token_verify, &VERIFY, |r| {
        r.route(web::post().to(verify))
    });
    cfg.serve::<Anyone>(&paths.token_refresh, &REFRESH, |r| {
        r.route(web::post().to(refresh))
    });
    cfg.serve::<Anyone>(&paths.token_obtain, &OBTAIN, |r| {
        r.route(web::post().to(obtain))
    });
    cfg.serve::<Anyone>(&paths.token_blacklist, &BLACKLIST, |r| {
        r.route(web::post().to(blacklist))
    });
}

/// Reads `{"username", "password"}` and asks the user manager to check them (through the
/// sign-in throttle, which counts per client address and username). The attempt is recorded
/// in the audit log and the metrics as made `via` this endpoint.
pub(super) async fn credentials(
    req: &HttpRequest,
    payload: web::Payload,
    users: &Addr<UserManager>,
    audit: &Audit,
    now: time::OffsetDateTime,
    via: SignInVia,
) -> Result<Arc<UserSnapshot>, ApiError> {
    let data = body::parse(req, payload).await?;
    let mut fields = Fields::new();
    let username = fields.username(&data);
    let password = fields.required(&data, "password", Trim::Keep);
    fields.finish()?;
    let attempt = users
        .send(Authenticate {
            username: username.clone(),
            password,
            address: ClientView::of(req).address,
            purpose: LoginPurpose::Token,
            now,
        })
        .timeout(ASK_TIMEOUT);
    let outcome = timed(req, Mailbox::UserManager, attempt).await?;
    if let Some(event) = sign_in_event(req, &username, &outcome, via.label(), now) {
        audit.record(event);
    }
    if let Some(metrics) = req.app_data::<web::Data<Metrics>>() {
        metrics.tokens.sign_in(via, SignInOutcome::of(&outcome));
    }
    outcome.map_err(super::user_error)
}

/// The one token field of a body, decoded (signature, times, id) with the clock's `now`.
async fn presented_token(
    req: &HttpRequest,
    payload: web::Payload,
    field: &str,
    codec: &TokenCodec,
    now: i64,
) -> Result<(String, Decoded), ApiError> {
    let data = body::parse(req, payload).await?;
    let mut fields = Fields::new();
    let raw = fields.required(&data, field, Trim::Whitespace);
    fields.finish()?;
    let token = codec.decode(&raw, now).map_err(ApiError::InvalidToken)?;
    Ok((raw, token))
}

/// **Permissions:** anyone. `POST {"username","password"}` -> `{"refresh","access"}`.
#[allow(clippy::too_many_arguments)]
#[utoipa::path(
    post,
    path = "/api/token/",
    operation_id = "token_obtain",
    tag = "tokens",
    summary = "Sign in: a token pair",
    request_body(content = crate::api::openapi::bodies::Credentials, description = "JSON, form or multipart"),
    responses(
        (status = 200, description = "A token pair", body = crate::api::openapi::bodies::TokenPair),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NoActiveAccount,
        (status = 429, description = "Too many failed sign-ins", body = crate::api::openapi::bodies::Detail)
    )
)]
pub(super) async fn obtain(
    req: HttpRequest,
    payload: web::Payload,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    codec: web::Data<TokenCodec>,
    policy: web::Data<SessionPolicy>,
    audit: web::Data<Audit>,
    transport: web::Data<Transport>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    transport.check_sign_in(&req)?;
    let now = clock.now();
    let user = credentials(&req, payload, &users, &audit, now, SignInVia::Token).await?;
    let login = Login {
        req: &req,
        codec: &codec,
        blacklist: &blacklist,
        policy: &policy,
        now,
    };
    let (refresh, access) = login.pair(&user).await?;
    Ok(transport.pair(json!({ "refresh": refresh.token, "access": access.token })))
}

/// The user checks a refresh (or sliding refresh) makes: the token names a user (a token
/// without one is refused rather than refreshed into a token of nobody), who still exists, is
/// active and has the token's stamp. A stale stamp also blacklists the token.
pub(super) async fn check_token_user(
    req: &HttpRequest,
    raw: &str,
    token: &Decoded,
    codec: &TokenCodec,
    blacklist: &Addr<TokenBlacklist>,
    now: time::OffsetDateTime,
) -> Result<i64, ApiError> {
    if !token.has_user_id() {
        return Err(crate::auth::no_user_id());
    }
    let no_account = ApiError::AuthenticationFailed("No active account found for the given token.");
    let Some(id) = token.user_id() else {
        return Err(no_account);
    };
    let user = crate::auth::find_user(req, id).await?.ok_or(no_account)?;
    let settings = req
        .app_data::<web::Data<AuthSettings>>()
        .is_none_or(|s| s.check_user_is_active);
    if settings && !user.is_active {
        return Err(ApiError::AuthenticationFailed(
            "No active account found for the given token.",
        ));
    }
    if codec.check_revoke() && !crate::auth::stamp_matches(&user, token) {
        let row = presented_row(raw, token, Some(id), now);
        let call = blacklist
            .send(Blacklist {
                token: row,
                session: None,
                at: stored_time(now),
            })
            .timeout(ASK_TIMEOUT);
        timed(req, Mailbox::TokenBlacklist, call).await??;
        return Err(ApiError::AuthenticationFailed(
            "The user's password has been changed.",
        ));
    }
    Ok(id)
}

/// **Permissions:** holder of a refresh token. `POST {"refresh"}` -> `{"access"}`, plus a new
/// `refresh` when rotating. A token of a session moves the session on in one transaction:
/// exactly one of several concurrent uses of a token succeeds, and a rotated token presented
/// again ends the session (reuse detection), unless it comes within `refresh_reuse_interval`.
/// Counted in the metrics by its answer.
#[allow(clippy::too_many_arguments)]
#[utoipa::path(
    post,
    path = "/api/token/refresh/",
    operation_id = "token_refresh",
    tag = "tokens",
    summary = "Refresh: a new access token (and, rotating, a new refresh token)",
    request_body(content = crate::api::openapi::bodies::RefreshToken, description = "JSON, form or multipart"),
    responses(
        (status = 200, description = "A new access token, with a new refresh token when rotating", body = crate::api::openapi::bodies::TokenPair),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotAuthenticated
    )
)]
pub(super) async fn refresh(
    req: HttpRequest,
    payload: web::Payload,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    revoked: web::Data<RevokedSet>,
    ended: web::Data<EndedSessions>,
    codec: web::Data<TokenCodec>,
    rotation: web::Data<Rotation>,
    policy: web::Data<SessionPolicy>,
    retries: web::Data<RotationRetries>,
    audit: web::Data<Audit>,
    transport: web::Data<Transport>,
    clock: web::Data<Clock>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let answer = refresh_pair(
        &req, payload, &blacklist, &revoked, &ended, &codec, &rotation, &policy, &retries, &audit,
        &transport, &clock,
    )
    .await;
    metrics
        .tokens
        .refresh(RefreshKind::Pair, answer_status(&answer));
    answer
}

/// The status a handler's answer goes out with.
pub(super) fn answer_status(answer: &Result<HttpResponse, ApiError>) -> StatusCode {
    match answer {
        Ok(response) => response.status(),
        Err(err) => err.status_code(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn refresh_pair(
    req: &HttpRequest,
    payload: web::Payload,
    blacklist: &Addr<TokenBlacklist>,
    revoked: &RevokedSet,
    ended: &EndedSessions,
    codec: &web::Data<TokenCodec>,
    rotation: &Rotation,
    policy: &SessionPolicy,
    retries: &RotationRetries,
    audit: &Audit,
    transport: &Transport,
    clock: &Clock,
) -> Result<HttpResponse, ApiError> {
    let now = clock.now();
    let ts = now.unix_timestamp();
    let Presented { raw, token, .. } = transport
        .presented(req, payload, Kind::Pair, codec, ts)
        .await?;
    let Some(session_id) = token.session_id.clone() else {
        if revoked.contains(&token.jti) {
            return Err(ApiError::InvalidToken(TokenError::Blacklisted));
        }
        let answer = refresh_without_session(req, &raw, &token, blacklist, codec, rotation, now);
        return Ok(transport.pair(answer.await?));
    };
    if ended.contains(&session_id) {
        return Err(ApiError::InvalidToken(TokenError::Blacklisted));
    }
    if revoked.contains(&token.jti) {
        if let Some(answer) = retries.get(&token.jti, now) {
            return Ok(transport.pair(answer));
        }
        if !policy.strict {
            return Err(ApiError::InvalidToken(TokenError::Blacklisted));
        }
        // A rotated token again: the session row tells a retry from a reuse.
    }
    token
        .expect_kind(TokenKind::Refresh)
        .map_err(ApiError::InvalidToken)?;
    let user_id = check_token_user(req, &raw, &token, codec, blacklist, now).await?;

    let claims = token.claims();
    let rotate = rotation.rotate_refresh_tokens;
    let successor = rotate.then(|| {
        let jti = codec.new_id();
        let (codec, payload, next) = (codec.clone(), claims.clone(), jti.clone());
        let mint: MintSuccessor = Box::new(move |deadline| {
            let deadline = deadline.map(|d| d.assume_utc().unix_timestamp());
            let minted = codec.rotated(&payload, &next, ts, deadline)?;
            let row = minted_row(&minted, Some(user_id), now);
            Ok((minted, row))
        });
        (jti, mint)
    });
    let call = blacklist
        .send(Refresh(RefreshSession {
            session_id,
            presented: presented_row(&raw, &token, Some(user_id), now),
            successor,
            blacklist_old: rotate && rotation.blacklist_after_rotation,
            strict: policy.strict,
            now: stored_time(now),
            idle_before: policy.idle_before(now),
            grace_since: policy.grace_since(now),
        }))
        .timeout(ASK_TIMEOUT);
    let outcome = timed(req, Mailbox::TokenBlacklist, call).await??;
    match outcome {
        SessionRefresh::Advanced {
            deadline,
            successor,
        } => {
            let deadline = deadline.assume_utc().unix_timestamp();
            let access = codec
                .access_for(&claims, ts, Some(deadline))
                .map_err(mint_failed)?;
            let Some(next) = successor else {
                return Ok(transport.pair(json!({ "access": access.token })));
            };
            let answer = json!({ "access": access.token, "refresh": next.token });
            if let Some(grace) = policy.reuse_interval {
                retries.keep(&token.jti, answer.clone(), now, now + grace);
            }
            Ok(transport.pair(answer))
        }
        SessionRefresh::Retry => match retries.wait_for(&token.jti, clock).await {
            Some(answer) => Ok(transport.pair(answer)),
            None => Err(ApiError::InvalidToken(TokenError::Blacklisted)),
        },
        SessionRefresh::Refused(reason) => {
            let session = token.session_id.as_deref().unwrap_or_default();
            if let Some(reason) = reason {
                audit.record(ended_at_refresh(req, user_id, session, reason));
            }
            if reason == Some(EndReason::RefreshReuse) {
                tracing::warn!(
                    user_id,
                    session,
                    "a rotated refresh token was used again: its session has ended"
                );
            }
            Err(ApiError::InvalidToken(match reason {
                Some(EndReason::MaxLifetime | EndReason::Idle) => TokenError::Expired,
                _ => TokenError::Blacklisted,
            }))
        }
    }
}

/// The event of a session that a refresh found reused or past a deadline, and ended.
pub(super) fn ended_at_refresh(
    req: &HttpRequest,
    user_id: i64,
    session: &str,
    reason: EndReason,
) -> NewEvent {
    let event = NewEvent::from_request(req, EventKind::SessionEnded)
        .subject_id(user_id)
        .session(session);
    match reason {
        EndReason::RefreshReuse => event.kind_of(EventKind::RefreshReuse).detail(
            "a rotated refresh token was presented again: the session and every token of it \
             ended",
        ),
        EndReason::MaxLifetime => event.detail("past session_max_lifetime"),
        EndReason::Idle => event.detail("idle past session_idle_timeout"),
        other => event.detail(other.as_str()),
    }
}

/// The refresh of a token issued before sessions (no session id): as simplejwt does.
async fn refresh_without_session(
    req: &HttpRequest,
    raw: &str,
    token: &Decoded,
    blacklist: &Addr<TokenBlacklist>,
    codec: &TokenCodec,
    rotation: &Rotation,
    now: time::OffsetDateTime,
) -> Result<Value, ApiError> {
    let ts = now.unix_timestamp();
    token
        .expect_kind(TokenKind::Refresh)
        .map_err(ApiError::InvalidToken)?;
    let user_id = check_token_user(req, raw, token, codec, blacklist, now).await?;

    let claims = token.claims();
    let access = codec.access_for(&claims, ts, None).map_err(mint_failed)?;
    if !rotation.rotate_refresh_tokens {
        return Ok(json!({ "access": access.token }));
    }
    let next = codec
        .rotated(&claims, &codec.new_id(), ts, None)
        .map_err(mint_failed)?;
    let call = blacklist
        .send(Rotate {
            old: presented_row(raw, token, Some(user_id), now),
            new: minted_row(&next, Some(user_id), now),
            blacklist_old: rotation.blacklist_after_rotation,
            at: stored_time(now),
        })
        .timeout(ASK_TIMEOUT);
    let outcome = timed(req, Mailbox::TokenBlacklist, call).await??;
    if outcome == Blacklisting::AlreadyBlacklisted {
        return Err(ApiError::InvalidToken(TokenError::Blacklisted));
    }
    Ok(json!({ "access": access.token, "refresh": next.token }))
}

/// **Permissions:** anyone. `POST {"token"}` -> `{}` when the token would be accepted: valid,
/// not blacklisted (unlike simplejwt, the blacklist is always consulted, and answers 401), and
/// its user passes a protected route's checks (exists, active, stamp current), refused with the
/// same 401 bodies as there.
#[utoipa::path(
    post,
    path = "/api/token/verify/",
    operation_id = "token_verify",
    tag = "tokens",
    summary = "Verify a token",
    request_body(content = crate::api::openapi::bodies::Token, description = "JSON, form or multipart"),
    responses(
        (status = 200, description = "The token is accepted", body = crate::api::openapi::bodies::Empty),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotAuthenticated
    )
)]
pub(super) async fn verify(
    req: HttpRequest,
    payload: web::Payload,
    revoked: web::Data<RevokedSet>,
    ended: web::Data<EndedSessions>,
    codec: web::Data<TokenCodec>,
    auth: web::Data<AuthSettings>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let (_, token) =
        presented_token(&req, payload, "token", &codec, clock.now().unix_timestamp()).await?;
    if revoked.contains(&token.jti) {
        return Err(ApiError::InvalidToken(TokenError::Blacklisted));
    }
    crate::auth::token_user(&req, &token, &codec, auth.check_user_is_active).await?;
    if ended.holds(&token) {
        return Err(ApiError::InvalidToken(TokenError::Blacklisted));
    }
    Ok(token_answer(json!({})))
}

/// **Permissions:** holder of a refresh token. `POST {"refresh"}` -> `{}`; the token can no
/// longer be refreshed, and its session ends: every access token of it is refused at once
/// (logout).
#[allow(clippy::too_many_arguments)]
#[utoipa::path(
    post,
    path = "/api/token/blacklist/",
    operation_id = "token_blacklist",
    tag = "tokens",
    summary = "Log out: blacklist a refresh token",
    request_body(content = crate::api::openapi::bodies::RefreshToken, description = "JSON, form or multipart"),
    responses(
        (status = 200, description = "Blacklisted; its session ended", body = crate::api::openapi::bodies::Empty),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotAuthenticated
    )
)]
pub(super) async fn blacklist(
    req: HttpRequest,
    payload: web::Payload,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    revoked: web::Data<RevokedSet>,
    ended: web::Data<EndedSessions>,
    codec: web::Data<TokenCodec>,
    audit: web::Data<Audit>,
    transport: web::Data<Transport>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let now = clock.now();
    let presented = transport
        .presented(&req, payload, Kind::Pair, &codec, now.unix_timestamp())
        .await?;
    let outcome = log_out(
        &req,
        &presented,
        &blacklist,
        (&revoked, &ended),
        &audit,
        now,
    );
    transport.logged_out(&presented, outcome.await)
}

/// Blacklists the presented refresh token and ends its session.
async fn log_out(
    req: &HttpRequest,
    presented: &Presented,
    blacklist: &Addr<TokenBlacklist>,
    (revoked, ended): (&RevokedSet, &EndedSessions),
    audit: &Audit,
    now: time::OffsetDateTime,
) -> Result<Value, ApiError> {
    let (raw, token) = (&presented.raw, &presented.token);
    if revoked.contains(&token.jti) || ended.holds(token) {
        return Err(ApiError::InvalidToken(TokenError::Blacklisted));
    }
    token
        .expect_kind(TokenKind::Refresh)
        .map_err(ApiError::InvalidToken)?;
    let user_id = match token.user_id() {
        Some(id) => crate::auth::find_user(req, id).await?.map(|u| u.id),
        None => None,
    };
    let row = presented_row(raw, token, user_id, now);
    let session = token.session_id.clone().map(|id| (id, user_id));
    let call = blacklist
        .send(Blacklist {
            token: row,
            session,
            at: stored_time(now),
        })
        .timeout(ASK_TIMEOUT);
    let outcome = timed(req, Mailbox::TokenBlacklist, call).await??;
    if outcome == Blacklisting::AlreadyBlacklisted {
        return Err(ApiError::InvalidToken(TokenError::Blacklisted));
    }
    if let Some(session) = &token.session_id {
        let mut event = NewEvent::from_request(req, EventKind::SessionEnded)
            .session(session)
            .detail("logout");
        if let Some(id) = user_id {
            event = event.actor(id).subject_id(id);
        }
        audit.record(event);
    }
    Ok(json!({}))
}
