//! The payload of a change notification: `<kind>:<sent>[:<field>...]`, `sent` in epoch
//! milliseconds and the last field taking the rest (the `change_notifications` migration
//! writes all kinds but `rotated`, which instances publish themselves):
//!
//! | payload | change |
//! |---|---|
//! | `user:<sent>:<user id>` | a user's row, groups or own permissions |
//! | `users:<sent>` | a group, a group's permissions or a permission (many users) |
//! | `revoked:<sent>:<expires>:<jti>` | a token revoked until `expires` (epoch seconds) |
//! | `rotated:<sent>:<expires>:<jti>,<expires>:<jti>...` | tokens spent by rotations |
//! | `unrevoked:<sent>:<jti>` | a token's revocation lifted |
//! | `ended:<sent>:<ended>:<deadline>:<session id>` | a session ended (epoch seconds) |
//! | `reopened:<sent>:<session id>` | an ended session reopened |
//! | `resync:<sent>` | revocations changed in a way no payload carries |
//!
//! A kind never changes meaning; a new need gets a new kind. A payload that does not parse
//! (a kind from a newer keyward, say) asks for a full catch-up from the database.

use crate::actors::announced::ListChange;

/// The most bytes a published payload holds (PostgreSQL refuses 8000 and more).
const MAX_PAYLOAD: usize = 7900;

/// One notification, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// When the change was made (its transaction's start), epoch milliseconds.
    pub sent_ms: i64,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Forget one user's cached snapshot.
    User(i64),
    /// Forget every cached user.
    AllUsers,
    /// Change the revocation lists.
    Lists(Vec<ListChange>),
    /// Read everything again from the database.
    Resync,
}

impl Notice {
    /// `None` for anything but a well-formed payload of a known kind.
    pub fn parse(payload: &str) -> Option<Self> {
        let (kind, rest) = payload.split_once(':').unwrap_or((payload, ""));
        let (sent, fields) = rest.split_once(':').unwrap_or((rest, ""));
        let sent_ms = sent.parse().ok()?;
        let change = match kind {
            "user" => Change::User(fields.parse().ok()?),
            "users" if fields.is_empty() => Change::AllUsers,
            "resync" if fields.is_empty() => Change::Resync,
            "revoked" => Change::Lists(vec![revoked(fields)?]),
            "rotated" => Change::Lists(fields.split(',').map(revoked).collect::<Option<Vec<_>>>()?),
            "unrevoked" => Change::Lists(vec![ListChange::Unrevoked {
                jti: id(fields)?.to_owned(),
            }]),
            "ended" => {
                let (ended_at, rest) = fields.split_once(':')?;
                let (deadline, session) = rest.split_once(':')?;
                Change::Lists(vec![ListChange::Ended {
                    session: id(session)?.to_owned(),
                    ended_at: ended_at.parse().ok()?,
                    deadline: deadline.parse().ok()?,
                }])
            }
            "reopened" => Change::Lists(vec![ListChange::Reopened {
                session: id(fields)?.to_owned(),
            }]),
            _ => return None,
        };
        Some(Self { sent_ms, change })
    }
}

/// `<expires>:<jti>`.
fn revoked(fields: &str) -> Option<ListChange> {
    let (expires_at, jti) = fields.split_once(':')?;
    Some(ListChange::Revoked {
        jti: id(jti)?.to_owned(),
        expires_at: expires_at.parse().ok()?,
    })
}

fn id(field: &str) -> Option<&str> {
    (!field.is_empty()).then_some(field)
}

