//! The actors behind the handlers: the user manager (blocking user work: diesel and bcrypt),
//! the token store (blocking token writes), the token blacklist (the in-memory revocation
//! list, kept in step with the database by what other instances announce and on timers) and
//! the console's view of the sign-in locks. Handlers reach them only by messages.

pub mod announced;
pub mod ended_sessions;
pub mod event_log;
pub mod expiring_ids;
pub mod group_admin;
pub mod login_locks;
pub mod rehash;
pub mod revocation_lists;
pub mod revoked;
pub mod rotated_tokens;
pub mod session_admin;
pub mod session_store;
pub mod sign_in;
pub mod token_blacklist;
pub mod token_store;
pub mod user_admin;
pub mod user_manager;

use std::time::Duration;

/// How long a handler waits for an actor's answer before answering 503.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(15);
