//! Reading a dumpdata file: its top-level array one element at a time, each kept as a compact
//! record with its references (ids or natural keys) still unresolved.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::Deserialize;
use serde::de::{SeqAccess, Visitor};
use serde_json::Value;
use time::PrimitiveDateTime;
use time::format_description::well_known::Rfc3339;

use super::super::ImportError;
use super::super::source::{DjangoGroup, DjangoUser, STANDARD_USER_COLUMNS};

#[derive(Deserialize)]
struct Entry {
    pub(super) model: String,
    #[serde(default)]
    pub(super) pk: Value,
    #[serde(default)]
    pub(super) fields: serde_json::Map<String, Value>,
}

/// A reference to another row: its id, or its natural key (`--natural-foreign`).
#[derive(Debug, Clone)]
pub(super) enum Ref {
    Id(i64),
    Key(Vec<String>),
}

pub(super) fn reference(value: &Value) -> Option<Ref> {
    match value {
        Value::Number(n) => n.as_i64().map(Ref::Id),
        Value::Array(parts) => Some(Ref::Key(
            parts
                .iter()
                .map(|p| p.as_str().unwrap_or_default().to_owned())
                .collect(),
        )),
        Value::String(s) => s.parse().ok().map(Ref::Id),
        _ => None,
    }
}

/// An outstanding token as the dump has it (its user by id or natural key).
pub(super) struct RawToken {
    pub(super) id: i64,
    pub(super) user: Option<Ref>,
    pub(super) jti: String,
    pub(super) token: String,
    pub(super) created_at: Option<PrimitiveDateTime>,
    pub(super) expires_at: PrimitiveDateTime,
}

#[derive(Default)]
pub(super) struct Raw {
    pub(super) users: Vec<(DjangoUser, Vec<Ref>, Vec<Ref>)>,
    pub(super) user_model: Option<String>,
    pub(super) extra_user_fields: Vec<String>,
    pub(super) groups: Vec<(DjangoGroup, Vec<Ref>)>,
    pub(super) permissions: Vec<(i64, Ref, String, String)>,
    pub(super) content_types: Vec<(i64, String, String)>,
    pub(super) outstanding: Vec<RawToken>,
    pub(super) blacklisted: Vec<(Ref, PrimitiveDateTime)>,
    pub(super) models: Vec<String>,
    pub(super) errors: Vec<String>,
}

/// Reads every entry of the file.
pub(super) fn read(path: &Path) -> Result<Raw, ImportError> {
    let file =
        File::open(path).map_err(|e| ImportError::Source(format!("{}: {e}", path.display())))?;
    let mut raw = Raw::default();
    let mut reader = serde_json::Deserializer::from_reader(BufReader::new(file));
    serde::Deserializer::deserialize_seq(&mut reader, Entries(&mut raw))
        .and_then(|()| reader.end())
        .map_err(|e| ImportError::Source(format!("{}: {e}", path.display())))?;
    if let Some(first) = raw.errors.first() {
        return Err(ImportError::Source(format!(
            "{}: {} unreadable entries, the first: {first}",
            path.display(),
            raw.errors.len()
        )));
    }
    Ok(raw)
}

/// Reads the top-level array one entry at a time.
struct Entries<'a>(&'a mut Raw);

impl<'de> Visitor<'de> for Entries<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the JSON array manage.py dumpdata writes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<Entry>()? {
            if let Err(e) = self.0.take(entry) {
                self.0.errors.push(e);
            }
        }
        Ok(())
    }
}

fn text(fields: &serde_json::Map<String, Value>, name: &str) -> String {
    fields
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn flag(fields: &serde_json::Map<String, Value>, name: &str, default: bool) -> bool {
    fields.get(name).and_then(Value::as_bool).unwrap_or(default)
}

fn refs(fields: &serde_json::Map<String, Value>, name: &str) -> Vec<Ref> {
    fields
        .get(name)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(reference).collect())
        .unwrap_or_default()
}

/// A datetime as DjangoJSONEncoder writes it (ISO 8601, `Z` or an offset, or naive), in UTC.
fn datetime(value: Option<&Value>) -> Result<Option<PrimitiveDateTime>, String> {
    let Some(text) = value.and_then(Value::as_str) else {
        return Ok(None);
    };
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        let utc = t.to_offset(time::UtcOffset::UTC);
        return Ok(Some(PrimitiveDateTime::new(utc.date(), utc.time())));
    }
    let naive = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(text, naive)
        .map(Some)
        .map_err(|e| format!("datetime {text:?}: {e}"))
}

