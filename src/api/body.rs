//! Request bodies as DRF parses them: JSON, form-urlencoded or multipart text fields, read
//! up to a size limit. The result is one JSON object whatever the media type.

use std::borrow::Cow;

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The parsed fields of a request body.
pub type FormData = Map<String, Value>;

/// The largest body a handler reads, as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Reads and parses the body. An empty body is an empty object, as in DRF.
pub async fn parse(req: &HttpRequest, mut payload: web::Payload) -> Result<FormData, ApiError> {
    let limit = req
        .app_data::<web::Data<BodyLimit>>()
        .map_or(64 * 1024, |l| l.0);
    let declared = declared_length(req);
    if let Some(length) = declared
        && length > limit
    {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut bytes = web::BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::Parse(format!("Could not read the request body: {e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    let media = media_type(req);
    if bytes.is_empty() {
        return Ok(FormData::new());
    }
    match &*media {
        "application/json" => parse_json(&bytes),
        "" | "application/x-www-form-urlencoded" => parse_form(&bytes),
        "multipart/form-data" => super::multipart::parse(req, bytes.freeze()).await,
        other => Err(ApiError::UnsupportedMediaType(other.to_owned())),
    }
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The media type without parameters, lower-cased; empty when absent.
pub fn media_type(req: &HttpRequest) -> Cow<'_, str> {
    let media = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .trim();
    if media.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(media.to_ascii_lowercase())
    } else {
        Cow::Borrowed(media)
    }
}

fn parse_json(bytes: &[u8]) -> Result<FormData, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::Parse(format!("JSON parse error - {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::Validation(
            [(
                "non_field_errors".to_owned(),
                vec![format!(
                    "Invalid data. Expected a dictionary, but got {}.",
                    python_type_name(&other)
                )],
            )]
            .into(),
        )),
    }
}

fn python_type_name(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "list",
        Value::String(_) => "str",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::Bool(_) => "bool",
        Value::Null | Value::Object(_) => "NoneType",
    }
}

fn parse_form(bytes: &[u8]) -> Result<FormData, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| ApiError::Parse(format!("Form parse error - {e}")))?;
    Ok(collect_text_fields(pairs))
}

/// Text fields into an object; a repeated name keeps its last value, as Django's QueryDict does
/// when a serializer reads a single value.
pub fn collect_text_fields(pairs: Vec<(String, String)>) -> FormData {
    let mut map = FormData::new();
    for (key, value) in pairs {
        map.insert(key, Value::String(value));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_list_is_a_validation_error_not_a_crash() {
        let err = parse_json(b"[1,2]").err();
        assert!(
            matches!(err, Some(ApiError::Validation(ref f)) if f["non_field_errors"][0].contains("got list"))
        );
    }

    #[test]
    fn malformed_json_is_a_parse_error() {
        assert!(
            matches!(parse_json(b"{\"a\":"), Err(ApiError::Parse(m)) if m.starts_with("JSON parse error - "))
        );
    }

    #[test]
    fn form_fields_become_strings() {
        let map = parse_form(b"username=a%20b&password=x").unwrap_or_default();
        assert_eq!(map["username"], "a b");
        assert_eq!(map["password"], "x");
    }
}
