//! `spawn_app()`: the real application on port 0 with its own database (a fresh PostgreSQL
//! database when `TEST_DATABASE_URL` is set, else a SQLite file in a temp dir), and typed
//! helpers for the calls tests make. Dropping a `TestApp` checks the store's invariants and
//! removes its database.

#![allow(dead_code)] // each test file uses its own subset of the helpers

use std::time::Duration;

use base64::Engine;
use diesel::prelude::*;
use keyward::auth::PasswordHasher;
use keyward::clock::Clock;
use keyward::config::Settings;
use keyward::db::models::user::{self, NewUser};
use keyward::db::schema::{
    blacklisted_tokens, group_permissions, groups, outstanding_tokens, permissions, user_groups,
    user_permissions, users,
};
use keyward::db::{DbConn, DbPool, stored_time};
use keyward::propagation::Propagation;
use keyward::startup::Application;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

pub const PASSWORD: &str = "tangerine-voyage-41";

/// The security stamp [`TestApp::create_user_with`] gives every user.
pub const INITIAL_STAMP: &str = "initial-stamp";

pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:<port>` of the metrics listener, when `metrics_bind` is set.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub pool: DbPool,
    /// The server's audit log (flush it to read the events a request recorded).
    pub audit: keyward::audit::Audit,
    /// How the server learns of other instances' changes (the change listener's counters).
    pub propagation: Propagation,
    pub settings: Settings,
    db: TestDb,
}

pub enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

/// A database of the backend under test, and the URL keyward should use.
pub fn test_database() -> (TestDb, String) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("keyward_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("TEST_DATABASE_URL: {e}"));
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .unwrap_or_else(|e| panic!("create db: {e}"));
            let url = database_beside(&admin_url, &name);
            (TestDb::Postgres { admin_url, name }, url)
        }
        _ => {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
            let url = format!("sqlite://{}", dir.path().join("keyward.db").display());
            (TestDb::Sqlite(dir), url)
        }
    }
}

/// The URL of database `name` on the server `admin_url` names, with the admin URL's
/// parameters. Without TLS unless the admin URL asks for it (`sslmode`): test servers are
/// never stopped, so their pools go on reconnecting to dropped databases until the process
/// exits, and a TLS handshake under way on one thread while OpenSSL's exit-time cleanup runs
/// on another crashes the process (SIGSEGV) after every test has passed.
pub fn database_beside(admin_url: &str, name: &str) -> String {
    let (address, query) = admin_url.split_once('?').unwrap_or((admin_url, ""));
    let base = address.rsplit_once('/').map_or(address, |(b, _)| b);
    let sets_tls = query.split('&').any(|pair| pair.starts_with("sslmode="));
    match (query.is_empty(), sets_tls) {
        (true, _) => format!("{base}/{name}?sslmode=disable"),
        (false, true) => format!("{base}/{name}?{query}"),
        (false, false) => format!("{base}/{name}?{query}&sslmode=disable"),
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
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let pool = app.pool();
    let audit = app.audit();
    let propagation = app.propagation();
    actix_web::rt::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));
    TestApp {
        address,
        metrics_address,
        client,
        clock,
        pool,
        audit,
        propagation,
        settings,
        db,
    }
}

/// Whether the tests run on PostgreSQL (`TEST_DATABASE_URL` is set).
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty())
}

/// Another keyward instance on the database of a [`TestApp`], with memory of its own.
pub struct Instance {
    pub address: String,
    pub propagation: Propagation,
}

/// Starts another instance on `app`'s database (same settings and clock).
pub async fn another_instance(app: &TestApp) -> Instance {
    let mut settings = app.settings.clone();
    // Started while the first instance is busy: let it wait for a connection longer.
    settings.database_wait_timeout = Duration::from_secs(15);
    let other = Application::build_with_clock(settings, app.clock.clone())
        .await
        .unwrap_or_else(|e| panic!("another instance: {e}"));
    let address = format!("http://127.0.0.1:{}", other.port());
    let propagation = other.propagation();
    actix_web::rt::spawn(other.run_until_stopped());
    Instance {
        address,
        propagation,
    }
}

/// Waits (at most 10 s) until an instance's change listener is connected and caught up.
pub async fn wait_until_listening(propagation: &Propagation) {
    let started = std::time::Instant::now();
    while propagation.state() != "listening" {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the change listener is still {} after 10 s",
            propagation.state()
        );
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Asserts simplejwt's answer to a refused token: 401, `{"detail", "code": "token_not_valid"}`
/// and the `WWW-Authenticate` challenge.
pub async fn assert_token_not_valid(response: Response, detail: &str, case: &str) {
    assert_unauthorized(
        response,
        &json!({"detail": detail, "code": "token_not_valid"}),
        case,
    )
    .await;
}

/// The `WWW-Authenticate` header of a response, if any.
pub fn challenge_of(response: &Response) -> Option<String> {
    response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Asserts a 401 with exactly `expected` as body and the `WWW-Authenticate` challenge.
pub async fn assert_unauthorized(response: Response, expected: &Value, case: &str) {
    let challenge = challenge_of(&response);
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
    assert_eq!(&body, expected, "{case}");
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer realm=\"api\""),
        "{case}: WWW-Authenticate"
    );
}

/// Asserts DRF's answers of a POST-only view: `GET` is a 405 naming `POST, OPTIONS`, and
/// `OPTIONS` describes the view and its required string fields.
pub async fn assert_post_only(app: &TestApp, path: &str, name: &str, fields: &[(&str, &str)]) {
    let response = app.send(Method::GET, path).await;
    let allow = response
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "GET {path}");
    assert_eq!(allow.as_deref(), Some("POST, OPTIONS"), "GET {path}");
    assert_eq!(
        body,
        json!({"detail": "Method \"GET\" not allowed."}),
        "GET {path}"
    );

    let (status, body) = json_of(app.send(Method::OPTIONS, path).await).await;
    assert_eq!(status, StatusCode::OK, "OPTIONS {path}");
    assert_eq!(body["name"], name, "OPTIONS {path}");
    let post = body["actions"]["POST"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(post.len(), fields.len(), "OPTIONS {path}: {body}");
    for (field, label) in fields {
        assert_eq!(
            post.get(*field),
            Some(&json!({"type": "string", "required": true, "read_only": false, "label": label})),
            "OPTIONS {path}: {field}"
        );
    }
}

/// A `multipart/form-data` body of text fields, and its content type.
pub fn multipart_body(fields: &[(&str, &str)]) -> (String, String) {
    let boundary = "keyward-test-boundary-7d1f";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A response's status and JSON body.
pub async fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text:?}"));
    (status, body)
}

/// `Bearer <access>`, the value of an `Authorization` header.
pub fn bearer(access: &str) -> String {
    format!("Bearer {access}")
}

/// The JSON payload of a JWT (its middle part, base64url without padding).
pub fn token_payload(token: &str) -> Value {
    let middle = token
        .split('.')
        .nth(1)
        .unwrap_or_else(|| panic!("not a JWT: {token}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(middle)
        .unwrap_or_else(|e| panic!("payload is not base64url: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("payload is not JSON: {e}"))
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

    /// A request without a body, of any method.
    pub async fn send(&self, method: Method, path: &str) -> Response {
        self.client
            .request(method.clone(), self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// `POST {field: token}` to a token endpoint.
    pub async fn post_token(&self, path: &str, field: &str, token: &str) -> Response {
        self.post_json(path, &json!({ field: token })).await
    }

    /// The app clock's now, in epoch seconds.
    pub fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
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

    /// A request as the holder of `access` (anonymous with `None`), with an optional JSON body.
    pub async fn request_as(
        &self,
        method: Method,
        path: &str,
        access: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.client.request(method.clone(), self.url(path));
        if let Some(access) = access {
            request = request.header("authorization", bearer(access));
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub async fn get_as(&self, path: &str, access: &str) -> Response {
        self.request_as(Method::GET, path, Some(access), None).await
    }

    pub async fn post_as(&self, path: &str, access: &str, body: &Value) -> Response {
        self.request_as(Method::POST, path, Some(access), Some(body))
            .await
    }

    pub async fn put_as(&self, path: &str, access: &str, body: &Value) -> Response {
        self.request_as(Method::PUT, path, Some(access), Some(body))
            .await
    }

    pub async fn patch_as(&self, path: &str, access: &str, body: &Value) -> Response {
        self.request_as(Method::PATCH, path, Some(access), Some(body))
            .await
    }

    pub async fn delete_as(&self, path: &str, access: &str) -> Response {
        self.request_as(Method::DELETE, path, Some(access), None)
            .await
    }

    /// `GET /api/me/` with `Bearer <access>`.
    pub async fn me(&self, access: &str) -> Response {
        self.get("/api/me/", Some(&format!("Bearer {access}")))
            .await
    }

    /// A connection of the app's pool. After a test's outage the pool may still hold the
    /// database for down until its prober sees it back (within a fraction of a second).
    pub fn conn(&self) -> keyward::db::PooledConn {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            match self.pool.get() {
                Ok(conn) => return conn,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("test connection: {e}"),
            }
        }
    }

    /// Creates a user straight in the database. Returns the id.
    pub fn create_user_with(&self, username: &str, password: &str, flags: UserFlags) -> i64 {
        insert_user(&mut self.conn(), username, password, flags)
    }

    /// An active ordinary user with [`PASSWORD`].
    pub fn create_user(&self, username: &str) -> i64 {
        self.create_user_with(username, PASSWORD, UserFlags::default())
    }

    /// An inactive ordinary user with [`PASSWORD`].
    pub fn create_inactive_user(&self, username: &str) -> i64 {
        self.create_user_with(
            username,
            PASSWORD,
            UserFlags {
                active: false,
                ..UserFlags::default()
            },
        )
    }

    /// An active superuser (not staff) with [`PASSWORD`].
    pub fn create_superuser(&self, username: &str) -> i64 {
        self.create_user_with(
            username,
            PASSWORD,
            UserFlags {
                superuser: true,
                ..UserFlags::default()
            },
        )
    }

    /// Logs in with [`PASSWORD`] and returns the access token.
    pub async fn access_for(&self, username: &str) -> String {
        self.login(username, PASSWORD).await.1
    }

    /// The id of a permission, by `app.codename`.
    pub fn permission_id(&self, codename: &str) -> i64 {
        self.with_db(|conn| {
            keyward::with_conn!(conn, c => permissions::table
                .filter(permissions::codename.eq(codename))
                .select(permissions::id)
                .first::<i64>(c))
        })
        .unwrap_or_else(|e| panic!("permission {codename}: {e}"))
    }

    /// Grants permissions to a user straight in the database. The server's user cache does
    /// not see this write: grant before the user's first login or request.
    pub fn grant(&self, user_id: i64, codenames: &[&str]) {
        for codename in codenames {
            let permission_id = self.permission_id(codename);
            self.with_db(|conn| {
                keyward::with_conn!(conn, c => diesel::insert_into(user_permissions::table)
                    .values((
                        user_permissions::user_id.eq(user_id),
                        user_permissions::permission_id.eq(permission_id),
                    ))
                    .execute(c))
            })
            .unwrap_or_else(|e| panic!("grant {codename}: {e}"));
        }
    }

    /// Creates a group with permissions straight in the database. Returns the id.
    pub fn create_group(&self, name: &str, codenames: &[&str]) -> i64 {
        let group_id = self
            .with_db(|conn| {
                keyward::with_conn!(conn, c => diesel::insert_into(groups::table)
                    .values(groups::name.eq(name))
                    .returning(groups::id)
                    .get_result::<i64>(c))
            })
            .unwrap_or_else(|e| panic!("create group {name}: {e}"));
        for codename in codenames {
            let permission_id = self.permission_id(codename);
            self.with_db(|conn| {
                keyward::with_conn!(conn, c => diesel::insert_into(group_permissions::table)
                    .values((
                        group_permissions::group_id.eq(group_id),
                        group_permissions::permission_id.eq(permission_id),
                    ))
                    .execute(c))
            })
            .unwrap_or_else(|e| panic!("grant {codename} to {name}: {e}"));
        }
        group_id
    }

    /// Puts a user in a group straight in the database (before their first login, as
    /// [`Self::grant`]).
    pub fn add_to_group(&self, user_id: i64, group_id: i64) {
        self.with_db(|conn| {
            keyward::with_conn!(conn, c => diesel::insert_into(user_groups::table)
                .values((user_groups::user_id.eq(user_id), user_groups::group_id.eq(group_id)))
                .execute(c))
        })
        .unwrap_or_else(|e| panic!("add to group: {e}"));
    }

    pub fn set_date_joined(&self, id: i64, at: time::OffsetDateTime) {
        self.with_db(|conn| {
            keyward::with_conn!(conn, c => diesel::update(users::table.find(id))
                .set(users::date_joined.eq(stored_time(at)))
                .execute(c))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Whether a user row with this id exists.
    pub fn user_exists(&self, id: i64) -> bool {
        self.with_db(|conn| {
            keyward::with_conn!(conn, c => users::table.find(id).count().get_result::<i64>(c))
        })
        .unwrap_or_else(|e| panic!("{e}"))
            == 1
    }

    /// The stored password hash of a user.
    pub fn password_hash(&self, id: i64) -> String {
        self.with_db(|conn| {
            keyward::with_conn!(conn, c => users::table.find(id).select(users::password).first::<String>(c))
        })
        .unwrap_or_else(|e| panic!("{e}"))
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

/// The server is never stopped, but its pool is closed before its database is dropped: it
/// would otherwise go on reconnecting to a database that is gone until the process exits.
impl Drop for TestApp {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.check_invariants();
        }
        self.pool.close();
    }
}

/// The database goes with its handle, also when the test panics; `WITH (FORCE)` ends the
/// connections a server still holds.
impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// Direct database seeding for tests that build their own application.
pub struct Seeder<'a> {
    pub conn: &'a mut DbConn,
}

impl Seeder<'_> {
    pub fn exec(&mut self, sql: &str) {
        keyward::with_conn!(&mut *self.conn, c => diesel::sql_query(sql).execute(c))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// A user with [`PASSWORD`]; returns the id.
    pub fn user(&mut self, username: &str, flags: UserFlags) -> i64 {
        insert_user(self.conn, username, PASSWORD, flags)
    }

    /// Grants a permission (which must exist) directly to a user.
    pub fn grant(&mut self, user_id: i64, codename: &str) {
        self.exec(&format!(
            "INSERT INTO user_permissions (user_id, permission_id) SELECT {user_id}, id FROM permissions WHERE codename = '{codename}'"
        ));
    }
}

/// Inserts a user straight into the database; returns the id.
pub fn insert_user(conn: &mut DbConn, username: &str, password: &str, flags: UserFlags) -> i64 {
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
        date_joined: stored_time(Clock::default().now()),
        security_stamp: INITIAL_STAMP,
    };
    user::insert(conn, &new)
        .unwrap_or_else(|e| panic!("create user: {e}"))
        .id
}
