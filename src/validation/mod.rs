//! Rules on text that every entry point applies the same way (the JSON API, the console and
//! the command line): no NUL characters anywhere, and usernames in one Unicode form.

mod text;
mod username;

pub use text::{NULL_CHARACTERS, has_null};
pub use username::{INVALID_USERNAME, USERNAME_TOO_LONG, normalize_username, username_problem};
