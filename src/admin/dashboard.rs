//! The dashboard: user and token counts, recent sign-ins, and (for those who may see the
//! audit log) recent incidents: reused refresh tokens and locked sign-ins.

use actix::Addr;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;

use super::error::{ConsoleError, render};
use super::events::{self, EventLine};
use super::layout::{Layout, show_time};
use super::session::ConsoleSession;
use crate::actors::ASK_TIMEOUT;
use crate::actors::event_log::RecentIncidents;
use crate::actors::session_store::{Dashboard, SessionStore};
use crate::clock::Clock;
use crate::db::models::token_admin::Counts;
use crate::db::stored_time;

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    counts: Counts,
    recent: Vec<(i64, String, String)>,
    /// `None` unless the user may see the audit log.
    incidents: Option<Vec<EventLine>>,
}

/// How far back the dashboard looks for incidents, and how many it shows.
const INCIDENT_DAYS: i64 = 7;
const INCIDENTS_SHOWN: i64 = 5;

/// **Permissions:** staff.
pub async fn show(
    session: ConsoleSession,
    store: web::Data<Addr<SessionStore>>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    let now = clock.now();
    let day_ago = now - time::Duration::hours(24);
    let (counts, recent) = store
        .send(Dashboard {
            now: stored_time(now),
            day_ago: stored_time(day_ago),
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    let recent = recent
        .into_iter()
        .map(|(id, name, at)| (id, name, show_time(at)))
        .collect();
    let incidents = if session.can(events::VIEW) {
        let message = RecentIncidents {
            since: stored_time(now - time::Duration::days(INCIDENT_DAYS)),
            limit: INCIDENTS_SHOWN,
        };
        let rows = store.send(message).timeout(ASK_TIMEOUT).await??;
        Some(rows.into_iter().map(|e| EventLine::new(e, None)).collect())
    } else {
        None
    };
    let layout = Layout::new(&session, "Dashboard", "dashboard").await;
    Ok(render(
        StatusCode::OK,
        &DashboardPage {
            layout,
            counts,
            recent,
            incidents,
        },
    ))
}
