//! One event to record, built by the code that saw it happen. Text is cleaned as it is set
//! (NUL and other control characters replaced, lengths bounded), so every event can be
//! stored on both backends. Never put a password, a token or any other secret in an event.

use std::net::IpAddr;

use time::OffsetDateTime;

use super::EventKind;
use crate::db::models::security_event::NewSecurityEvent;
use crate::db::stored_time;

/// The longest username kept (Django's limit); a longer typed name is cut.
pub const MAX_USERNAME: usize = 150;
/// The longest user agent kept.
pub const MAX_USER_AGENT: usize = 512;
/// The longest detail kept.
pub const MAX_DETAIL: usize = 1000;
const MAX_SESSION_ID: usize = 100;

/// A security event on its way to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    kind: EventKind,
    at: OffsetDateTime,
    actor_id: Option<i64>,
    subject_id: Option<i64>,
    username: String,
    session_id: Option<String>,
    client_address: String,
    user_agent: String,
    detail: String,
}

impl NewEvent {
    /// An event of `kind` at `at`, with nothing else known yet.
    pub fn new(kind: EventKind, at: OffsetDateTime) -> Self {
        Self {
            kind,
            at,
            actor_id: None,
            subject_id: None,
            username: String::new(),
            session_id: None,
            client_address: String::new(),
            user_agent: String::new(),
            detail: String::new(),
        }
    }

    /// Who did it: the administrator, or the user themselves.
    pub fn actor(mut self, id: i64) -> Self {
        self.actor_id = Some(id);
        self
    }

    /// The user it concerns, and their username at this time.
    pub fn subject(mut self, id: i64, username: &str) -> Self {
        self.subject_id = Some(id);
        self.username(username)
    }

    /// The user it concerns, when their username is not at hand.
    pub fn subject_id(mut self, id: i64) -> Self {
        self.subject_id = Some(id);
        self
    }

    /// The same event, of another kind.
    pub fn kind_of(mut self, kind: EventKind) -> Self {
        self.kind = kind;
        self
    }

    /// The username as typed (a sign-in), or the subject's username.
    pub fn username(mut self, username: &str) -> Self {
        self.username = clean(username, MAX_USERNAME);
        self
    }

    /// The session the action was made in, when there is one.
    pub fn session(mut self, id: &str) -> Self {
        self.session_id = Some(clean(id, MAX_SESSION_ID));
        self
    }

    /// Where the request came from: the client's address and its `User-Agent`.
    pub fn client(mut self, address: Option<IpAddr>, user_agent: &str) -> Self {
        self.client_address = address
            .map(|a| a.to_canonical().to_string())
            .unwrap_or_default();
        self.user_agent = clean(user_agent, MAX_USER_AGENT);
        self
    }

    /// A short human description ("is_active: true -> false"); never a secret.
    pub fn detail(mut self, detail: impl AsRef<str>) -> Self {
        self.detail = clean(detail.as_ref(), MAX_DETAIL);
        self
    }

    /// Another time than the one the event was built with.
    pub fn at(mut self, at: OffsetDateTime) -> Self {
        self.at = at;
        self
    }

    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The row to insert.
    /// The user it concerns when their username was not at hand (see [`Self::subject_id`]).
    pub fn unnamed_subject(&self) -> Option<i64> {
        self.subject_id.filter(|_| self.username.is_empty())
    }

    /// The row to store, with `found` as the username when the event has none.
    pub fn row_named<'a>(&'a self, found: Option<&'a str>) -> NewSecurityEvent<'a> {
        let mut row = self.row();
        if row.username.is_empty() {
            row.username = found.unwrap_or_default();
        }
        row
    }

    pub fn row(&self) -> NewSecurityEvent<'_> {
        NewSecurityEvent {
            kind: self.kind.as_str(),
            at: stored_time(self.at),
            actor_id: self.actor_id,
            subject_id: self.subject_id,
            username: &self.username,
            session_id: self.session_id.as_deref(),
            client_address: &self.client_address,
            user_agent: &self.user_agent,
            detail: &self.detail,
        }
    }
}

/// `text` with control characters replaced (a NUL by U+FFFD, which PostgreSQL can store;
/// others by a space), cut to `max` characters.
fn clean(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| match c {
            '\0' => '\u{fffd}',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cleaned_and_bounded() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let event = NewEvent::new(EventKind::LoginFailed, at)
            .username(&format!("a\0b{}", "x".repeat(400)))
            .client("::ffff:192.0.2.1".parse().ok(), &"m".repeat(2000))
            .detail("line one\nline two\u{7}");
        let row = event.row();
        assert_eq!(row.kind, "login_failed");
        assert!(row.username.starts_with("a\u{fffd}b"));
        assert_eq!(row.username.chars().count(), MAX_USERNAME);
        assert_eq!(row.user_agent.chars().count(), MAX_USER_AGENT);
        assert_eq!(row.client_address, "192.0.2.1");
        assert_eq!(row.detail, "line one line two ");
        assert_eq!(row.actor_id, None);
    }

    #[test]
    fn the_subject_sets_the_username() {
        let event = NewEvent::new(EventKind::UserChanged, OffsetDateTime::UNIX_EPOCH)
            .actor(1)
            .subject(7, "alice")
            .session("console:3");
        let row = event.row();
        assert_eq!(
            (row.actor_id, row.subject_id, row.username, row.session_id),
            (Some(1), Some(7), "alice", Some("console:3"))
        );
    }
}
