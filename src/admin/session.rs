//! Console sessions: a random token in an HttpOnly, SameSite=Strict cookie scoped to the
//! console's mount (`/admin`)
//! (Secure over TLS), its digest in the database. A session ends at logout, after the idle
//! timeout, at its absolute expiry, and as soon as its user is no longer active staff or their
//! security stamp changes (password change, "revoke all").

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use time::OffsetDateTime;

use super::error::ConsoleError;
use crate::actors::ASK_TIMEOUT;
use crate::actors::session_store::{
    CreateSession, EndSession, LoadSession, SessionStore, UpdateSession,
};
use crate::auth::{Acting, UserSnapshot, find_user, random_token};
use crate::client::ClientView;
use crate::clock::Clock;
use crate::db::models::session::Session;
use crate::db::models::token::digest;
use crate::db::stored_time;

pub const COOKIE: &str = "keyward_session";
pub const LOGIN_CSRF_COOKIE: &str = "keyward_login_csrf";

/// Session timeouts, as app data.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleSettings {
    pub idle_timeout: Duration,
    pub lifetime: Duration,
    /// Whether failed sign-ins are throttled (the locks page says so when not).
    pub login_throttle: bool,
}

/// The signed-in staff member of a console request.
pub struct ConsoleSession {
    pub row: Session,
    pub user: Arc<UserSnapshot>,
    /// The console's mount (`/admin`).
    pub root: String,
    store: Addr<SessionStore>,
}

impl ConsoleSession {
    /// `path` (`/users/`) under the console's mount (`/admin/users/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }

    pub fn csrf(&self) -> &str {
        &self.row.csrf_token
    }

    /// The acting admin for user-manager messages.
    pub fn acting(&self) -> Result<Acting, ConsoleError> {
        Acting::staff(Arc::clone(&self.user))
            .ok_or_else(|| ConsoleError::Forbidden("Staff only.".into()))
    }

    /// Refuses with a 403 page unless the user holds `codename`.
    pub fn require(&self, codename: &str) -> Result<(), ConsoleError> {
        if self.user.has_perm(codename) {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden(format!(
                "You need the permission {codename} for this page."
            )))
        }
    }

    pub fn can(&self, codename: &str) -> bool {
        self.user.has_perm(codename)
    }

    /// The pending flash message, cleared for the next page.
    pub async fn take_flash(&self) -> Option<String> {
        let flash = self.row.flash.clone()?;
        let _ = self
            .store
            .send(UpdateSession {
                id: self.row.id,
                seen_at: None,
                flash: Some(None),
            })
            .timeout(ASK_TIMEOUT)
            .await;
        Some(flash)
    }

    /// Stores a message for the next page (after a redirect).
    pub async fn flash(&self, message: impl Into<String>) -> Result<(), ConsoleError> {
        let update = UpdateSession {
            id: self.row.id,
            seen_at: None,
            flash: Some(Some(message.into())),
        };
        self.store.send(update).timeout(ASK_TIMEOUT).await??;
        Ok(())
    }

    pub async fn end(&self) -> Result<(), ConsoleError> {
        self.store
            .send(EndSession(self.row.id))
            .timeout(ASK_TIMEOUT)
            .await??;
        Ok(())
    }
}

fn data<T: 'static>(req: &HttpRequest) -> Result<&web::Data<T>, ConsoleError> {
    req.app_data::<web::Data<T>>()
        .ok_or_else(|| ConsoleError::Internal(format!("{} missing", std::any::type_name::<T>())))
}

fn login_required(req: &HttpRequest) -> ConsoleError {
    let next = match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    };
    let next = if req.method() == actix_web::http::Method::GET {
        next
    } else {
        format!("{}/", super::mount::root(req))
    };
    ConsoleError::LoginRequired { next }
}

impl FromRequest for ConsoleSession {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { load(&req).await })
    }
}

async fn load(req: &HttpRequest) -> Result<ConsoleSession, ConsoleError> {
    let Some(cookie) = req.cookie(COOKIE) else {
        return Err(login_required(req));
    };
    let store = data::<Addr<SessionStore>>(req)?.get_ref().clone();
    let settings = *data::<ConsoleSettings>(req)?.get_ref();
    let now = data::<Clock>(req)?.now();
    let Some(row) = store
        .send(LoadSession(digest(cookie.value())))
        .timeout(ASK_TIMEOUT)
        .await??
    else {
        return Err(login_required(req));
    };
    let idle_for = now - row.last_seen_at.assume_utc();
    let expired = now >= row.expires_at.assume_utc() || idle_for >= settings.idle_timeout;
    let user = if expired {
        None
    } else {
        find_user(req, row.user_id).await?
    };
    let valid = user
        .as_ref()
        .filter(|u| u.is_active && u.is_staff && u.security_stamp == row.user_stamp);
    let Some(user) = valid.cloned() else {
        store.do_send(EndSession(row.id));
        return Err(login_required(req));
    };
    if idle_for >= Duration::from_secs(60) {
        store.do_send(UpdateSession {
            id: row.id,
            seen_at: Some(stored_time(now)),
            flash: None,
        });
    }
    Ok(ConsoleSession {
        row,
        user,
        root: super::mount::root(req),
        store,
    })
}

/// Starts a new session for a user who just signed in; returns the cookie to set.
pub async fn start(
    req: &HttpRequest,
    user: &UserSnapshot,
    now: OffsetDateTime,
    flash: Option<String>,
) -> Result<Cookie<'static>, ConsoleError> {
    let store = data::<Addr<SessionStore>>(req)?.get_ref().clone();
    let settings = *data::<ConsoleSettings>(req)?.get_ref();
    // Renewal: a session the browser still carries ends (before the new cookie is handed
    // out, so the old token is dead by then); the new one gets a new token.
    if let Some(old) = req.cookie(COOKIE)
        && let Ok(Ok(Some(row))) = store
            .send(LoadSession(digest(old.value())))
            .timeout(ASK_TIMEOUT)
            .await
    {
        store
            .send(EndSession(row.id))
            .timeout(ASK_TIMEOUT)
            .await??;
    }
    let token = random_token(32);
    let message = CreateSession {
        token_digest: digest(&token),
        user_id: user.id,
        user_stamp: user.security_stamp.clone(),
        csrf_token: random_token(32),
        flash,
        now: stored_time(now),
        expires_at: stored_time(now + settings.lifetime),
    };
    store.send(message).timeout(ASK_TIMEOUT).await??;
    Ok(cookie(req, COOKIE, token))
}

/// A console cookie: HttpOnly, SameSite=Strict, its path the console's mount, Secure when
/// served over TLS (as the client sees it: behind a trusted proxy, its `X-Forwarded-Proto`
/// says).
pub fn cookie(req: &HttpRequest, name: &'static str, value: String) -> Cookie<'static> {
    let secure = ClientView::of(req).scheme == "https";
    Cookie::build(name, value)
        .path(super::mount::root(req))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

/// A cookie that removes `name`.
pub fn removal(req: &HttpRequest, name: &'static str) -> Cookie<'static> {
    let mut gone = cookie(req, name, String::new());
    gone.make_removal();
    gone
}
