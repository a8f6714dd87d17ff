//! Sign-in and sign-out. Staff only; a non-staff account gets the same answer as a wrong
//! password, and its refused sign-in changes nothing. Failed attempts are throttled as on the
//! token endpoints (see [`crate::auth::throttle`]).

use std::time::Duration;

use actix::Addr;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, LOCATION, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use subtle::ConstantTimeEq;

use super::error::{ConsoleError, render};
use super::form::{self, Form};
use super::session::{self, COOKIE, ConsoleSession, LOGIN_CSRF_COOKIE};
use crate::actors::ASK_TIMEOUT;
use crate::actors::sign_in::{Authenticate, LoginPurpose};
use crate::actors::user_manager::{UserError, UserManager};
use crate::audit::{Audit, sign_in_event};
use crate::auth::random_token;
use crate::client::ClientView;
use crate::clock::Clock;
use crate::error::retry_after;
use crate::metrics::{Mailbox, Metrics, SignInOutcome, SignInVia};

pub const BAD_CREDENTIALS: &str = "Please enter the correct username and password for a staff account. Note that both fields may be case-sensitive.";

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage<'a> {
    root: &'a str,
    csrf: &'a str,
    next: &'a str,
    username: &'a str,
    error: Option<String>,
    notice: Option<&'a str>,
}

/// Only paths of the console mounted at `root` ([`form::is_console_path`]); anything else
/// (CR/LF, other hosts, `//evil`, `..` out of the console) goes to the dashboard.
fn safe_next(next: &str, root: &str) -> String {
    let dashboard = format!("{root}/");
    if form::is_console_path(next, &[dashboard.as_str()]) {
        next.to_owned()
    } else {
        dashboard
    }
}

fn page(
    req: &HttpRequest,
    status: StatusCode,
    username: &str,
    next: &str,
    error: Option<String>,
    notice: Option<&str>,
) -> HttpResponse {
    let csrf = random_token(32);
    let root = super::mount::root(req);
    let mut response = render(
        status,
        &LoginPage {
            root: &root,
            csrf: &csrf,
            next: &safe_next(next, &root),
            username,
            error,
            notice,
        },
    );
    let _ = response.add_cookie(&session::cookie(req, LOGIN_CSRF_COOKIE, csrf));
    response
}

/// **Permissions:** anyone. The sign-in form (signed-in staff go straight to the dashboard).
pub async fn show(req: HttpRequest, current: Option<ConsoleSession>) -> HttpResponse {
    let query = Form::query(req.query_string());
    let next = query.text("next");
    if current.is_some() {
        return HttpResponse::SeeOther()
            .insert_header((LOCATION, safe_next(&next, &super::mount::root(&req))))
            .finish();
    }
    let notice = query.raw("signed_out").map(|_| "You are signed out.");
    page(&req, StatusCode::OK, "", &next, None, notice)
}

/// The sign-in form again, with a 429 and `Retry-After`: too many failed sign-ins.
fn throttled(req: &HttpRequest, username: &str, next: &str, wait: Duration) -> HttpResponse {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let error = format!("Too many failed sign-in attempts. Try again in {minutes} minute(s).");
    let status = StatusCode::TOO_MANY_REQUESTS;
    let mut response = page(req, status, username, next, Some(error), None);
    if let Ok(value) = HeaderValue::from_str(&retry_after(wait).to_string()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

/// **Permissions:** anyone; signs in active staff. Throttled as the token endpoints are.
/// Every attempt is recorded in the audit log.
pub async fn submit(
    req: HttpRequest,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form::read(body).await?;
    let (username, next) = (form.text("username"), form.text("next"));
    let cookie_token = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let sent = form.raw(super::csrf::FIELD).unwrap_or_default();
    if cookie_token.is_empty() || !bool::from(sent.as_bytes().ct_eq(cookie_token.as_bytes())) {
        return Err(ConsoleError::Csrf);
    }
    let now = clock.now();
    let address = ClientView::of(&req).address;
    let attempt = Authenticate {
        username: username.clone(),
        password: form.raw("password").unwrap_or_default().to_owned(),
        address,
        purpose: LoginPurpose::Console,
        now,
    };
    let call = users.send(attempt).timeout(ASK_TIMEOUT);
    let outcome = metrics.calls.time(Mailbox::UserManager, call).await?;
    let via = SignInVia::Console;
    if let Some(event) = sign_in_event(&req, &username, &outcome, via.label(), now) {
        audit.record(event);
    }
    metrics.tokens.sign_in(via, SignInOutcome::of(&outcome));
    let user = match outcome {
        Ok(user) => user,
        Err(UserError::Throttled(wait)) => return Ok(throttled(&req, &username, &next, wait)),
        Err(UserError::InvalidCredentials) => {
            let address = address.map(|a| a.to_string()).unwrap_or_default();
            tracing::info!(username = %username, address = %address, "console sign-in refused");
            return Ok(page(
                &req,
                StatusCode::OK,
                &username,
                &next,
                Some(BAD_CREDENTIALS.into()),
                None,
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let cookie = session::start(&req, &user, now, None).await?;
    let mut response = HttpResponse::SeeOther()
        .insert_header((LOCATION, safe_next(&next, &super::mount::root(&req))))
        .finish();
    let _ = response.add_cookie(&cookie);
    let _ = response.add_cookie(&session::removal(&req, LOGIN_CSRF_COOKIE));
    Ok(response)
}

/// **Permissions:** signed in. Ends the session (CSRF-checked POST).
pub async fn logout(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    super::csrf::check(&form::read(body).await?, session.csrf())?;
    session.end().await?;
    let mut response = HttpResponse::SeeOther()
        .insert_header((LOCATION, session.url("/login/?signed_out=1")))
        .finish();
    let _ = response.add_cookie(&session::removal(&req, COOKIE));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_inside_the_console() {
        assert_eq!(
            safe_next("/admin/users/?q=a", "/admin"),
            "/admin/users/?q=a"
        );
        assert_eq!(
            safe_next("/admin/users/?q=a%20b", "/admin"),
            "/admin/users/?q=a%20b"
        );
        assert_eq!(safe_next("/staff/users/", "/staff"), "/staff/users/");
        assert_eq!(safe_next("/admin/users/", "/staff"), "/staff/");
        for bad in [
            "https://evil.example/",
            "//evil.example/admin/",
            "/api/me/",
            "",
            "/admin/\\evil",
            "/admin/\r\nSet-Cookie: a=b",
            "/admin/users/\n",
            "/admin/\0",
            "/admin/../api/me/",
            "/admin/%2e%2E/api/",
            "/admin/ users/",
            "/admin/usérs/",
        ] {
            assert_eq!(safe_next(bad, "/admin"), "/admin/", "{bad}");
        }
    }
}