impl Raw {
    fn take(&mut self, entry: Entry) -> Result<(), String> {
        let Entry { model, pk, fields } = entry;
        if !self.models.contains(&model) {
            self.models.push(model.clone());
        }
        let pk = reference(&pk).and_then(|r| match r {
            Ref::Id(id) => Some(id),
            Ref::Key(_) => None,
        });
        let id = || pk.ok_or_else(|| format!("{model} entry without a numeric pk"));
        let is_user = fields.contains_key("username")
            && fields.contains_key("password")
            && fields.contains_key("user_permissions");
        match model.as_str() {
            _ if is_user => {
                if self.user_model.is_none() {
                    self.user_model = Some(model.clone());
                    self.extra_user_fields = fields
                        .keys()
                        .filter(|k| {
                            !STANDARD_USER_COLUMNS.contains(&k.as_str())
                                && *k != "groups"
                                && *k != "user_permissions"
                        })
                        .cloned()
                        .collect();
                }
                let date_joined = datetime(fields.get("date_joined"))?
                    .unwrap_or(time::macros::datetime!(1970-01-01 0:00));
                let user = DjangoUser {
                    id: id()?,
                    username: text(&fields, "username"),
                    email: text(&fields, "email"),
                    password: text(&fields, "password"),
                    first_name: text(&fields, "first_name"),
                    last_name: text(&fields, "last_name"),
                    is_active: flag(&fields, "is_active", true),
                    is_staff: flag(&fields, "is_staff", false),
                    is_superuser: flag(&fields, "is_superuser", false),
                    date_joined,
                    last_login: datetime(fields.get("last_login"))?,
                };
                self.users.push((
                    user,
                    refs(&fields, "groups"),
                    refs(&fields, "user_permissions"),
                ));
            }
            "auth.group" => {
                let group = DjangoGroup {
                    id: id()?,
                    name: text(&fields, "name"),
                };
                self.groups.push((group, refs(&fields, "permissions")));
            }
            "auth.permission" => {
                let ct = fields
                    .get("content_type")
                    .and_then(reference)
                    .ok_or("auth.permission without a content_type")?;
                let n = self.permissions.len();
                let id = pk.unwrap_or(-1 - i64::try_from(n).unwrap_or(0));
                self.permissions
                    .push((id, ct, text(&fields, "codename"), text(&fields, "name")));
            }
            "contenttypes.contenttype" => {
                self.content_types.push((
                    id()?,
                    text(&fields, "app_label"),
                    text(&fields, "model"),
                ));
            }
            "token_blacklist.outstandingtoken" => {
                let expires_at = datetime(fields.get("expires_at"))?
                    .ok_or("an outstanding token without expires_at")?;
                self.outstanding.push(RawToken {
                    id: id()?,
                    user: fields.get("user").and_then(reference),
                    jti: text(&fields, "jti"),
                    token: text(&fields, "token"),
                    created_at: datetime(fields.get("created_at"))?,
                    expires_at,
                });
            }
            "token_blacklist.blacklistedtoken" => {
                let token = fields
                    .get("token")
                    .and_then(reference)
                    .ok_or("a blacklisted token without its token")?;
                let at = datetime(fields.get("blacklisted_at"))?
                    .ok_or("a blacklisted token without blacklisted_at")?;
                self.blacklisted.push((token, at));
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_datetimes_are_read_in_utc() {
        let read = |s: &str| datetime(Some(&Value::String(s.into()))).ok().flatten();
        let expected = Some(time::macros::datetime!(2024-05-01 10:00:00.123));
        assert_eq!(read("2024-05-01T10:00:00.123Z"), expected);
        assert_eq!(read("2024-05-01T12:00:00.123+02:00"), expected);
        assert_eq!(read("2024-05-01T10:00:00.123"), expected);
        assert!(datetime(Some(&Value::String("yesterday".into()))).is_err());
        assert_eq!(datetime(Some(&Value::Null)), Ok(None));
    }
}
