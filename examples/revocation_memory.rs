//! Memory held by the in-memory revocation lists: RSS before and after loading 1 M revoked
//! jtis, then 1 M ended sessions. `cargo run --release --example revocation_memory [COUNT]`.

use std::sync::Arc;

use keyward::actors::ended_sessions::EndedSessions;
use keyward::actors::revoked::RevokedSet;
use keyward::actors::token_blacklist::Lists;
use keyward::db::models::revocation::Revocations;
use keyward::db::models::token::Revoked;
use keyward::db::models::token_session::Ended;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let count: u128 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let expires_at = time::PrimitiveDateTime::new(
        time::macros::date!(2030 - 01 - 01),
        time::macros::time!(0:00),
    );
    let ended_at = time::PrimitiveDateTime::new(
        time::macros::date!(2029 - 12 - 31),
        time::macros::time!(23:00),
    );
    let lists = Lists {
        revoked: Arc::new(RevokedSet::default()),
        ended: Arc::new(EndedSessions::new(std::time::Duration::from_secs(300), 0)),
    };
    let ids: Vec<u128> = (0..count).collect();
    let before = rss_kib();
    // Load in batches, as the blacklist actor does, so the rows themselves do not linger.
    for chunk in ids.chunks(10_000) {
        let tokens = chunk
            .iter()
            .map(|i| Revoked {
                jti: format!("{:032x}", i * 7919 + 1),
                expires_at,
            })
            .collect();
        lists.remember(&Revocations {
            tokens,
            sessions: Vec::new(),
        });
    }
    let with_jtis = rss_kib();
    for chunk in ids.chunks(10_000) {
        let sessions = chunk
            .iter()
            .map(|i| Ended {
                id: format!("{:032x}", i * 104_729 + 3),
                user_id: 1,
                ended_at,
                expires_at,
            })
            .collect();
        lists.remember(&Revocations {
            tokens: Vec::new(),
            sessions,
        });
    }
    let with_sessions = rss_kib();
    println!(
        "{} revoked jtis: RSS {:.1} MiB before, {:.1} MiB after, {:.1} MiB for the list",
        lists.revoked.len(),
        mib(before),
        mib(with_jtis),
        mib(with_jtis.saturating_sub(before))
    );
    println!(
        "{} ended sessions: RSS {:.1} MiB after, {:.1} MiB for the list",
        lists.ended.len(),
        mib(with_sessions),
        mib(with_sessions.saturating_sub(with_jtis))
    );
}
