//! One integration binary: the real application on a real port, per-test databases.

mod helpers;
mod token_obtain;
mod tokens;
