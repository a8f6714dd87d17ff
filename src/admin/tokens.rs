//! Console pages for refresh tokens: the outstanding list with filters (user, status, issued
//! and expiry ranges, jti or username search), detail, revoke one, revoke a selection, and the
//! blacklist with un-revoke. Revocations reach the API at once (the in-memory list learns
//! them when the database has them).

use actix::Addr;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use time::PrimitiveDateTime;

use super::error::{ConsoleError, render};
use super::form::{self, Form, path_id};
use super::layout::{
    Choice, Layout, PAGE_SIZE, Pager, choices, local_time, page_number, show_time,
};
use super::session::ConsoleSession;
use super::token_sessions::{self, SessionCard};
use super::users::see_other;
use crate::actors::ASK_TIMEOUT;
use crate::actors::session_store::{GetToken, ListTokens, SessionStore};
use crate::actors::token_blacklist::{RevokeTokens, TokenBlacklist, Unrevoke};
use crate::api::SessionPolicy;
use crate::audit::{Audit, EventKind, NewEvent};
use crate::clock::Clock;
use crate::db::models::Page;
use crate::db::models::token_admin::{TokenFilter, TokenRow, TokenStatus};
use crate::db::stored_time;

const VIEW: &str = "token_blacklist.view_outstandingtoken";
const REVOKE: &str = "token_blacklist.add_blacklistedtoken";
const UNREVOKE: &str = "token_blacklist.delete_blacklistedtoken";

/// A token as the pages show it.
pub struct TokenLine {
    pub id: i64,
    pub jti: String,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub blacklisted_at: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub status: &'static str,
}

