//! Row, insert and changeset types and the queries over them. Each function takes a concrete
//! diesel connection through [`crate::with_conn!`]; none knows about HTTP.

pub mod group;
pub mod import;
pub mod login_failure;
pub mod permission;
pub mod revocation;
pub mod rotation;
pub mod secret;
pub mod security_event;
pub mod session;
pub mod token;
pub mod token_admin;
pub mod token_session;
pub mod user;

/// A window of a list: `limit` rows after `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}

/// `%text%` for LIKE, with the wildcards in `text` escaped (escape character `\`), lower-cased.
pub fn contains_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

diesel::define_sql_function! {
    /// SQL `lower()`, on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}
