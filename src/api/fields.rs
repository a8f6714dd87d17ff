//! DRF `CharField` semantics over a parsed body: required, not null, not blank, a string (numbers
//! are turned into text, as DRF does), with DRF's messages. Errors collect per field so one
//! response names every bad field.

use serde_json::Value;

use super::body::FormData;
use crate::error::{ApiError, FieldErrors};

pub const REQUIRED: &str = "This field is required.";
pub const NOT_NULL: &str = "This field may not be null.";
pub const NOT_BLANK: &str = "This field may not be blank.";
pub const NOT_STRING: &str = "Not a valid string.";

/// How a field's text is cleaned before the blank check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    /// DRF's default: surrounding whitespace is dropped.
    Whitespace,
    /// Kept as sent (passwords: a space is part of the secret).
    Keep,
}

/// Collects field values and their errors.
#[derive(Debug, Default)]
pub struct Fields {
    errors: FieldErrors,
}

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    /// A required, non-blank string field.
    pub fn required(&mut self, data: &FormData, name: &str, trim: Trim) -> String {
        match text(data.get(name), trim) {
            Ok(Some(value)) if !value.is_empty() => value,
            Ok(Some(_)) => self.error(name, NOT_BLANK),
            Ok(None) => self.error(name, REQUIRED),
            Err(message) => self.error(name, message),
        }
    }

    pub fn add(&mut self, name: &str, message: impl Into<String>) {
        self.errors
            .entry(name.to_owned())
            .or_default()
            .push(message.into());
    }

    pub fn has_error(&self, name: &str) -> bool {
        self.errors.contains_key(name)
    }

    /// `Ok` when no field failed, else the 400 naming every failure.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }

    fn error(&mut self, name: &str, message: &str) -> String {
        self.add(name, message);
        String::new()
    }
}

/// `Ok(None)` when absent; `Err` with DRF's message when the value is not text.
fn text(value: Option<&Value>, trim: Trim) -> Result<Option<String>, &'static str> {
    let raw = match value {
        None => return Ok(None),
        Some(Value::Null) => return Err(NOT_NULL),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(_) | Value::Array(_) | Value::Object(_)) => return Err(NOT_STRING),
    };
    Ok(Some(match trim {
        Trim::Whitespace => raw.trim().to_owned(),
        Trim::Keep => raw,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(body: Value) -> Result<String, ApiError> {
        let data = body.as_object().cloned().unwrap_or_default();
        let mut fields = Fields::new();
        let value = fields.required(&data, "refresh", Trim::Whitespace);
        fields.finish().map(|()| value)
    }

    #[test]
    fn drf_messages_for_each_bad_value() {
        let cases = [
            (json!({}), REQUIRED, "absent"),
            (json!({"refresh": null}), NOT_NULL, "null"),
            (json!({"refresh": ""}), NOT_BLANK, "empty"),
            (json!({"refresh": "   "}), NOT_BLANK, "only spaces"),
            (json!({"refresh": ["a"]}), NOT_STRING, "list"),
            (json!({"refresh": {"a": 1}}), NOT_STRING, "object"),
            (json!({"refresh": true}), NOT_STRING, "bool"),
        ];
        for (body, message, case) in cases {
            match check(body) {
                Err(ApiError::Validation(errors)) => {
                    assert_eq!(errors["refresh"], vec![message], "{case}")
                }
                other => panic!("{case}: expected a validation error, got {other:?}"),
            }
        }
    }

    #[test]
    fn numbers_are_text_and_strings_are_trimmed() {
        assert_eq!(check(json!({"refresh": 12})).ok(), Some("12".into()));
        assert_eq!(check(json!({"refresh": " tok "})).ok(), Some("tok".into()));
    }
}