impl TokenLine {
    fn new(row: TokenRow, now: PrimitiveDateTime) -> Self {
        let status = if row.blacklisted_at.is_some() {
            "revoked"
        } else if row.expires_at <= now {
            "expired"
        } else {
            "active"
        };
        Self {
            id: row.id,
            jti: row.jti,
            user_id: row.user_id,
            username: row.username,
            created_at: show_time(row.created_at),
            expires_at: show_time(row.expires_at),
            blacklisted_at: row.blacklisted_at.map(show_time),
            status,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct ListPage {
    layout: Layout,
    heading: &'static str,
    base_path: String,
    show_status: bool,
    tokens: Vec<TokenLine>,
    total: i64,
    q: String,
    status_choices: Vec<Choice>,
    user: String,
    /// The user filtered on, whose sessions the page links to.
    sessions_of: Option<i64>,
    issued_after: String,
    issued_before: String,
    expires_after: String,
    expires_before: String,
    return_to: String,
    can_revoke: bool,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "admin/token_detail.html")]
struct DetailPage {
    layout: Layout,
    token: TokenLine,
    session: Option<SessionCard>,
    can_revoke: bool,
    can_unrevoke: bool,
}

const STATUSES: &[(&str, &str)] = &[
    ("", "any"),
    ("active", "active"),
    ("expired", "expired"),
    ("blacklisted", "revoked"),
];

/// **Permissions:** `token_blacklist.view_outstandingtoken`.
pub async fn list(
    req: HttpRequest,
    session: ConsoleSession,
    store: web::Data<Addr<SessionStore>>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    listing(req, session, store, clock, false).await
}

/// **Permissions:** `token_blacklist.view_outstandingtoken`. The revoked tokens.
pub async fn blacklist(
    req: HttpRequest,
    session: ConsoleSession,
    store: web::Data<Addr<SessionStore>>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    listing(req, session, store, clock, true).await
}

async fn listing(
    req: HttpRequest,
    session: ConsoleSession,
    store: web::Data<Addr<SessionStore>>,
    clock: web::Data<Clock>,
    blacklisted_only: bool,
) -> Result<HttpResponse, ConsoleError> {
    session.require(VIEW)?;
    let query = Form::list_query(req.query_string())?;
    let text = |name: &str| query.text(name);
    let status = if blacklisted_only {
        "blacklisted".to_owned()
    } else {
        text("status")
    };
    let filter = TokenFilter {
        search: Some(text("q")).filter(|s| !s.is_empty()),
        user_id: text("user").parse().ok(),
        status: match status.as_str() {
            "active" => Some(TokenStatus::Active),
            "expired" => Some(TokenStatus::Expired),
            "blacklisted" => Some(TokenStatus::Blacklisted),
            _ => None,
        },
        issued_after: local_time(&text("issued_after")),
        issued_before: local_time(&text("issued_before")),
        expires_after: local_time(&text("expires_after")),
        expires_before: local_time(&text("expires_before")),
    };
    let number = page_number(&text("page"));
    let now = stored_time(clock.now());
    let page = Page {
        offset: (number - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
    };
    let (rows, total) = store
        .send(ListTokens { filter, now, page })
        .timeout(ASK_TIMEOUT)
        .await??;
    let base_path = session.url(if blacklisted_only {
        "/blacklist/"
    } else {
        "/tokens/"
    });
    let names = [
        "q",
        "status",
        "user",
        "issued_after",
        "issued_before",
        "expires_after",
        "expires_before",
    ];
    let params: Vec<(&str, String)> = names
        .iter()
        .map(|n| {
            (
                *n,
                if *n == "status" {
                    status.clone()
                } else {
                    text(n)
                },
            )
        })
        .collect();
    let return_to = match req.query_string() {
        "" => base_path.to_owned(),
        q => format!("{base_path}?{q}"),
    };
    let page = ListPage {
        layout: Layout::new(
            &session,
            if blacklisted_only {
                "Blacklist"
            } else {
                "Tokens"
            },
            if blacklisted_only {
                "blacklist"
            } else {
                "tokens"
            },
        )
        .await,
        heading: if blacklisted_only {
            "Blacklisted refresh tokens"
        } else {
            "Outstanding refresh tokens"
        },
        base_path: base_path.clone(),
        show_status: !blacklisted_only,
        tokens: rows.into_iter().map(|r| TokenLine::new(r, now)).collect(),
        total,
        pager: Pager::new(&base_path, &params, number, total),
        q: text("q"),
        status_choices: choices(STATUSES, &status),
        user: text("user"),
        sessions_of: text("user").parse().ok(),
        issued_after: text("issued_after"),
        issued_before: text("issued_before"),
        expires_after: text("expires_after"),
        expires_before: text("expires_before"),
        return_to,
        can_revoke: session.can(REVOKE),
    };
    Ok(render(StatusCode::OK, &page))
}

/// **Permissions:** `token_blacklist.view_outstandingtoken`. Shows the session the token
/// carries on when it is that session's current token.
pub async fn detail(
    req: HttpRequest,
    session: ConsoleSession,
    store: web::Data<Addr<SessionStore>>,
    policy: web::Data<SessionPolicy>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    session.require(VIEW)?;
    let id = path_id(&req)?;
    let row = store
        .send(GetToken(id))
        .timeout(ASK_TIMEOUT)
        .await??
        .ok_or(ConsoleError::NotFound)?;
    let card = token_sessions::card((&store, &policy, &clock), &row.jti).await?;
    let page = DetailPage {
        layout: Layout::new(&session, "Refresh token", "tokens").await,
        token: TokenLine::new(row, stored_time(clock.now())),
        session: card,
        can_revoke: session.can(REVOKE),
        can_unrevoke: session.can(UNREVOKE),
    };
    Ok(render(StatusCode::OK, &page))
}

/// Only console list pages are valid places to return to.
fn return_path(form: &Form, session: &ConsoleSession) -> String {
    let to = form.text("return_to");
    let lists = [session.url("/tokens/"), session.url("/blacklist/")];
    if form::is_console_path(&to, &[lists[0].as_str(), lists[1].as_str()]) {
        to
    } else {
        lists[0].clone()
    }
}

/// The event of a revocation (or its lifting) of one token, about the token's user.
fn token_event(
    req: &HttpRequest,
    session: &ConsoleSession,
    kind: EventKind,
    token: &TokenRow,
) -> NewEvent {
    let event = super::audit::event(req, session, kind);
    let event = match (token.user_id, &token.username) {
        (Some(id), Some(name)) => event.subject(id, name),
        _ => event,
    };
    event.detail(format!("token id {} (jti {})", token.id, token.jti))
}

/// **Permissions:** `token_blacklist.add_blacklistedtoken`. Revokes the selected tokens.
pub async fn revoke_selected(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form::read(body).await?;
    super::csrf::check(&form, session.csrf())?;
    session.require(REVOKE)?;
    let ids: Vec<i64> = form
        .all("ids")
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    if ids.is_empty() {
        session.flash("No token was selected.").await?;
        return Ok(see_other(return_path(&form, &session)));
    }
    let listed = ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let count = blacklist
        .send(RevokeTokens {
            ids,
            by: Some(session.user.id),
            at: stored_time(clock.now()),
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    audit.record(
        super::audit::event(&req, &session, EventKind::TokensRevoked).detail(format!(
            "{count} revoked of the selected token ids {listed}"
        )),
    );
    session.flash(format!("{count} token(s) revoked.")).await?;
    Ok(see_other(return_path(&form, &session)))
}

/// **Permissions:** `token_blacklist.add_blacklistedtoken`.
#[allow(clippy::too_many_arguments)]
pub async fn revoke_one(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    store: web::Data<Addr<SessionStore>>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    super::csrf::check(&form::read(body).await?, session.csrf())?;
    session.require(REVOKE)?;
    let id = path_id(&req)?;
    let token = store
        .send(GetToken(id))
        .timeout(ASK_TIMEOUT)
        .await??
        .ok_or(ConsoleError::NotFound)?;
    let count = blacklist
        .send(RevokeTokens {
            ids: vec![id],
            by: Some(session.user.id),
            at: stored_time(clock.now()),
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    if count == 1 {
        audit.record(token_event(
            &req,
            &session,
            EventKind::TokensRevoked,
            &token,
        ));
    }
    session
        .flash(if count == 1 {
            "The token was revoked."
        } else {
            "The token was already revoked."
        })
        .await?;
    Ok(see_other(session.url(&format!("/tokens/{id}/"))))
}

/// **Permissions:** `token_blacklist.delete_blacklistedtoken`. Lifts a revocation.
pub async fn unrevoke(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    clock: web::Data<Clock>,
    store: web::Data<Addr<SessionStore>>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ConsoleError> {
    super::csrf::check(&form::read(body).await?, session.csrf())?;
    session.require(UNREVOKE)?;
    let id = path_id(&req)?;
    let token = store.send(GetToken(id)).timeout(ASK_TIMEOUT).await??;
    let lifted = blacklist
        .send(Unrevoke {
            id,
            at: stored_time(clock.now()),
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    if let (true, Some(token)) = (lifted, &token) {
        audit.record(token_event(
            &req,
            &session,
            EventKind::TokenUnrevoked,
            token,
        ));
    }
    session
        .flash(if lifted {
            "The revocation was lifted."
        } else {
            "The token was not revoked."
        })
        .await?;
    Ok(see_other(session.url(&format!("/tokens/{id}/"))))
}
