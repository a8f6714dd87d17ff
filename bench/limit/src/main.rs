//! The "limit" server of keyward's benchmark: the least each measured route can do with this
//! stack.
//!
//! - `GET /api/me/`: read `Authorization: Bearer <token>`, decode and validate the HS256 token
//!   with jsonwebtoken (signature, `exp`, and `token_type == "access"`), answer a small JSON
//!   body. No database, no user lookup, no revocation check, no logging.
//! - `POST /api/token/refresh/ {"refresh": <token>}`: decode and validate the refresh token
//!   the same way, then one PostgreSQL transaction (tokio-postgres, a pool of
//!   `LIMIT_POOL_SIZE` connections, prepared statements) that spends the old jti with a
//!   conditional update (exactly one of several concurrent uses wins) and records the new one;
//!   answer a new access and refresh pair. No user, no session, no audit: the least a correct
//!   rotation can do. Refresh tokens come from `limit-mint`, which records them.
//!
//! keyward's own routes are compared with these.
//!
//! Environment:
//!   LIMIT_SIGNING_KEY    the HMAC secret (the same one keyward signs with); required
//!   LIMIT_BIND           address to listen on (default 127.0.0.1:18403)
//!   LIMIT_WORKERS        actix-web worker threads (default: one per core, as keyward)
//!   LIMIT_DATABASE_URL   PostgreSQL URL of the limit's own database (its table is created at
//!                        start); without it the refresh route is not served
//!   LIMIT_POOL_SIZE      PostgreSQL connections (default 8)

use actix_web::http::header::AUTHORIZATION;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, get, post, web};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use jsonwebtoken::decode;
use keyward_bench_limit::{ACCESS_LIFETIME, Keys, REFRESH_LIFETIME, SCHEMA, database_url, now};
use serde_json::{Map, Value, json};

/// Spends a refresh token: one winner, however many try at once.
const SPEND: &str = "UPDATE refresh_tokens SET spent = true WHERE jti = $1 AND NOT spent";
/// Records its successor.
const RECORD: &str = "INSERT INTO refresh_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3)";

fn unauthorized(detail: &str) -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header(("WWW-Authenticate", "Bearer realm=\"api\""))
        .json(json!({ "detail": detail }))
}

#[get("/api/me/")]
async fn me(req: HttpRequest, keys: web::Data<Keys>) -> HttpResponse {
    let Some(token) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
    else {
        return unauthorized("Authentication credentials were not provided.");
    };
    match decode::<Value>(token, &keys.decoding, &keys.validation) {
        Ok(data) if data.claims.get("token_type").and_then(Value::as_str) == Some("access") => {
            HttpResponse::Ok().json(json!({
                "user_id": data.claims.get("user_id").cloned().unwrap_or(Value::Null),
                "token_type": "access",
            }))
        }
        _ => unauthorized("Given token not valid for any token type"),
    }
}

#[post("/api/token/refresh/")]
async fn refresh(body: web::Bytes, keys: web::Data<Keys>, pool: web::Data<Pool>) -> HttpResponse {
    let presented = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(mut fields)) => match fields.remove("refresh") {
            Some(Value::String(token)) => token,
            _ => {
                return HttpResponse::BadRequest()
                    .json(json!({ "refresh": ["This field is required."] }));
            }
        },
        _ => return HttpResponse::BadRequest().json(json!({ "detail": "JSON object expected" })),
    };
    let claims = match decode::<Map<String, Value>>(&presented, &keys.decoding, &keys.validation) {
        Ok(data) if data.claims.get("token_type").and_then(Value::as_str) == Some("refresh") => {
            data.claims
        }
        _ => return unauthorized("Token is invalid"),
    };
    let Some(jti) = claims.get("jti").and_then(Value::as_str) else {
        return unauthorized("Token has no id");
    };
    let user_id = match claims.get("user_id") {
        Some(Value::String(id)) => id.parse::<i64>().ok(),
        Some(Value::Number(id)) => id.as_i64(),
        _ => None,
    };
    let now = now();
    let minted = keys
        .mint("access", &claims, now, ACCESS_LIFETIME)
        .and_then(|access| {
            Ok((
                access,
                keys.mint("refresh", &claims, now, REFRESH_LIFETIME)?,
            ))
        });
    let ((access, _, _), (refresh, next, exp)) = match minted {
        Ok(pair) => pair,
        Err(err) => return HttpResponse::InternalServerError().json(json!({ "detail": err })),
    };
    match rotate(&pool, jti, &next, user_id, exp).await {
        Ok(true) => HttpResponse::Ok().json(json!({ "access": access, "refresh": refresh })),
        Ok(false) => unauthorized("Token is blacklisted"),
        Err(err) => HttpResponse::ServiceUnavailable().json(json!({ "detail": err })),
    }
}

/// Spends `old` and records `next` in one transaction; `false` when `old` was not there to
/// spend (spent already, or never minted).
async fn rotate(
    pool: &Pool,
    old: &str,
    next: &str,
    user_id: Option<i64>,
    exp: i64,
) -> Result<bool, String> {
    let mut client = pool.get().await.map_err(|e| e.to_string())?;
    let tx = client.transaction().await.map_err(|e| e.to_string())?;
    let spend = tx.prepare_cached(SPEND).await.map_err(|e| e.to_string())?;
    if tx
        .execute(&spend, &[&old])
        .await
        .map_err(|e| e.to_string())?
        != 1
    {
        return Ok(false); // dropping the transaction rolls it back
    }
    let record = tx.prepare_cached(RECORD).await.map_err(|e| e.to_string())?;
    tx.execute(&record, &[&next, &user_id, &exp])
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(true)
}

fn fail(message: &str) -> ! {
    eprintln!("limit-server: {message}");
    std::process::exit(2);
}

/// The pool of the refresh route, with its table created.
async fn refresh_pool(url: &str, size: usize) -> Result<Pool, String> {
    let config: tokio_postgres::Config = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(size)
        .build()
        .map_err(|e| e.to_string())?;
    let client = pool.get().await.map_err(|e| format!("{url}: {e}"))?;
    client
        .batch_execute(SCHEMA)
        .await
        .map_err(|e| format!("creating the table: {e}"))?;
    Ok(pool)
}

fn main() -> std::io::Result<()> {
    let keys = Keys::from_env().unwrap_or_else(|e| fail(&e));
    let bind = std::env::var("LIMIT_BIND").unwrap_or_else(|_| "127.0.0.1:18403".into());
    let workers = std::env::var("LIMIT_WORKERS")
        .ok()
        .and_then(|w| w.parse::<usize>().ok())
        .filter(|&w| w > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool_size = std::env::var("LIMIT_POOL_SIZE")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(8);
    let keys = web::Data::new(keys);

    actix_web::rt::System::new().block_on(async move {
        let pool = match database_url() {
            Ok(url) => Some(web::Data::new(
                refresh_pool(&url, pool_size)
                    .await
                    .unwrap_or_else(|e| fail(&e)),
            )),
            Err(why) => {
                eprintln!("limit-server: no refresh route ({why})");
                None
            }
        };
        eprintln!(
            "limit-server listening on {bind} with {workers} workers{}",
            if pool.is_some() {
                format!(", refresh route on a pool of {pool_size}")
            } else {
                String::new()
            }
        );
        HttpServer::new(move || {
            let app = App::new().app_data(keys.clone()).service(me);
            match &pool {
                Some(pool) => app.app_data(pool.clone()).service(refresh),
                None => app,
            }
        })
        .workers(workers)
        .bind(&bind)?
        .run()
        .await
    })
}
