//! The claims decoding checks, picked out of a token's payload in one pass: other claims are
//! only checked to be valid JSON, and no map of every claim is built (the hot path reads a
//! dozen claims of a token, and copies none).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::ClaimNames;

/// A claim decoding reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    IssuedAt,
    NotBefore,
    Exp,
    /// `jti` as named by the JWT spec (it must be a string when present).
    Jti,
    Subject,
    Audience,
    Issuer,
    /// The token id, under its configured name.
    Id,
    Session,
    Type,
    UserId,
    Stamp,
}

const COUNT: usize = 12;

impl Claim {
    fn slot(self) -> usize {
        self as usize
    }
}

/// The names to look for, each once, with the [`Claim`] slots it fills (a bit per slot):
/// one name may fill several (`jti` is both the spec's and, by default, the id's).
#[derive(Debug, Clone)]
pub struct ClaimIndex(Vec<(String, u16)>);

impl ClaimIndex {
    pub fn new(configured: &ClaimNames) -> Self {
        let by_slot = [
            "iat",
            "nbf",
            "exp",
            "jti",
            "sub",
            "aud",
            "iss",
            &configured.jti,
            &configured.session_id,
            &configured.token_type,
            &configured.user_id,
            &configured.revoke,
        ];
        let mut names: Vec<(String, u16)> = Vec::with_capacity(COUNT);
        for (slot, name) in by_slot.into_iter().enumerate() {
            match names.iter_mut().find(|(known, _)| known == name) {
                Some((_, slots)) => *slots |= 1 << slot,
                None => names.push((name.to_owned(), 1 << slot)),
            }
        }
        Self(names)
    }

    /// The slots `key` fills; 0 for a claim decoding does not read.
    fn slots(&self, key: &str) -> u16 {
        let first = key.as_bytes().first();
        self.0
            .iter()
            .find(|(name, _)| {
                name.len() == key.len() && name.as_bytes().first() == first && name == key
            })
            .map_or(0, |(_, slots)| *slots)
    }
}

/// The claims found; a name given twice in the payload keeps its last value, as a map would.
pub struct Picked {
    values: [Option<Value>; COUNT],
}

impl Picked {
    /// The claims of a JSON object; `None` when `json` is not one.
    pub fn from_json(json: &[u8], index: &ClaimIndex) -> Option<Self> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let picked = Pick { index }.deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(picked)
    }

    pub fn get(&self, claim: Claim) -> Option<&Value> {
        self.values[claim.slot()].as_ref()
    }

    pub fn take(&mut self, claim: Claim) -> Option<Value> {
        self.values[claim.slot()].take()
    }
}

/// Reads an object, keeping the values of the names asked for.
struct Pick<'i> {
    index: &'i ClaimIndex,
}

impl<'de> DeserializeSeed<'de> for Pick<'_> {
    type Value = Picked;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Picked, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Pick<'_> {
    type Value = Picked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Picked, A::Error> {
        let mut values: [Option<Value>; COUNT] = Default::default();
        while let Some(slots) = map.next_key_seed(Slots(self.index))? {
            if slots == 0 {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value: Value = map.next_value()?;
            for (slot, kept) in values.iter_mut().enumerate() {
                if slots & (1 << slot) != 0 {
                    *kept = Some(value.clone());
                }
            }
        }
        Ok(Picked { values })
    }
}

/// A key, read as the slots it fills; no copy of it is made.
struct Slots<'i>(&'i ClaimIndex);

impl<'de> DeserializeSeed<'de> for Slots<'_> {
    type Value = u16;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u16, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Slots<'_> {
    type Value = u16;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a claim name")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<u16, E> {
        Ok(self.0.slots(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured() -> ClaimIndex {
        ClaimIndex::new(&ClaimNames {
            user_id: "user_id".into(),
            token_type: "token_type".into(),
            jti: "jti".into(),
            revoke: "stamp".into(),
            refresh_exp: "refresh_exp".into(),
            session_id: "sid".into(),
        })
    }

    #[test]
    fn a_configured_name_that_is_a_spec_name_fills_both_slots() {
        let index = ClaimIndex::new(&ClaimNames {
            user_id: "sub".into(),
            token_type: "typ".into(),
            jti: "id".into(),
            revoke: "stamp".into(),
            refresh_exp: "refresh_exp".into(),
            session_id: "sid".into(),
        });
        let json = br#"{"sub":"42","id":"x","jti":"y"}"#;
        let mut picked = Picked::from_json(json, &index).unwrap_or_else(|| panic!("parsed"));
        assert_eq!(picked.get(Claim::Subject), Some(&Value::from("42")));
        assert_eq!(picked.take(Claim::UserId), Some(Value::from("42")));
        assert_eq!(picked.take(Claim::Id), Some(Value::from("x")));
        assert_eq!(picked.get(Claim::Jti), Some(&Value::from("y")));
        assert_eq!(index.slots("nope"), 0);
    }

    #[test]
    fn the_claims_asked_for_are_kept_and_the_rest_only_read() {
        let json = br#"{"token_type":"access","exp":9,"jti":"abc","user_id":"7","extra":{"a":[1,2]},"sid":"s","stamp":"x"}"#;
        let mut picked = Picked::from_json(json, &configured()).unwrap_or_else(|| panic!("parsed"));
        assert_eq!(picked.get(Claim::Exp), Some(&Value::from(9)));
        assert_eq!(picked.get(Claim::Jti), Some(&Value::from("abc")));
        assert_eq!(
            picked.take(Claim::Id),
            Some(Value::from("abc")),
            "both slots of one name"
        );
        assert_eq!(picked.take(Claim::UserId), Some(Value::from("7")));
        assert_eq!(picked.take(Claim::Stamp), Some(Value::from("x")));
        assert_eq!(picked.get(Claim::Audience), None);
    }

    #[test]
    fn a_repeated_name_keeps_its_last_value_as_a_map_does() {
        let json = br#"{"exp":1,"exp":2}"#;
        let picked = Picked::from_json(json, &configured()).unwrap_or_else(|| panic!("parsed"));
        let map: serde_json::Map<String, Value> =
            serde_json::from_slice(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(picked.get(Claim::Exp), map.get("exp"));
    }

    #[test]
    fn anything_but_one_json_object_is_refused() {
        for json in [
            &b"[1]"[..],
            b"\"s\"",
            b"{\"a\":1} x",
            b"{\"a\":",
            b"{\"exp\":1,}",
            b"",
        ] {
            assert!(
                Picked::from_json(json, &configured()).is_none(),
                "{}",
                String::from_utf8_lossy(json)
            );
        }
    }

    #[test]
    fn escaped_names_are_read_as_their_text() {
        let json = br#"{"\u0065xp":5}"#;
        let picked = Picked::from_json(json, &configured()).unwrap_or_else(|| panic!("parsed"));
        assert_eq!(picked.get(Claim::Exp), Some(&Value::from(5)));
    }
}
