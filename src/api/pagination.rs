//! DRF's `PageNumberPagination`: `?page=N&page_size=M`, answered as
//! `{"count","next","previous","results"}` with absolute links.

use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;

use crate::client::ClientView;
use crate::db::models::Page;
use crate::error::ApiError;
use crate::validation::{NULL_CHARACTERS, has_null};

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 500;

/// The query string's pairs; a malformed one is a 400, and so is a value holding a NUL
/// character (`{"<name>": ["Null characters are not allowed."]}`, as django-filter answers).
pub fn query_pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|e| ApiError::Parse(format!("Query string parse error - {e}")))?;
    match pairs.iter().find(|(_, value)| has_null(value)) {
        Some((name, _)) => Err(ApiError::field(name, NULL_CHARACTERS)),
        None => Ok(pairs),
    }
}

/// The last value given for `name`.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The requested page (1-based) and size.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub number: i64,
    pub size: i64,
}

impl PageRequest {
    /// `page` must be a positive integer or `last`-less; `page_size` is clamped to the maximum.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let number = match param(pairs, "page") {
            None => 1,
            Some(raw) => raw
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or(ApiError::InvalidPage)?,
        };
        let size = param(pairs, "page_size")
            .and_then(|raw| raw.trim().parse::<i64>().ok())
            .filter(|n| *n >= 1)
            .map_or(DEFAULT_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE));
        Ok(Self { number, size })
    }

    pub fn window(&self) -> Page {
        Page {
            offset: (self.number - 1).saturating_mul(self.size),
            limit: self.size,
        }
    }
}

/// The response for one page; a page past the end (other than the first) is a 404.
pub fn respond<T: Serialize>(
    req: &HttpRequest,
    page: PageRequest,
    total: i64,
    results: Vec<T>,
) -> Result<HttpResponse, ApiError> {
    if page.number > 1 && page.window().offset >= total {
        return Err(ApiError::InvalidPage);
    }
    let link = |number: i64| page_link(req, number);
    let next = (page.number * page.size < total).then(|| link(page.number + 1));
    let previous = (page.number > 1).then(|| link(page.number - 1));
    Ok(HttpResponse::Ok()
        .json(json!({ "count": total, "next": next, "previous": previous, "results": results })))
}

/// An absolute link to page `number`, on the host and scheme the client used (forwarded
/// headers count only from a trusted proxy).
fn page_link(req: &HttpRequest, number: i64) -> String {
    let client = ClientView::of(req);
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "page")
            .collect();
    if number > 1 {
        pairs.push(("page".into(), number.to_string()));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let sep = if query.is_empty() { "" } else { "?" };
    format!(
        "{}://{}{}{sep}{query}",
        client.scheme,
        client.host,
        req.path()
    )
}
