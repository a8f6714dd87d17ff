//! The audit log in the console: security events newest first, filtered by user (id or
//! username), kind and time range, in pages; and the lines the dashboard shows as incidents.

use actix::Addr;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use time::PrimitiveDateTime;
use time::macros::format_description;

use super::error::{ConsoleError, render};
use super::form::Form;
use super::layout::{Choice, Layout, PAGE_SIZE, Pager, local_time, page_number};
use super::session::ConsoleSession;
use crate::actors::ASK_TIMEOUT;
use crate::actors::event_log::{EventRecord, ListEvents};
use crate::actors::session_store::SessionStore;
use crate::audit::EventKind;
use crate::db::models::Page;
use crate::db::models::security_event::SecurityEvent;

/// Seeing the audit log needs it (superusers hold every permission).
pub const VIEW: &str = "audit.view_securityevent";

/// The longest user agent a line shows (the whole one is in its `title`).
const SHOWN_AGENT: usize = 60;

/// An event as the pages show it.
pub struct EventLine {
    pub id: i64,
    pub at: String,
    pub kind: &'static str,
    pub label: &'static str,
    pub incident: bool,
    pub username: String,
    pub subject_id: Option<i64>,
    pub actor_id: Option<i64>,
    /// The actor's current username (`None`: none, or deleted since).
    pub actor_name: Option<String>,
    pub client_address: String,
    pub user_agent: String,
    pub user_agent_short: String,
    pub session_id: Option<String>,
    pub detail: String,
}

impl EventLine {
    pub fn new(event: SecurityEvent, actor_name: Option<String>) -> Self {
        let kind = EventKind::parse(&event.kind);
        let user_agent_short = if event.user_agent.chars().count() > SHOWN_AGENT {
            let cut: String = event.user_agent.chars().take(SHOWN_AGENT).collect();
            format!("{cut}…")
        } else {
            event.user_agent.clone()
        };
        Self {
            id: event.id,
            at: show_time(event.at),
            kind: kind.map_or("unknown", EventKind::as_str),
            label: kind.map_or("Unknown event", EventKind::label),
            incident: kind.is_some_and(|k| EventKind::INCIDENTS.contains(&k)),
            username: event.username,
            subject_id: event.subject_id,
            actor_id: event.actor_id,
            actor_name,
            client_address: event.client_address,
            user_agent: event.user_agent,
            user_agent_short,
            session_id: event.session_id,
            detail: event.detail,
        }
    }
}

impl From<EventRecord> for EventLine {
    fn from(record: EventRecord) -> Self {
        Self::new(record.event, record.actor_name)
    }
}

/// `2026-12-01 07:12:03`, UTC.
fn show_time(t: PrimitiveDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second]"
    ))
    .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "admin/events.html")]
struct EventsPage {
    layout: Layout,
    events: Vec<EventLine>,
    total: i64,
    user: String,
    kind_choices: Vec<Choice>,
    since: String,
    until: String,
    pager: Pager,
}

/// The kind select: any, then every kind by its label.
fn kind_choices(current: &str) -> Vec<Choice> {
    let any = Choice {
        value: String::new(),
        label: "any".into(),
        selected: current.is_empty(),
    };
    std::iter::once(any)
        .chain(EventKind::ALL.iter().map(|k| Choice {
            value: k.as_str().to_owned(),
            label: k.label().to_owned(),
            selected: k.as_str() == current,
        }))
        .collect()
}

/// **Permissions:** `audit.view_securityevent`. Newest first; `?user=` (an id or a username),
/// `?kind=`, `?since=` and `?until=` (UTC, `datetime-local`), `?page=`.
pub async fn list(
    req: HttpRequest,
    session: ConsoleSession,
    store: web::Data<Addr<SessionStore>>,
) -> Result<HttpResponse, ConsoleError> {
    session.require(VIEW)?;
    let query = Form::list_query(req.query_string())?;
    let (user, since, until) = (query.text("user"), query.text("since"), query.text("until"));
    let kind = EventKind::parse(&query.text("kind"));
    let kind_text = kind.map(EventKind::as_str).unwrap_or_default().to_owned();
    let number = page_number(&query.text("page"));
    let message = ListEvents {
        user: Some(user.clone()).filter(|u| !u.is_empty()),
        kind,
        since: local_time(&since),
        until: local_time(&until),
        page: Page {
            offset: (number - 1) * PAGE_SIZE,
            limit: PAGE_SIZE,
        },
    };
    let (records, total) = store.send(message).timeout(ASK_TIMEOUT).await??;
    let params = [
        ("user", user.clone()),
        ("kind", kind_text.clone()),
        ("since", since.clone()),
        ("until", until.clone()),
    ];
    let page = EventsPage {
        layout: Layout::new(&session, "Security events", "events").await,
        events: records.into_iter().map(EventLine::from).collect(),
        total,
        pager: Pager::new(&session.url("/events/"), &params, number, total),
        user,
        kind_choices: kind_choices(&kind_text),
        since,
        until,
    };
    Ok(render(StatusCode::OK, &page))
}
