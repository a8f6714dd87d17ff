//! In-process bcrypt throughput, the ceiling for keyward's login endpoint.
//!
//! Hashes as keyward does (bcrypt over the hex SHA-256 of the password, Django's
//! `bcrypt_sha256`), on one thread per core, for a fixed window, and prints one JSON line
//! (hashes finished inside the window, divided by it, as wrk counts requests):
//! `{"cost":12,"threads":2,"hashes":N,"seconds":S,"hashes_per_s":R}`.
//!
//! Usage: bcrypt-bench [--cost N] [--seconds S] [--threads T]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

fn prehash(password: &str) -> String {
    Sha256::digest(password.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cost: u32 = arg(&args, "--cost")
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let seconds: f64 = arg(&args, "--seconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5.0);
    let threads: usize = arg(&args, "--threads")
        .and_then(|v| v.parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

    let hashes = Arc::new(AtomicU64::new(0));
    let window = Duration::from_secs_f64(seconds);
    for t in 0..threads {
        let hashes = Arc::clone(&hashes);
        // Hash until the process ends; only hashes finished inside the window count.
        std::thread::spawn(move || {
            let mut i = 0u64;
            loop {
                let password = format!("bench-password-{t}-{i}");
                if bcrypt::hash(prehash(&password), cost).is_err() {
                    eprintln!("bcrypt-bench: hashing failed (cost {cost})");
                    std::process::exit(1);
                }
                hashes.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        });
    }
    // Counted like the load generator counts logins: what completed within the window,
    // divided by the window; the hashes still running at its end are dropped.
    let start = Instant::now();
    std::thread::sleep(window);
    let count = hashes.load(Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{{\"cost\":{cost},\"threads\":{threads},\"hashes\":{count},\"seconds\":{elapsed:.3},\"hashes_per_s\":{:.3}}}",
        count as f64 / elapsed
    );
    std::process::exit(0);
}
