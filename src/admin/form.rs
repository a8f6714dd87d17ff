//! `application/x-www-form-urlencoded` console forms, where a name may repeat (multi-selects,
//! checkboxes).

use actix_web::{HttpRequest, web};

use super::error::ConsoleError;
use super::layout::Errors;
use crate::validation::{NULL_CHARACTERS, has_null};

/// A submitted form.
#[derive(Debug, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Self {
            pairs: serde_urlencoded::from_bytes(body).unwrap_or_default(),
        }
    }

    /// The query string of a request, as a form.
    pub fn query(query: &str) -> Self {
        Self {
            pairs: serde_urlencoded::from_str(query).unwrap_or_default(),
        }
    }

    /// The last value of `name`, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.raw(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// The last value of `name` as sent.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every non-empty value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// DRF's "Null characters are not allowed." for every field holding a NUL character
    /// (PostgreSQL can neither store nor compare one).
    pub fn null_errors(&self) -> Errors {
        let mut errors = Errors::default();
        for (name, value) in &self.pairs {
            if has_null(value) && errors.of(name).is_none() {
                errors.add(name, NULL_CHARACTERS);
            }
        }
        errors
    }

    /// A list page's query: a NUL character in it is a 400 page, not a database error.
    pub fn list_query(query: &str) -> Result<Self, ConsoleError> {
        let form = Self::query(query);
        match form.pairs.iter().find(|(_, v)| has_null(v)) {
            Some((name, _)) => Err(ConsoleError::BadRequest(format!(
                "{name}: {NULL_CHARACTERS}"
            ))),
            None => Ok(form),
        }
    }

    /// A checkbox: present and not "off"/"false".
    pub fn checked(&self, name: &str) -> bool {
        self.raw(name)
            .is_some_and(|v| !matches!(v, "" | "off" | "false" | "0"))
    }
}

/// The largest console form accepted.
pub const FORM_LIMIT: usize = 256 * 1024;

/// Reads a form body (bounded).
pub async fn read(body: web::Bytes) -> Result<Form, ConsoleError> {
    if body.len() > FORM_LIMIT {
        return Err(ConsoleError::Forbidden("The form is too large.".into()));
    }
    Ok(Form::parse(&body))
}

/// Whether `target` is a console path under one of `under`, written as a browser sends it, so
/// it can be a redirect's `Location`: visible ASCII only (no CR/LF), no backslash, no `//`, no
/// `.`/`..` segment (percent-encoded or not) that would leave the console.
pub fn is_console_path(target: &str, under: &[&str]) -> bool {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let climbs = path.split('/').any(|segment| {
        let segment = segment.to_ascii_lowercase().replace("%2e", ".");
        segment == "." || segment == ".."
    });
    under.iter().any(|prefix| target.starts_with(prefix))
        && target.bytes().all(|b| b.is_ascii_graphic())
        && !target.contains('\\')
        && !path.contains("//")
        && !climbs
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .map(|s| s.trim_start_matches("v=").to_owned())
        .unwrap_or_default()
}

/// The `{id}` of a console path; anything but a number is the same 404 as a missing row.
pub fn path_id(req: &HttpRequest) -> Result<i64, ConsoleError> {
    req.match_info()
        .get("id")
        .and_then(|v| v.parse().ok())
        .ok_or(ConsoleError::NotFound)
}
