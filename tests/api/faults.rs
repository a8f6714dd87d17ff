//! Database faults: requests get a clear 503 while the database is unusable, and the server
//! recovers by itself once it is back.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, json_of, spawn_app_with};

/// Makes the app's database unusable until dropped.
enum Outage {
    /// PostgreSQL: connections refused and existing ones terminated.
    Postgres { admin_url: String, name: String },
    /// SQLite: another connection holds the write lock.
    Sqlite(#[allow(dead_code)] SqliteConnection),
}

impl Outage {
    fn start(app: &TestApp) -> Self {
        let url = app.settings.database_url.clone();
        if let Some(path) = url.strip_prefix("sqlite://") {
            let mut conn = SqliteConnection::establish(path).unwrap_or_else(|e| panic!("{e}"));
            // The app's own background writers (the audit log) may hold the lock a moment.
            conn.batch_execute("PRAGMA busy_timeout = 5000; BEGIN EXCLUSIVE")
                .unwrap_or_else(|e| panic!("{e}"));
            return Self::Sqlite(conn);
        }
        let admin_url = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
        let path = url.split('?').next().unwrap_or_default();
        let name = path.rsplit('/').next().unwrap_or_default().to_owned();
        let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| panic!("{e}"));
        admin
            .batch_execute(&format!(
                "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
            ))
            .unwrap_or_else(|e| panic!("{e}"));
        Self::Postgres { admin_url, name }
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, name } = self
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = admin.batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"));
        }
    }
}

#[actix_web::test]
async fn a_database_outage_gives_503_and_the_server_recovers_by_itself() {
    let app = spawn_app_with(|s| {
        s.database_connect_timeout = Duration::from_secs(1);
        s.database_statement_timeout = Duration::from_millis(500);
    })
    .await;
    app.create_user("alice");
    let (_, access) = app.login("alice", PASSWORD).await;

    let outage = Outage::start(&app);
    let (status, body) = json_of(
        app.post_json(
            "/api/token/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "login during the outage: {body}"
    );
    assert_eq!(body["code"], "service_unavailable");
    if matches!(outage, Outage::Postgres { .. }) {
        let (status, body) = json_of(app.get("/health/ready", None).await).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "readiness during the outage: {body}"
        );
    }
    // Protected routes keep working from memory for users already seen.
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);
    drop(outage);

    let mut recovered = None;
    for _ in 0..20 {
        let response = app
            .post_json(
                "/api/token/",
                &json!({"username": "alice", "password": PASSWORD}),
            )
            .await;
        if response.status() == StatusCode::OK {
            recovered = Some(response);
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        recovered.is_some(),
        "login never recovered after the database came back"
    );
    let (status, _) = json_of(app.get("/health/ready", None).await).await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn a_database_fault_in_the_sign_in_throttle_is_a_503_not_a_500() {
    let app = spawn_app_with(|s| {
        s.database_connect_timeout = Duration::from_secs(1);
        s.database_statement_timeout = Duration::from_millis(500);
    })
    .await;
    app.create_user("alice");
    let _outage = Outage::start(&app);
    // On SQLite reads still pass and the failure's count is the first write refused; on
    // PostgreSQL the throttle's check is the first query refused.
    let started = std::time::Instant::now();
    let (status, body) = json_of(
        app.post_json(
            "/api/token/",
            &json!({"username": "alice", "password": "not-the-password"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "service_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered within the bound: {:?}",
        started.elapsed()
    );
}

/// Connections are not pinged at every checkout: one that answered a moment ago is handed out
/// as it is. When the server drops them all at once (a restart, a failover), the first request
/// on one of them may fail (503); from then on every other connection is checked before it is
/// used, so no second request fails. PostgreSQL only: a SQLite connection has no server.
#[actix_web::test]
async fn once_a_connection_is_found_lost_no_other_lost_one_reaches_a_request() {
    let admin_url = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    if admin_url.is_empty() {
        eprintln!("*** PostgreSQL fault test not run: TEST_DATABASE_URL is not set ***");
        return;
    }
    let app = spawn_app_with(|_| {}).await;
    // Several pooled connections, each of which has just answered.
    let held: Vec<_> = (0..4).map(|_| app.conn()).collect();
    for mut conn in held {
        keyward::with_conn!(&mut *conn, c => diesel::sql_query("SELECT 1").execute(c))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let path = app
        .settings
        .database_url
        .split('?')
        .next()
        .unwrap_or_default();
    let name = path.rsplit('/').next().unwrap_or_default().to_owned();
    let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| panic!("{e}"));
    let ended: Vec<bool> = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    )))
    .load(&mut admin)
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        ended.len() >= 4,
        "the pool's connections were ended: {ended:?}"
    );

    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(app.get("/health/ready", None).await.status());
    }
    let failed = statuses.iter().filter(|s| **s != StatusCode::OK).count();
    assert!(
        failed <= 1,
        "more than one request met a lost connection: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&StatusCode::OK), "{statuses:?}");
}
