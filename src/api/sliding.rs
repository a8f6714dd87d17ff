//! simplejwt's sliding token views (mounted when `sliding_tokens` is on).

use actix::Addr;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::cookie_transport::{Kind, Presented, Transport};
use super::endpoint::{Anyone, Meta, Routes};
use super::issue::{Login, mint_failed, presented_row};
use super::session_policy::SessionPolicy;
use super::token::{answer_status, check_token_user, credentials, ended_at_refresh};
use crate::actors::ASK_TIMEOUT;
use crate::actors::ended_sessions::EndedSessions;
use crate::actors::revoked::RevokedSet;
use crate::actors::token_blacklist::{Refresh, TokenBlacklist};
use crate::actors::token_store::{RefreshSession, SessionRefresh};
use crate::actors::user_manager::UserManager;
use crate::audit::Audit;
use crate::clock::Clock;
use crate::config::Paths;
use crate::db::models::token_session::EndReason;
use crate::db::stored_time;
use crate::error::ApiError;
use crate::jwt::{TokenCodec, TokenError, TokenKind};
use crate::metrics::{Mailbox, Metrics, RefreshKind, SignInVia, timed};

static OBTAIN: Meta = Meta {
    name: "Token Obtain Sliding",
    description: "Takes a set of user credentials and returns a sliding JSON web token to prove the authentication of those credentials.",
    fields: &[("username", "Username"), ("password", "Password")],
    allow: "POST, OPTIONS",
};
static REFRESH: Meta = Meta {
    name: "Token Refresh Sliding",
    description: "Takes a sliding JSON web token and returns a new, refreshed version if the token's refresh period has not expired.",
    fields: &[("token", "Token")],
    allow: "POST, OPTIONS",
};

pub fn config(cfg: &mut impl Routes, paths: &Paths) {
    cfg.serve::<Anyone>(&paths.token_sliding, &OBTAIN, |r| {
        r.route(web::post().to(obtain))
    });
    cfg.serve::<Anyone>(&paths.token_sliding_refresh, &REFRESH, |r| {
        r.route(web::post().to(refresh))
    });
}

/// **Permissions:** anyone. `POST {"username","password"}` -> `{"token"}`.
#[allow(clippy::too_many_arguments)]
#[utoipa::path(
    post,
    path = "/api/token/sliding/",
    operation_id = "sliding_obtain",
    tag = "tokens",
    summary = "Sign in: a sliding token",
    request_body(content = crate::api::openapi::bodies::Credentials, description = "JSON, form or multipart"),
    responses(
        (status = 200, description = "A sliding token", body = crate::api::openapi::bodies::Token),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NoActiveAccount
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
    let user = credentials(&req, payload, &users, &audit, now, SignInVia::Sliding).await?;
    let login = Login {
        req: &req,
        codec: &codec,
        blacklist: &blacklist,
        policy: &policy,
        now,
    };
    let token = login.sliding(&user).await?;
    Ok(transport.sliding(json!({ "token": token.token })))
}

/// **Permissions:** holder of a sliding token. `POST {"token"}` -> `{"token"}` with the same id
/// and refresh deadline and a new expiry; its session's idle and absolute deadlines apply.
/// Counted in the metrics by its answer.
#[allow(clippy::too_many_arguments)]
#[utoipa::path(
    post,
    path = "/api/token/sliding/refresh/",
    operation_id = "sliding_refresh",
    tag = "tokens",
    summary = "Refresh a sliding token",
    request_body(content = crate::api::openapi::bodies::Token, description = "JSON, form or multipart"),
    responses(
        (status = 200, description = "The renewed sliding token", body = crate::api::openapi::bodies::Token),
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
    policy: web::Data<SessionPolicy>,
    audit: web::Data<Audit>,
    transport: web::Data<Transport>,
    clock: web::Data<Clock>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let answer = slide(
        &req, payload, &blacklist, &revoked, &ended, &codec, &policy, &audit, &transport, &clock,
    )
    .await;
    metrics
        .tokens
        .refresh(RefreshKind::Sliding, answer_status(&answer));
    answer
}

#[allow(clippy::too_many_arguments)]
async fn slide(
    req: &HttpRequest,
    payload: web::Payload,
    blacklist: &Addr<TokenBlacklist>,
    revoked: &RevokedSet,
    ended: &EndedSessions,
    codec: &TokenCodec,
    policy: &SessionPolicy,
    audit: &Audit,
    transport: &Transport,
    clock: &Clock,
) -> Result<HttpResponse, ApiError> {
    let now = clock.now();
    let ts = now.unix_timestamp();
    let Presented { raw, token, .. } = transport
        .presented(req, payload, Kind::Sliding, codec, ts)
        .await?;
    if revoked.contains(&token.jti) || ended.holds(&token) {
        return Err(ApiError::InvalidToken(TokenError::Blacklisted));
    }
    token
        .expect_kind(TokenKind::Sliding)
        .map_err(ApiError::InvalidToken)?;
    codec
        .check_refresh_exp(&token, ts)
        .map_err(ApiError::InvalidToken)?;
    let user_id = check_token_user(req, &raw, &token, codec, blacklist, now).await?;
    let deadline = match &token.session_id {
        None => None,
        Some(session_id) => {
            let call = blacklist
                .send(Refresh(RefreshSession {
                    session_id: session_id.clone(),
                    presented: presented_row(&raw, &token, Some(user_id), now),
                    successor: None,
                    blacklist_old: false,
                    strict: false,
                    now: stored_time(now),
                    idle_before: policy.idle_before(now),
                    grace_since: None,
                }))
                .timeout(ASK_TIMEOUT);
            let outcome = timed(req, Mailbox::TokenBlacklist, call).await??;
            match outcome {
                SessionRefresh::Advanced { deadline, .. } => {
                    Some(deadline.assume_utc().unix_timestamp())
                }
                SessionRefresh::Refused(Some(
                    reason @ (EndReason::MaxLifetime | EndReason::Idle),
                )) => {
                    audit.record(ended_at_refresh(req, user_id, session_id, reason));
                    return Err(ApiError::InvalidToken(TokenError::Expired));
                }
                SessionRefresh::Refused(_) | SessionRefresh::Retry => {
                    return Err(ApiError::InvalidToken(TokenError::Blacklisted));
                }
            }
        }
    };
    let renewed = codec.slid(&token, ts, deadline).map_err(mint_failed)?;
    Ok(transport.sliding(json!({ "token": renewed.token })))
}
