//! Memory held by the in-memory revocation list: RSS before and after loading 1 M revoked
//! jtis. `cargo run --release --example revocation_memory [COUNT]`.

use keyward::actors::revoked::RevokedSet;
use keyward::actors::token_blacklist::remember;
use keyward::db::models::token::Revoked;

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

fn main() {
    let count: u128 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let expires_at = time::PrimitiveDateTime::new(
        time::macros::date!(2030 - 01 - 01),
        time::macros::time!(0:00),
    );
    let before = rss_kib();
    let set = RevokedSet::default();
    // Load in batches, as the blacklist actor does, so the rows themselves do not linger.
    for chunk in (0..count).collect::<Vec<_>>().chunks(10_000) {
        let rows: Vec<Revoked> = chunk
            .iter()
            .map(|i| Revoked {
                jti: format!("{:032x}", i * 7919 + 1),
                expires_at,
            })
            .collect();
        remember(&set, &rows);
    }
    let after = rss_kib();
    println!(
        "{} revoked jtis: RSS {:.1} MiB before, {:.1} MiB after, {:.1} MiB for the list",
        set.len(),
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / 1024.0
    );
}
