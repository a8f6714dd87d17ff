//! A loading error as one short line naming where the bad value came from (the file and key,
//! or the environment variable) and what was expected, instead of figment's full dump.

use figment::error::Kind;
use figment::{Error, Source};

use super::names::did_you_mean;

/// One line for the first error (and how many more there are).
pub fn describe(error: &Error, known: &[&str]) -> String {
    let more = error.clone().count().saturating_sub(1);
    let line = describe_one(error, known);
    match more {
        0 => line,
        n => format!("{line} (and {n} more)"),
    }
}

fn describe_one(error: &Error, known: &[&str]) -> String {
    let key = error.path.join(".");
    let origin = origin(error, &key);
    match &error.kind {
        // The path ends with the unknown key itself; before it, the table holding it.
        Kind::UnknownField(name, expected) if error.path.len() > 1 => format!(
            "unknown setting `{name}` in [{}]{}{}",
            error.path[..error.path.len() - 1].join("."),
            place(error),
            did_you_mean(name, expected)
        ),
        Kind::UnknownField(name, _) => format!(
            "unknown setting `{name}`{}{}",
            place(error),
            did_you_mean(name, known)
        ),
        Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
            format!(
                "{origin}: expected {}, found {actual}",
                plain_expected(expected)
            )
        }
        Kind::Message(message) => format!("{origin}: {message}"),
        other => format!("{origin}: {other}"),
    }
}

/// `KEYWARD_BCRYPT_COST`, `DATABASE_URL`, or "`bcrypt_cost` in keyward.toml".
fn origin(error: &Error, key: &str) -> String {
    let Some(metadata) = &error.metadata else {
        return format!("`{key}`");
    };
    match &metadata.source {
        Some(Source::File(path)) => format!("`{key}` in {}", path.display()),
        _ if metadata.name.contains("KEYWARD_") => {
            format!("KEYWARD_{}", key.replace('.', "__").to_uppercase())
        }
        _ if metadata.name.contains("environment") => key.to_uppercase(),
        _ => format!("`{key}`"),
    }
}

/// " in keyward.toml" for a file.
fn place(error: &Error) -> String {
    match error.metadata.as_ref().and_then(|m| m.source.as_ref()) {
        Some(Source::File(path)) => format!(" in {}", path.display()),
        _ => String::new(),
    }
}

fn plain_expected(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "a sequence" => "a list, e.g. [\"a\", \"b\"]".into(),
        "a boolean" => "true or false".into(),
        other => other.to_owned(),
    }
}
