//! Durations in settings: a whole number of seconds (`300`) or a human string (`"5m"`, `"1d"`).

use std::time::Duration;

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Seconds(u64),
    Text(String),
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    match Raw::deserialize(deserializer)? {
        Raw::Seconds(secs) => Ok(Duration::from_secs(secs)),
        Raw::Text(text) => {
            humantime_serde::re::humantime::parse_duration(text.trim()).map_err(|e| {
                serde::de::Error::custom(format!(
                    "{text:?} is not a duration ({e}); use e.g. 300, \"5m\", \"1d\""
                ))
            })
        }
    }
}
