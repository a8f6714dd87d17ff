//! One integration binary: the real application on a real port, per-test databases.

mod faults;
mod helpers;
mod policies;
mod token_obtain;
