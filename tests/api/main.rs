//! One integration binary: the real application on a real port, per-test databases.

mod browser;
mod cli;
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
