//! `multipart/form-data` bodies: text fields only, as the token endpoints need (file parts are
//! ignored, as DRF's serializers ignore unknown fields).

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::Bytes;
use serde_json::Value;

use super::body::FormData;
use crate::error::ApiError;

pub async fn parse(req: &HttpRequest, bytes: Bytes) -> Result<FormData, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        ApiError::Parse("Multipart form parse error - Invalid boundary in multipart: None".into())
    })?;
    let stream =
        futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut data = FormData::new();
    let malformed = |e: multer::Error| ApiError::Parse(format!("Multipart form parse error - {e}"));
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().map(str::to_owned);
        let is_file = field.file_name().is_some();
        let text = field.text().await.map_err(malformed)?;
        if let (Some(name), false) = (name, is_file) {
            data.insert(name, Value::String(text));
        }
    }
    Ok(data)
}
