//! One integration binary: the real application on a real port, per-test databases.

mod browser;
mod check;
mod cli;
mod faults;
mod groups_api;
mod health;
mod helpers;
mod me_password;
mod migrations;
mod permissions_api;
mod policies;
mod protected;
mod roles_in_tokens;
mod signup;
mod sliding;
mod token_blacklist;
mod token_obtain;
mod token_refresh;
mod token_verify;
mod tokens;
mod users_api;
mod users_escalation;
mod users_revocation;
