//! `spawn_app()`: the real application on port 0 with its own database (a fresh PostgreSQL
//! database when `TEST_DATABASE_URL` is set, else a SQLite file in a temp dir), and typed
//! helpers for the calls tests make. Dropping a `TestApp` checks the store's invariants and
//! removes its database.

#![allow(dead_code)] // each test file uses its own subset of the helpers

use std::time::Duration;

use diesel::prelude::*;
use keyward::auth::PasswordHasher;
use keyward::clock::Clock;
use keyward::config::Settings;
use keyward::db::models::user::{self, NewUser};
use keyward::db::schema::{blacklisted_tokens, outstanding_tokens, users};
use keyward::db::{DbConn, DbPool, stored_time};
use keyward::startup::Application;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub const PASSWORD: &str = "tangerine-voyage-41";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub pool: DbPool,
    pub settings: Settings,
    db: TestDb,
}

enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

/// A database of the backend under test, and the URL keyward should use.
fn test_database() -> (TestDb, String) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("keyward_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("TEST_DATABASE_URL: {e}"));
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .unwrap_or_else(|e| panic!("create db: {e}"));
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(b, _)| b);
            let url = format!("{base}/{name}");
            (TestDb::Postgres { admin_url, name }, url)
        }
        _ => {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
            let url = format!("sqlite://{}", dir.path().join("keyward.db").display());
            (TestDb::Sqlite(dir), url)
        }
    }
}

/// Settings every test starts from: fast bcrypt, no default superuser, port 0.
pub fn test_settings(database_url: String) -> Settings {
    Settings {
        bind: "127.0.0.1:0".into(),
        workers: 2,
        database_url,
        database_pool_size: 4,
        bcrypt_cost: 4,
        user_manager_threads: 2,
        create_default_superuser: false,
        ..Settings::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let (db, url) = test_database();
    let mut settings = test_settings(url);
    configure(&mut settings);
    let clock = Clock::default();
    let app = Application::build_with_clock(settings.clone(), clock.clone())
        .await
        .unwrap_or_else(|e| panic!("application failed to start: {e}"));
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool();
    actix_web::rt::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));
    TestApp {
        address,
        client,
        clock,
        pool,
        settings,
        db,
    }
}

/// A response's status and JSON body.
pub async fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text:?}"));
    (status, body)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// POST with a raw body and content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    pub async fn get(&self, path: &str, authorization: Option<&str>) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// `GET /api/me/` with `Bearer <access>`.
    pub async fn me(&self, access: &str) -> Response {
        self.get("/api/me/", Some(&format!("Bearer {access}")))
            .await
    }

    pub fn conn(&self) -> r2d2::PooledConnection<keyward::db::ConnectionManager> {
        self.pool
            .get()
            .unwrap_or_else(|e| panic!("test connection: {e}"))
    }

    /// Creates a user straight in the database. Returns the id.
    pub fn create_user_with(&self, username: &str, password: &str, flags: UserFlags) -> i64 {
        let hash = PasswordHasher::new(4)
            .hash(password)
            .unwrap_or_else(|e| panic!("{e}"));
        let new = NewUser {
            username,
            email: "",
            password: &hash,
            first_name: "",
            last_name: "",
            is_active: flags.active,
            is_staff: flags.staff,
            is_superuser: flags.superuser,
            date_joined: stored_time(self.clock.now()),
            security_stamp: "initial-stamp",
        };
        user::insert(&mut self.conn(), &new)
            .unwrap_or_else(|e| panic!("create user: {e}"))
            .id
    }

    /// An active ordinary user with [`PASSWORD`].
    pub fn create_user(&self, username: &str) -> i64 {
        self.create_user_with(username, PASSWORD, UserFlags::default())
    }

    /// Runs SQL-free diesel code against the app's database.
    pub fn with_db<T>(&self, f: impl FnOnce(&mut DbConn) -> T) -> T {
        f(&mut self.conn())
    }

    pub fn set_active(&self, id: i64, active: bool) {
        self.with_db(|conn| {
            keyward::with_conn!(conn, c => diesel::update(users::table.find(id)).set(users::is_active.eq(active)).execute(c))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn delete_user(&self, id: i64) {
        self.with_db(
            |conn| keyward::with_conn!(conn, c => diesel::delete(users::table.find(id)).execute(c)),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Logs in and returns (refresh, access).
    pub async fn login(&self, username: &str, password: &str) -> (String, String) {
        let (status, body) = json_of(
            self.post_json(
                "/api/token/",
                &json!({"username": username, "password": password}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "login failed: {body}");
        (
            body["refresh"].as_str().unwrap_or_default().to_owned(),
            body["access"].as_str().unwrap_or_default().to_owned(),
        )
    }

    pub async fn refresh(&self, refresh: &str) -> (StatusCode, Value) {
        json_of(
            self.post_json("/api/token/refresh/", &json!({ "refresh": refresh }))
                .await,
        )
        .await
    }

    pub async fn verify(&self, token: &str) -> (StatusCode, Value) {
        json_of(
            self.post_json("/api/token/verify/", &json!({ "token": token }))
                .await,
        )
        .await
    }

    pub async fn logout(&self, refresh: &str) -> (StatusCode, Value) {
        json_of(
            self.post_json("/api/token/blacklist/", &json!({ "refresh": refresh }))
                .await,
        )
        .await
    }

    /// (outstanding, blacklisted) row counts.
    pub fn token_counts(&self) -> (i64, i64) {
        self.with_db(|conn| {
            keyward::with_conn!(conn, c => {
                let outstanding: i64 = outstanding_tokens::table.count().get_result(c).unwrap_or(-1);
                let blacklisted: i64 = blacklisted_tokens::table.count().get_result(c).unwrap_or(-1);
                (outstanding, blacklisted)
            })
        })
    }

    /// The store's invariants: outstanding tokens point at an existing user or none; every
    /// blacklist entry points at an outstanding token; only digests are stored.
    fn check_invariants(&self) {
        let (orphans, dangling, digests) = self.with_db(|conn| {
            keyward::with_conn!(conn, c => {
                let orphans: i64 = outstanding_tokens::table
                    .left_join(users::table)
                    .filter(outstanding_tokens::user_id.is_not_null())
                    .filter(users::id.nullable().is_null())
                    .count()
                    .get_result(c)
                    .unwrap_or(-1);
                let dangling: i64 = blacklisted_tokens::table
                    .left_join(outstanding_tokens::table)
                    .filter(outstanding_tokens::id.nullable().is_null())
                    .count()
                    .get_result(c)
                    .unwrap_or(-1);
                let digests: Vec<String> = outstanding_tokens::table.select(outstanding_tokens::token_digest).load(c).unwrap_or_default();
                (orphans, dangling, digests)
            })
        });
        assert_eq!(orphans, 0, "outstanding tokens pointing at missing users");
        assert_eq!(dangling, 0, "blacklist entries pointing at missing tokens");
        for digest in digests {
            assert!(
                digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()),
                "stored token is not a digest: {digest}"
            );
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct UserFlags {
    pub active: bool,
    pub staff: bool,
    pub superuser: bool,
}

impl Default for UserFlags {
    fn default() -> Self {
        Self {
            active: true,
            staff: false,
            superuser: false,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.check_invariants();
        }
        if let TestDb::Postgres { admin_url, name } = &self.db
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}
