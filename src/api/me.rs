//! The caller's own account.

use actix::Addr;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::body;
use super::cookie_transport::Transport;
use super::endpoint::{Meta, Routes};
use super::fields::{Fields, Trim};
use super::issue::Login;
use super::session_policy::SessionPolicy;
use super::signup::PasswordRules;
use super::user_view::UserView;
use crate::actors::ASK_TIMEOUT;
use crate::actors::token_blacklist::{Remember, TokenBlacklist};
use crate::actors::user_manager::{ChangePassword, UserManager};
use crate::audit::{Audit, EventKind, NewEvent};
use crate::auth::{AuthUser, policy};
use crate::clock::Clock;
use crate::config::Paths;
use crate::error::ApiError;
use crate::jwt::TokenCodec;

static ME: Meta = Meta {
    name: "Me",
    description: "The authenticated user: id, username, email, flags, groups and permissions.",
    fields: &[],
    allow: "GET, HEAD, OPTIONS",
};
static PASSWORD: Meta = Meta {
    name: "Change Password",
    description: "Changes the authenticated user's password and revokes their other tokens.",
    fields: &[
        ("current_password", "Current password"),
        ("new_password", "New password"),
    ],
    allow: "POST, OPTIONS",
};

pub fn config(cfg: &mut impl Routes, paths: &Paths) {
    cfg.serve::<AuthUser>(&paths.me, &ME, |r| {
        r.route(web::get().to(me)).route(web::head().to(me))
    });
    cfg.serve::<AuthUser>(&paths.me_password, &PASSWORD, |r| {
        r.route(web::post().to(change_password))
    });
}

/// **Permissions:** authenticated. The caller's account as currently stored (rendered once
/// per snapshot of the user: a snapshot never changes).
#[utoipa::path(
    get,
    path = "/api/me/",
    operation_id = "me_me",
    tag = "account",
    summary = "The signed-in user",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = crate::api::user_view::UserView),
        crate::api::openapi::responses::NotAuthenticated
    )
)]
pub(super) async fn me(auth: AuthUser) -> HttpResponse {
    let user = &*auth.user;
    let rendered = user.rendered.get_or_try(|| {
        serde_json::to_vec(&UserView::from(user))
            .ok()
            .map(Bytes::from)
    });
    match rendered {
        Some(body) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
            .body(body),
        // What serializing failed on, as `json` reports it.
        None => HttpResponse::Ok().json(UserView::from(user)),
    }
}

/// **Permissions:** authenticated. `POST {"current_password","new_password"}` -> a new
/// `{"refresh","access"}` pair for this client; every other token of the user stops working
/// (refresh tokens are blacklisted, every session ends, and the security stamp changes).
#[allow(clippy::too_many_arguments)]
#[utoipa::path(
    post,
    path = "/api/me/password/",
    operation_id = "me_change_password",
    tag = "account",
    summary = "Change the password",
    security(("bearer" = [])),
    request_body(content = crate::api::openapi::bodies::PasswordChange, description = "JSON, form or multipart"),
    responses(
        (status = 200, description = "A new token pair for this client", body = crate::api::openapi::bodies::TokenPair),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotAuthenticated
    )
)]
pub(super) async fn change_password(
    req: HttpRequest,
    payload: web::Payload,
    auth: AuthUser,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    codec: web::Data<TokenCodec>,
    rules: web::Data<PasswordRules>,
    policy: web::Data<SessionPolicy>,
    audit: web::Data<Audit>,
    transport: web::Data<Transport>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let data = body::parse(&req, payload).await?;
    let mut fields = Fields::new();
    let current_password = fields.required(&data, "current_password", Trim::Keep);
    let new_password = fields.required(&data, "new_password", Trim::Keep);
    if !fields.has_error("new_password") {
        for problem in policy::violations(
            &new_password,
            &auth.user.username,
            &auth.user.email,
            rules.min_length,
        ) {
            fields.add("new_password", problem);
        }
    }
    fields.finish()?;
    let now = clock.now();
    let message = ChangePassword {
        user_id: auth.user.id,
        current_password,
        new_password,
        now,
    };
    let (user, revoked) = users
        .send(message)
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::user_error)?;
    audit.record(
        NewEvent::from_request(&req, EventKind::PasswordChanged)
            .at(now)
            .actor(user.id)
            .subject(user.id, &user.username)
            .detail(format!(
                "changed by the user; {} refresh token(s) revoked",
                revoked.tokens.len()
            )),
    );
    blacklist
        .send(Remember(revoked))
        .timeout(ASK_TIMEOUT)
        .await?;
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
