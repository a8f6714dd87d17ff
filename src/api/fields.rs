//! DRF `CharField` semantics over a parsed body: required, not null, not blank, a string (numbers
//! are turned into text, as DRF does), with DRF's messages. Errors collect per field so one
//! response names every bad field.

use std::borrow::Cow;

use serde_json::Value;

use super::body::FormData;
use crate::error::{ApiError, FieldErrors};
use crate::validation::{self, NULL_CHARACTERS, has_null};

pub const REQUIRED: &str = "This field is required.";
pub const NOT_NULL: &str = "This field may not be null.";
pub const NOT_BLANK: &str = "This field may not be blank.";
pub const NOT_STRING: &str = "Not a valid string.";
pub const NOT_BOOLEAN: &str = "Must be a valid boolean.";

fn python_type(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "str",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::Bool(_) => "bool",
        Value::Object(_) => "dict",
        Value::Array(_) => "list",
        Value::Null => "NoneType",
    }
}

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

    /// The required `username`, NFKC-normalised as Django does before it validates, stores
    /// or looks a name up.
    pub fn username(&mut self, data: &FormData) -> String {
        validation::normalize_username(&self.required(data, "username", Trim::Whitespace))
    }

    /// A string field that may be absent (`None`) or blank.
    pub fn optional(&mut self, data: &FormData, name: &str, trim: Trim) -> Option<String> {
        match text(data.get(name), trim) {
            Ok(value) => value,
            Err(message) => {
                self.add(name, message);
                None
            }
        }
    }

    /// An optional DRF `BooleanField`: true/false, 1/0, and their usual spellings as text.
    pub fn optional_bool(&mut self, data: &FormData, name: &str) -> Option<bool> {
        let parsed = match data.get(name)? {
            Value::Bool(b) => Some(*b),
            Value::Number(n) if n.as_i64() == Some(1) => Some(true),
            Value::Number(n) if n.as_i64() == Some(0) => Some(false),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" | "y" | "t" => Some(true),
                "false" | "0" | "no" | "off" | "n" | "f" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if parsed.is_none() {
            self.add(name, NOT_BOOLEAN);
        }
        parsed
    }

    /// An optional list of non-blank strings (names or codenames).
    pub fn optional_list(&mut self, data: &FormData, name: &str) -> Option<Vec<String>> {
        let Value::Array(items) = data.get(name)? else {
            let kind = data.get(name).map_or("null", python_type);
            self.add(
                name,
                format!("Expected a list of items but got type \"{kind}\"."),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::String(s) if has_null(s) => {
                    self.add(name, NULL_CHARACTERS);
                    return None;
                }
                Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_owned()),
                _ => {
                    self.add(name, NOT_STRING);
                    return None;
                }
            }
        }
        out.sort();
        out.dedup();
        Some(out)
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
        Some(Value::String(s)) if has_null(s) => return Err(NULL_CHARACTERS),
        Some(Value::String(s)) => Cow::Borrowed(s.as_str()),
        Some(Value::Number(n)) => Cow::Owned(n.to_string()),
        Some(Value::Bool(_) | Value::Array(_) | Value::Object(_)) => return Err(NOT_STRING),
    };
    Ok(Some(match trim {
        Trim::Whitespace => raw.trim().to_owned(),
        Trim::Keep => raw.into_owned(),
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
            (
                json!({"refresh": "to\u{0}k"}),
                NULL_CHARACTERS,
                "a NUL inside",
            ),
            (json!({"refresh": "\u{0}"}), NULL_CHARACTERS, "only a NUL"),
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