/// Whether a jti can travel in a `rotated` batch (keyward's and simplejwt's are 32 hex digits).
fn batchable(jti: &str) -> bool {
    (1..=128).contains(&jti.len())
        && jti
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `rotated` payloads announcing `tokens` (jti, expiry), each under the size limit. A jti that
/// cannot travel in a batch is left to the revocation sync.
pub fn rotated_payloads(sent_ms: i64, tokens: &[(String, i64)]) -> Vec<String> {
    let head = format!("rotated:{sent_ms}:");
    let mut payloads = Vec::new();
    let mut current = head.clone();
    for (jti, expires_at) in tokens.iter().filter(|(jti, _)| batchable(jti)) {
        let entry = format!("{expires_at}:{jti}");
        if current.len() > head.len() && current.len() + 1 + entry.len() > MAX_PAYLOAD {
            payloads.push(std::mem::replace(&mut current, head.clone()));
        }
        if current.len() > head.len() {
            current.push(',');
        }
        current.push_str(&entry);
    }
    if current.len() > head.len() {
        payloads.push(current);
    }
    payloads
}

#[cfg(test)]
mod tests {
    use super::*;

    const JTI: &str = "0123456789abcdef0123456789abcdef";

    fn parsed(payload: &str) -> Change {
        Notice::parse(payload)
            .unwrap_or_else(|| panic!("not parsed: {payload}"))
            .change
    }

    #[test]
    fn every_kind_the_database_writes_is_understood() {
        assert_eq!(
            Notice::parse("user:1796407320018:42"),
            Some(Notice {
                sent_ms: 1_796_407_320_018,
                change: Change::User(42)
            })
        );
        assert_eq!(parsed("users:1"), Change::AllUsers);
        assert_eq!(parsed("resync:1"), Change::Resync);
        assert_eq!(
            parsed(&format!("revoked:1:1796493720:{JTI}")),
            Change::Lists(vec![ListChange::Revoked {
                jti: JTI.into(),
                expires_at: 1_796_493_720
            }])
        );
        assert_eq!(
            parsed(&format!("unrevoked:1:{JTI}")),
            Change::Lists(vec![ListChange::Unrevoked { jti: JTI.into() }])
        );
        assert_eq!(
            parsed(&format!("ended:1:100:200:{JTI}")),
            Change::Lists(vec![ListChange::Ended {
                session: JTI.into(),
                ended_at: 100,
                deadline: 200
            }])
        );
        assert_eq!(
            parsed(&format!("reopened:1:{JTI}")),
            Change::Lists(vec![ListChange::Reopened {
                session: JTI.into()
            }])
        );
    }

    #[test]
    fn the_last_field_takes_the_rest_of_the_payload() {
        assert_eq!(
            parsed("revoked:1:5:a:b:c"),
            Change::Lists(vec![ListChange::Revoked {
                jti: "a:b:c".into(),
                expires_at: 5
            }])
        );
    }

    #[test]
    fn what_does_not_parse_asks_for_a_catch_up() {
        for payload in [
            "",
            "user",
            "user:1",
            "user:1:x",
            "user:x:1",
            "users:1:2",
            "revoked:1:5",
            "revoked:1:x:jti",
            "unrevoked:1:",
            "ended:1:100:jti",
            "promoted:1:42",
        ] {
            assert_eq!(Notice::parse(payload), None, "{payload:?}");
        }
    }

    #[test]
    fn rotated_batches_round_trip_and_stay_under_the_size_limit() {
        let tokens: Vec<(String, i64)> = (0..400)
            .map(|n| (format!("{n:032x}"), 1_796_493_720 + n))
            .collect();
        let payloads = rotated_payloads(7, &tokens);
        assert!(payloads.len() > 1, "{} payloads", payloads.len());
        let mut heard = Vec::new();
        for payload in &payloads {
            assert!(payload.len() <= MAX_PAYLOAD, "{}", payload.len());
            let notice = Notice::parse(payload).unwrap_or_else(|| panic!("{payload}"));
            assert_eq!(notice.sent_ms, 7);
            let Change::Lists(changes) = notice.change else {
                panic!("{payload}")
            };
            heard.extend(changes);
        }
        let expected: Vec<ListChange> = tokens
            .iter()
            .map(|(jti, exp)| ListChange::Revoked {
                jti: jti.clone(),
                expires_at: *exp,
            })
            .collect();
        assert_eq!(heard, expected);
    }

    #[test]
    fn a_jti_that_cannot_travel_in_a_batch_is_left_out() {
        let tokens = vec![("a,b".to_owned(), 1), ("ok".to_owned(), 2)];
        assert_eq!(rotated_payloads(3, &tokens), vec!["rotated:3:2:ok"]);
        assert!(rotated_payloads(3, &[("x:y".to_owned(), 1)]).is_empty());
    }
}
