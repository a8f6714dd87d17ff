//! Console actions on one user beyond the edit form: set the password, revoke all tokens,
//! delete (with confirmation). Each revokes through the user manager in one transaction and
//! tells the blacklist actor, so the API refuses the old tokens at once.

use actix::Addr;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::error::{ConsoleError, render};
use super::form::{self, path_id};
use super::layout::{Errors, Layout};
use super::session::ConsoleSession;
use super::users::{see_other, user_of};
use crate::actors::ASK_TIMEOUT;
use crate::actors::token_blacklist::{Remember, TokenBlacklist};
use crate::actors::user_admin::{DeleteUser, RevokeAllTokens, UpdateUser, UserInput};
use crate::actors::user_manager::UserManager;
use crate::api::PasswordRules;
use crate::audit::{Audit, EventKind};
use crate::auth::policy;
use crate::clock::Clock;

#[derive(Template)]
#[template(path = "admin/user_password.html")]
struct PasswordPage {
    layout: Layout,
    id: i64,
    username: String,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "admin/confirm.html")]
pub struct ConfirmPage {
    pub layout: Layout,
    pub heading: String,
    pub message: String,
    pub action: String,
    pub button: &'static str,
    pub cancel: String,
}

/// **Permissions:** `auth.change_user`.
pub async fn password_form(
    req: HttpRequest,
    session: ConsoleSession,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ConsoleError> {
    session.require("auth.change_user")?;
    let id = path_id(&req)?;
    let record = user_of(&session, &users, id).await?;
    let page = PasswordPage {
        layout: Layout::new(
            &session,
            format!("Password of {}", record.user.username),
            "users",
        )
        .await,
        id,
        username: record.user.username,
        errors: Errors::default(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// **Permissions:** `auth.change_user`. Revokes all the user's tokens.
#[allow(clippy::too_many_arguments)]
pub async fn set_password(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    rules: web::Data<PasswordRules>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form::read(body).await?;
    super::csrf::check(&form, session.csrf())?;
    session.require("auth.change_user")?;
    let id = path_id(&req)?;
    let record = user_of(&session, &users, id).await?;
    let (first, second) = (
        form.raw("password1").unwrap_or_default(),
        form.raw("password2").unwrap_or_default(),
    );
    let mut errors = Errors::default();
    if first.is_empty() {
        errors.add("password1", "This field is required.");
    } else if first != second {
        errors.add("password2", "The two password fields didn’t match.");
    } else {
        for problem in policy::violations(
            first,
            &record.user.username,
            &record.user.email,
            rules.min_length,
        ) {
            errors.add("password1", problem);
        }
    }
    if !errors.is_empty() {
        let page = PasswordPage {
            layout: Layout::new(
                &session,
                format!("Password of {}", record.user.username),
                "users",
            )
            .await,
            id,
            username: record.user.username,
            errors,
        };
        return Ok(render(StatusCode::BAD_REQUEST, &page));
    }
    let input = UserInput {
        password: Some(first.to_owned()),
        ..UserInput::default()
    };
    let (_, revoked) = users
        .send(UpdateUser {
            by: session.acting()?,
            id,
            input,
            now: clock.now(),
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    let count = revoked.tokens.len();
    audit.record(
        super::audit::event(&req, &session, EventKind::PasswordChanged)
            .subject(id, &record.user.username)
            .detail(format!(
                "set by an administrator; {count} refresh token(s) revoked"
            )),
    );
    blacklist
        .send(Remember(revoked))
        .timeout(ASK_TIMEOUT)
        .await?;
    session
        .flash(format!(
            "The password of “{}” was changed; {count} token(s) revoked.",
            record.user.username
        ))
        .await?;
    Ok(see_other(session.url(&format!("/users/{id}/"))))
}

/// **Permissions:** `auth.change_user`. Revokes every token of the user at once.
#[allow(clippy::too_many_arguments)]
pub async fn revoke_tokens(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    super::csrf::check(&form::read(body).await?, session.csrf())?;
    session.require("auth.change_user")?;
    let id = path_id(&req)?;
    let record = user_of(&session, &users, id).await?;
    let revoked = users
        .send(RevokeAllTokens {
            by: session.acting()?,
            id,
            now: clock.now(),
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    let count = revoked.tokens.len();
    audit.record(
        super::audit::event(&req, &session, EventKind::TokensRevoked)
            .subject(id, &record.user.username)
            .detail(format!(
                "all tokens of the user: {count} refresh token(s), and every access token"
            )),
    );
    blacklist
        .send(Remember(revoked))
        .timeout(ASK_TIMEOUT)
        .await?;
    session.flash(format!("All tokens of this user were revoked ({count} refresh token(s)); their access tokens stop working now.")).await?;
    Ok(see_other(session.url(&format!("/users/{id}/"))))
}

/// **Permissions:** `auth.delete_user`.
pub async fn delete_form(
    req: HttpRequest,
    session: ConsoleSession,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ConsoleError> {
    session.require("auth.delete_user")?;
    let id = path_id(&req)?;
    let record = user_of(&session, &users, id).await?;
    let page = ConfirmPage {
        layout: Layout::new(&session, "Delete user", "users").await,
        heading: format!("Delete the user “{}”?", record.user.username),
        message: "The account is deleted and all its tokens are revoked. This cannot be undone."
            .into(),
        action: session.url(&format!("/users/{id}/delete/")),
        button: "Yes, delete",
        cancel: session.url(&format!("/users/{id}/")),
    };
    Ok(render(StatusCode::OK, &page))
}

/// **Permissions:** `auth.delete_user` (superuser for superuser accounts).
#[allow(clippy::too_many_arguments)]
pub async fn delete(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    super::csrf::check(&form::read(body).await?, session.csrf())?;
    session.require("auth.delete_user")?;
    let id = path_id(&req)?;
    let record = user_of(&session, &users, id).await?;
    let revoked = users
        .send(DeleteUser {
            by: session.acting()?,
            id,
            now: clock.now(),
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    audit.record(
        super::audit::event(&req, &session, EventKind::UserDeleted)
            .subject(id, &record.user.username)
            .detail(format!("{} refresh token(s) revoked", revoked.tokens.len())),
    );
    blacklist
        .send(Remember(revoked))
        .timeout(ASK_TIMEOUT)
        .await?;
    session
        .flash(format!("The user “{}” was deleted.", record.user.username))
        .await?;
    Ok(see_other(session.url("/users/")))
}
