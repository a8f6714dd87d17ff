//! The names of the settings, read from `Settings`' own deserializer so they never drift, and
//! what to say about a name that is not one: the closest setting, if any is close.

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// Every setting name `T` accepts (its struct fields, in declaration order).
pub fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The derived `deserialize` hands its field list to `deserialize_struct`, which records
    // it and stops there: the error it returns is expected.
    let _ = T::deserialize(Introspect(&mut fields));
    fields
}

/// The known name closest to `name`, when it is close enough to be a likely typo.
pub fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), *candidate))
        .filter(|(score, _)| *score >= 0.88)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// "; did you mean `bind`?" when a known name is close to `name`, else nothing.
pub fn did_you_mean(name: &str, known: &[&str]) -> String {
    closest(name, known)
        .map(|suggestion| format!("; did you mean `{suggestion}`?"))
        .unwrap_or_default()
}

struct Introspect<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for Introspect<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn the_settings_field_names_are_read_from_the_struct() {
        let names = field_names::<Settings>();
        assert_eq!(names.first(), Some(&"bind"));
        assert!(names.contains(&"blacklist_purge_interval"), "{names:?}");
        assert!(names.len() > 40, "{names:?}");
    }

    #[test]
    fn a_typo_gets_the_closest_setting_and_an_unrelated_name_gets_none() {
        let known = field_names::<Settings>();
        for (typo, expected) in [
            ("bnid", Some("bind")),
            ("acess_token_lifetime", Some("access_token_lifetime")),
            ("bcrypt", Some("bcrypt_cost")),
            ("databse_url", Some("database_url")),
            ("require_browser_tests", None),
            ("frobnicate", None),
        ] {
            assert_eq!(closest(typo, known), expected, "{typo}");
        }
    }
}
