//! Mints refresh tokens for the limit server's refresh route and records them in its
//! database, as keyward records the tokens a login mints: the benchmark's pool of unspent
//! refresh tokens for the limit. Appends one token per line to `--out`.
//!
//! Usage: limit-mint --count N [--users U] --out FILE
//! (LIMIT_SIGNING_KEY and LIMIT_DATABASE_URL as for limit-server; user ids cycle over 1..=U)

use std::io::Write;

use keyward_bench_limit::{Keys, REFRESH_LIFETIME, SCHEMA, database_url, now};
use serde_json::{Map, Value};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn fail(message: &str) -> ! {
    eprintln!("limit-mint: {message}");
    std::process::exit(2);
}

async fn mint(keys: &Keys, url: &str, count: usize, users: i64) -> Result<Vec<String>, String> {
    let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    actix_web::rt::spawn(connection);
    client
        .batch_execute(SCHEMA)
        .await
        .map_err(|e| e.to_string())?;
    let tx = client.transaction().await.map_err(|e| e.to_string())?;
    let insert = tx
        .prepare("INSERT INTO refresh_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3)")
        .await
        .map_err(|e| e.to_string())?;
    let now = now();
    let mut tokens = Vec::with_capacity(count);
    for i in 0..count {
        let user_id = i64::try_from(i).unwrap_or(0) % users + 1;
        let mut claims = Map::new();
        claims.insert("user_id".into(), Value::from(user_id.to_string()));
        let (token, jti, exp) = keys.mint("refresh", &claims, now, REFRESH_LIFETIME)?;
        tx.execute(&insert, &[&jti, &Some(user_id), &exp])
            .await
            .map_err(|e| e.to_string())?;
        tokens.push(token);
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(tokens)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count = arg(&args, "--count")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| fail("--count N is required"));
    let users = arg(&args, "--users")
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(50);
    let out = arg(&args, "--out").unwrap_or_else(|| fail("--out FILE is required"));
    let keys = Keys::from_env().unwrap_or_else(|e| fail(&e));
    let url = database_url().unwrap_or_else(|e| fail(&e));
    let tokens = actix_web::rt::System::new()
        .block_on(mint(&keys, &url, count, users))
        .unwrap_or_else(|e| fail(&e));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&out)
        .unwrap_or_else(|e| fail(&format!("{out}: {e}")));
    for token in &tokens {
        writeln!(file, "{token}").unwrap_or_else(|e| fail(&format!("{out}: {e}")));
    }
}
