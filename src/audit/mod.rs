//! The audit log of security events: sign-ins (and refusals), password changes, and changes
//! to users, groups, permissions and tokens, with who did it, to whom, when and from where.
//!
//! Code that sees an event builds a [`NewEvent`] (usually [`NewEvent::from_request`], which
//! fills in the time and the client) and hands it to [`Audit::record`], which never blocks
//! and never fails: a thread of its own writes the events in batches, keeps them through a
//! database outage (within a bound), and purges those past `audit_retention`. The console
//! lists them at `/admin/events/`; `keyward purgeevents` purges from the command line.

pub mod detail;
mod event;
mod handle;
mod kind;
mod request;
mod sessions;
mod sign_in;
mod sink;
mod writer;

pub use event::{MAX_DETAIL, MAX_USER_AGENT, MAX_USERNAME, NewEvent};
pub use handle::{Audit, AuditStats};
pub use kind::EventKind;
pub use sessions::sessions_ended;
pub use sign_in::sign_in_event;
pub use sink::{DbSink, Sink};
pub use writer::{WriterConfig, retention_cutoff};
