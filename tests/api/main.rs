//! One integration binary: the real application on a real port, per-test databases.

mod cli;
mod console_client;
mod console_csrf;
mod console_http;
mod console_pages;
mod console_permissions;
mod console_sessions;
mod console_tokens;
mod console_users;
mod faults;
mod health;
mod helpers;
mod me_password;
mod migrations;
mod policies;
mod protected;
mod signup;
mod sliding;
mod token_blacklist;
mod token_obtain;
mod token_refresh;
mod token_verify;
mod tokens;
