//! One integration binary: the real application on a real port, per-test databases.

mod check;
mod faults;
mod groups_api;
mod helpers;
mod permissions_api;
mod roles_in_tokens;
mod token_obtain;
mod users_api;
mod users_escalation;
mod users_revocation;
