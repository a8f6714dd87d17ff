//! Rules on text that every entry point applies the same way (the JSON API, the console and
//! the command line): no NUL characters anywhere, usernames in one Unicode form, and what a
//! sign-in's `username` may name (`login_fields`).

mod login_fields;
mod text;
mod username;

pub use login_fields::{EMAIL_TAKEN, LOGIN_FIELD_NAMES, LoginFields, email_key};
pub use text::{NULL_CHARACTERS, has_null};
pub use username::{INVALID_USERNAME, USERNAME_TOO_LONG, normalize_username, username_problem};
