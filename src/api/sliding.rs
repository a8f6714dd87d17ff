//! simplejwt's sliding token views (mounted when `sliding_tokens` is on).

use actix::Addr;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::endpoint::{Anyone, Meta, serve};
use super::headers::token_answer;
use super::issue::{mint_failed, minted_row, subject};
use super::token::{check_token_user, credentials, presented_token};
use crate::actors::ASK_TIMEOUT;
use crate::actors::revoked::RevokedSet;
use crate::actors::token_blacklist::{Record, TokenBlacklist};
use crate::actors::user_manager::UserManager;
use crate::audit::Audit;
use crate::clock::Clock;
use crate::error::ApiError;
use crate::jwt::{TokenCodec, TokenError, TokenKind};

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

pub fn config(cfg: &mut web::ServiceConfig) {
    serve::<Anyone>(cfg, "/api/token/sliding/", &OBTAIN, |r| {
        r.route(web::post().to(obtain))
    });
    serve::<Anyone>(cfg, "/api/token/sliding/refresh/", &REFRESH, |r| {
        r.route(web::post().to(refresh))
    });
}

/// **Permissions:** anyone. `POST {"username","password"}` -> `{"token"}`.
async fn obtain(
    req: HttpRequest,
    payload: web::Payload,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    codec: web::Data<TokenCodec>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let now = clock.now();
    let user = credentials(&req, payload, &users, &audit, now, "sliding").await?;
    let token = codec
        .mint_sliding(&subject(&user, &codec), now.unix_timestamp())
        .map_err(mint_failed)?;
    blacklist
        .send(Record(minted_row(&token, Some(user.id), now)))
        .timeout(ASK_TIMEOUT)
        .await??;
    Ok(token_answer(json!({ "token": token.token })))
}

/// **Permissions:** holder of a sliding token. `POST {"token"}` -> `{"token"}` with the same id
/// and refresh deadline and a new expiry.
async fn refresh(
    req: HttpRequest,
    payload: web::Payload,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    revoked: web::Data<RevokedSet>,
    codec: web::Data<TokenCodec>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let now = clock.now();
    let ts = now.unix_timestamp();
    let (raw, token) = presented_token(&req, payload, "token", &codec, ts).await?;
    if revoked.contains(&token.jti) {
        return Err(ApiError::InvalidToken(TokenError::Blacklisted));
    }
    token
        .expect_kind(TokenKind::Sliding)
        .map_err(ApiError::InvalidToken)?;
    codec
        .check_refresh_exp(&token, ts)
        .map_err(ApiError::InvalidToken)?;
    check_token_user(&req, &raw, &token, &codec, &blacklist, now).await?;
    let renewed = codec.slid(&token, ts).map_err(mint_failed)?;
    Ok(token_answer(json!({ "token": renewed.token })))
}
