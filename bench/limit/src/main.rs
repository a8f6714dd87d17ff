//! The "limit" server of keyward's benchmark: the least a protected route can do with this stack.
//!
//! One route, `GET /api/me/`: read `Authorization: Bearer <token>`, decode and validate the HS256
//! token with jsonwebtoken (signature, `exp`, and `token_type == "access"`), answer a small JSON
//! body. No database, no user lookup, no revocation check, no logging. keyward's own protected
//! route is compared with this one.
//!
//! Environment:
//!   LIMIT_SIGNING_KEY  the HMAC secret (the same one keyward signs with); required
//!   LIMIT_BIND         address to listen on (default 127.0.0.1:18403)
//!   LIMIT_WORKERS      actix-web worker threads (default: one per core, as keyward)

use actix_web::http::header::AUTHORIZATION;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, get, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde_json::{Value, json};

struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

fn unauthorized(detail: &str) -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header(("WWW-Authenticate", "Bearer realm=\"api\""))
        .json(json!({ "detail": detail }))
}

#[get("/api/me/")]
async fn me(req: HttpRequest, verifier: web::Data<Verifier>) -> HttpResponse {
    let Some(token) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
    else {
        return unauthorized("Authentication credentials were not provided.");
    };
    match decode::<Value>(token, &verifier.key, &verifier.validation) {
        Ok(data) if data.claims.get("token_type").and_then(Value::as_str) == Some("access") => {
            HttpResponse::Ok().json(json!({
                "user_id": data.claims.get("user_id").cloned().unwrap_or(Value::Null),
                "token_type": "access",
            }))
        }
        _ => unauthorized("Given token not valid for any token type"),
    }
}

fn main() -> std::io::Result<()> {
    let secret = std::env::var("LIMIT_SIGNING_KEY").unwrap_or_default();
    if secret.len() < 32 {
        eprintln!("limit-server: set LIMIT_SIGNING_KEY to the HS256 secret (32 bytes or more)");
        std::process::exit(2);
    }
    let bind = std::env::var("LIMIT_BIND").unwrap_or_else(|_| "127.0.0.1:18403".into());
    let workers = std::env::var("LIMIT_WORKERS")
        .ok()
        .and_then(|w| w.parse::<usize>().ok())
        .filter(|&w| w > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let key = match DecodingKey::from_secret(secret.as_bytes()) {
        Ok(key) => key,
        Err(err) => {
            eprintln!("limit-server: bad LIMIT_SIGNING_KEY: {err}");
            std::process::exit(2);
        }
    };
    let verifier = web::Data::new(Verifier { key, validation });

    actix_web::rt::System::new().block_on(async move {
        eprintln!("limit-server listening on {bind} with {workers} workers");
        HttpServer::new(move || App::new().app_data(verifier.clone()).service(me))
            .workers(workers)
            .bind(&bind)?
            .run()
            .await
    })
}
