//! The console's reading of the audit log, on the session store's threads (the console's
//! read-only views): a filtered page of events with the current names of their actors, and
//! the dashboard's recent incidents. (Events are written by [`crate::audit`]'s own thread.)

use std::collections::BTreeMap;

use actix::prelude::*;
use time::PrimitiveDateTime;

use super::session_store::SessionStore;
use crate::audit::EventKind;
use crate::db::models::Page;
use crate::db::models::security_event::{self, EventFilter, SecurityEvent};
use crate::db::models::user;
use crate::db::{DbConn, DbError};

/// An event with the current username of its actor (`None`: no actor, or since deleted).
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub event: SecurityEvent,
    pub actor_name: Option<String>,
}

/// A page of events, newest first, and how many match.
#[derive(Message)]
#[rtype(result = "Result<(Vec<EventRecord>, i64), DbError>")]
pub struct ListEvents {
    /// A user id, or a username: the events that user made or that concern them, and those
    /// recorded under that name (failed sign-ins of a name that may not exist).
    pub user: Option<String>,
    pub kind: Option<EventKind>,
    pub since: Option<PrimitiveDateTime>,
    pub until: Option<PrimitiveDateTime>,
    pub page: Page,
}

impl Handler<ListEvents> for SessionStore {
    type Result = Result<(Vec<EventRecord>, i64), DbError>;

    fn handle(&mut self, msg: ListEvents, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.pool().get()?;
        let (user_id, username) = match msg.user {
            None => (None, None),
            Some(text) => {
                let id = match text.parse::<i64>() {
                    Ok(id) => Some(id),
                    Err(_) => user::find_by_username(&mut conn, &text)?.map(|u| u.id),
                };
                (id, Some(text))
            }
        };
        let filter = EventFilter {
            user_id,
            username,
            kinds: msg
                .kind
                .map(|k| k.as_str().to_owned())
                .into_iter()
                .collect(),
            since: msg.since,
            until: msg.until,
        };
        let (rows, total) = security_event::list(&mut conn, &filter, msg.page)?;
        Ok((with_actor_names(&mut conn, rows)?, total))
    }
}

fn with_actor_names(
    conn: &mut DbConn,
    rows: Vec<SecurityEvent>,
) -> Result<Vec<EventRecord>, DbError> {
    let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.actor_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: BTreeMap<i64, String> = security_event::usernames_of(conn, &ids)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|event| EventRecord {
            actor_name: event.actor_id.and_then(|id| names.get(&id).cloned()),
            event,
        })
        .collect())
}

/// The newest incidents (reused refresh tokens, locked sign-ins) since a time.
#[derive(Message)]
#[rtype(result = "Result<Vec<SecurityEvent>, DbError>")]
pub struct RecentIncidents {
    pub since: PrimitiveDateTime,
    pub limit: i64,
}

impl Handler<RecentIncidents> for SessionStore {
    type Result = Result<Vec<SecurityEvent>, DbError>;

    fn handle(&mut self, msg: RecentIncidents, _: &mut Self::Context) -> Self::Result {
        let filter = EventFilter {
            kinds: EventKind::INCIDENTS
                .iter()
                .map(|k| k.as_str().to_owned())
                .collect(),
            since: Some(msg.since),
            ..EventFilter::default()
        };
        let page = Page {
            offset: 0,
            limit: msg.limit,
        };
        Ok(security_event::list(&mut *self.pool().get()?, &filter, page)?.0)
    }
}
