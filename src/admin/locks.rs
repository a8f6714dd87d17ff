//! The sign-in locks: counters of failed sign-ins locked right now (an address and username
//! pair, a username, or an address), and lifting one, which forgets its failures.

use actix::Addr;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::error::{ConsoleError, render};
use super::form::{self, Form};
use super::layout::{Layout, PAGE_SIZE, Pager, page_number, show_time};
use super::session::{ConsoleSession, ConsoleSettings};
use super::users::see_other;
use crate::actors::ASK_TIMEOUT;
use crate::actors::login_locks::{LiftLock, ListLocks, Lock, LoginLocks};
use crate::auth::throttle::Scope;
use crate::clock::Clock;
use crate::db::models::Page;

/// Viewing and lifting locks both need it: a lock keeps a user out.
const MANAGE: &str = "auth.change_user";

/// A lock as the page shows it.
pub struct LockLine {
    pub key: String,
    pub kind: &'static str,
    pub username: String,
    pub address: String,
    pub failures: i64,
    pub last_failed_at: String,
    pub locked_until: String,
}

impl LockLine {
    fn new(lock: Lock) -> Self {
        Self {
            kind: match lock.scope {
                Scope::Pair => "address and username",
                Scope::Username => "username",
                Scope::Address => "address",
            },
            key: lock.key_digest,
            username: lock.username,
            address: lock.address,
            failures: lock.failures,
            last_failed_at: show_time(lock.last_failed_at),
            locked_until: show_time(lock.locked_until),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/locks.html")]
struct LocksPage {
    layout: Layout,
    enabled: bool,
    locks: Vec<LockLine>,
    total: i64,
    pager: Pager,
}

/// **Permissions:** `auth.change_user`. The counters locked now, the longest lock first.
pub async fn list(
    req: HttpRequest,
    session: ConsoleSession,
    locks: web::Data<Addr<LoginLocks>>,
    console: web::Data<ConsoleSettings>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    session.require(MANAGE)?;
    let number = page_number(&Form::query(req.query_string()).text("page"));
    let message = ListLocks {
        now: clock.now(),
        page: Page {
            offset: (number - 1) * PAGE_SIZE,
            limit: PAGE_SIZE,
        },
    };
    let (locks, total) = locks.send(message).timeout(ASK_TIMEOUT).await??;
    let page = LocksPage {
        layout: Layout::new(&session, "Sign-in locks", "locks").await,
        enabled: console.login_throttle,
        locks: locks.into_iter().map(LockLine::new).collect(),
        total,
        pager: Pager::new(&session.url("/locks/"), &[], number, total),
    };
    Ok(render(StatusCode::OK, &page))
}

/// **Permissions:** `auth.change_user`. Lifts one lock: its counter's failures are forgotten.
pub async fn lift(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    locks: web::Data<Addr<LoginLocks>>,
) -> Result<HttpResponse, ConsoleError> {
    super::csrf::check(&form::read(body).await?, session.csrf())?;
    session.require(MANAGE)?;
    let key = req.match_info().get("key").unwrap_or_default();
    if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ConsoleError::NotFound);
    }
    let lifted = locks
        .send(LiftLock {
            key_digest: key.to_owned(),
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    session
        .flash(if lifted {
            "The lock was lifted."
        } else {
            "There was no such lock."
        })
        .await?;
    Ok(see_other(session.url("/locks/")))
}
