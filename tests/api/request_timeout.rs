//! `request_timeout` bounds how long a client may take to send its request: a body that stalls
//! (headers sent, `Content-Length: 100`, 6 bytes, then nothing) gets 408 and the connection is
//! closed, on the API and on the console alike.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::helpers::{PASSWORD, TestApp, spawn_app_with};

const BOUND: Duration = Duration::from_secs(1);
/// How late the answer may come after the bound on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(2);

/// What a raw client saw: the bytes received until the server closed, how long that took,
/// and whether the server closed (rather than the client giving up).
struct Seen {
    text: String,
    elapsed: Duration,
    closed: bool,
}

/// Sends `head` then `parts` (with `pause` before each later part) and reads until the server
/// closes the connection or 10 s pass.
async fn exchange(app: &TestApp, head: String, parts: Vec<String>, pause: Duration) -> Seen {
    let address = app.address.trim_start_matches("http://").to_owned();
    actix_web::rt::task::spawn_blocking(move || {
        let mut stream =
            TcpStream::connect(&address).unwrap_or_else(|e| panic!("connect {address}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap_or_else(|e| panic!("read timeout: {e}"));
        let started = Instant::now();
        stream
            .write_all(head.as_bytes())
            .unwrap_or_else(|e| panic!("write head: {e}"));
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                std::thread::sleep(pause);
            }
            stream
                .write_all(part.as_bytes())
                .unwrap_or_else(|e| panic!("write body: {e}"));
        }
        let mut received = Vec::new();
        let closed = stream.read_to_end(&mut received).is_ok();
        Seen {
            text: String::from_utf8_lossy(&received).into_owned(),
            elapsed: started.elapsed(),
            closed,
        }
    })
    .await
    .unwrap_or_else(|e| panic!("raw client: {e}"))
}

fn post_head(path: &str, content_type: &str, length: usize, keep_alive: bool) -> String {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n\
         Content-Length: {length}\r\nConnection: {connection}\r\n\r\n"
    )
}

async fn short_bound_app() -> TestApp {
    spawn_app_with(|s| s.request_timeout = BOUND).await
}

fn assert_timed_out(seen: &Seen, body: &str, case: &str) {
    assert!(
        seen.text.starts_with("HTTP/1.1 408"),
        "{case}: answered {:?}",
        seen.text
    );
    assert!(seen.text.contains(body), "{case}: {:?}", seen.text);
    assert!(seen.closed, "{case}: connection left open");
    assert!(
        seen.elapsed >= BOUND && seen.elapsed < BOUND + SLACK,
        "{case}: answered after {:?}",
        seen.elapsed
    );
}

#[actix_web::test]
async fn a_stalled_api_body_gets_408_and_the_connection_is_closed() {
    let app = short_bound_app().await;
    for path in ["/api/token/", "/api/signup/", "/api/token/refresh/"] {
        let head = post_head(path, "application/json", 100, true);
        let seen = exchange(&app, head, vec!["{\"user".to_owned()], Duration::ZERO).await;
        assert_timed_out(&seen, r#"{"detail":"Request timed out."}"#, path);
    }
}

#[actix_web::test]
async fn a_stalled_console_form_gets_408_and_the_connection_is_closed() {
    let app = short_bound_app().await;
    let head = post_head(
        "/admin/login/",
        "application/x-www-form-urlencoded",
        100,
        true,
    );
    let seen = exchange(&app, head, vec!["userna".to_owned()], Duration::ZERO).await;
    assert_timed_out(&seen, "Request timed out", "console sign-in");
}

#[actix_web::test]
async fn stalled_headers_get_408_within_the_same_bound() {
    let app = short_bound_app().await;
    let head = "POST /api/token/ HTTP/1.1\r\nHost: localhost\r\n".to_owned();
    let seen = exchange(&app, head, vec![], Duration::ZERO).await;
    assert!(seen.text.starts_with("HTTP/1.1 408"), "{:?}", seen.text);
    assert!(seen.closed, "connection left open");
    assert!(seen.elapsed < BOUND + SLACK, "after {:?}", seen.elapsed);
}

#[actix_web::test]
async fn a_body_that_arrives_in_parts_within_the_bound_is_served() {
    let app = short_bound_app().await;
    app.create_user("alice");
    let body = format!(r#"{{"username": "alice", "password": "{PASSWORD}"}}"#);
    let (first, rest) = body.split_at(6);
    let parts = vec![first.to_owned(), rest.to_owned()];
    let head = post_head("/api/token/", "application/json", body.len(), false);
    let seen = exchange(&app, head, parts, Duration::from_millis(300)).await;
    assert!(seen.text.starts_with("HTTP/1.1 200"), "{:?}", seen.text);
    assert!(seen.text.contains("\"access\""), "{:?}", seen.text);
}
