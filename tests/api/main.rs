//! One integration binary: the real application on a real port, per-test databases.

mod helpers;
mod sliding;
mod token_blacklist;
mod token_obtain;
mod token_refresh;
mod token_verify;
mod tokens;
