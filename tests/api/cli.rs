//! The real `keyward` binary: each test runs it in its own temp dir, with a clean environment
//! and its own SQLite file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use keyward::clock::Clock;
use keyward::db::schema::{blacklisted_tokens, outstanding_tokens, token_sessions, users};
use keyward::db::stored_time;
use reqwest::StatusCode;
use serde_json::{Value, json};

const SUPERUSER_PASSWORD: &str = "quiet-harbour-58";

/// What a finished run printed.
pub(crate) struct Run {
    pub(crate) success: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "success={} stdout={:?} stderr={:?}",
            self.success, self.stdout, self.stderr
        )
    }
}

/// A working directory with a database URL for it.
pub(crate) struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn db_path(&self) -> PathBuf {
        self.path().join("k.db")
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}", self.db_path().display())
    }

    pub(crate) fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    /// `keyward <args>` with only the variables keyward should see: the database, a fast
    /// bcrypt cost, and `env` (which may override them; an empty value removes one).
    pub(crate) fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keyward"));
        command
            .args(args)
            .current_dir(self.path())
            .env_clear()
            .env("KEYWARD_DATABASE_URL", self.database_url())
            .env("KEYWARD_BCRYPT_COST", "4")
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1");
        for (name, value) in env {
            if value.is_empty() {
                command.env_remove(name);
            } else {
                command.env(name, value);
            }
        }
        command
    }

    pub(crate) fn run(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
        let mut child = self
            .command(args, env)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn keyward {args:?}: {e}"));
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes())
                .unwrap_or_else(|e| panic!("stdin: {e}"));
        }
        let output = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("keyward {args:?}: {e}"));
        Run {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub(crate) fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args, &[], None);
        assert!(run.success, "keyward {args:?}: {run}");
        run
    }

    pub(crate) fn sqlite(&self) -> SqliteConnection {
        SqliteConnection::establish(&self.db_path().display().to_string())
            .unwrap_or_else(|e| panic!("open {}: {e}", self.db_path().display()))
    }
}

fn create_superuser(sandbox: &Sandbox, username: &str, password: &str) -> Run {
    sandbox.run(
        &[
            "createsuperuser",
            "--no-input",
            "--username",
            username,
            "--email",
            "r@example.com",
            "--password-stdin",
        ],
        &[],
        Some(&format!("{password}\n")),
    )
}

#[test]
fn migrate_applies_each_version_once_then_has_nothing_to_do() {
    let sandbox = Sandbox::new();
    let first = sandbox.ok(&["migrate"]);
    let applied: Vec<&str> = first.stdout.lines().collect();
    assert!(!applied.is_empty(), "{first}");
    for line in &applied {
        let version = line.strip_prefix("Applied ").unwrap_or_default();
        assert!(
            version.len() == 14 && version.chars().all(|c| c.is_ascii_digit()),
            "each line names one applied version: {line:?}"
        );
    }
    assert!(sandbox.db_path().exists(), "the SQLite file was created");

    let second = sandbox.ok(&["migrate"]);
    assert_eq!(second.stdout.trim(), "No migrations to apply.", "{second}");
}

#[test]
fn createsuperuser_without_input_creates_an_active_staff_superuser_once() {
    let sandbox = Sandbox::new();
    let run = create_superuser(&sandbox, "root", SUPERUSER_PASSWORD);
    assert!(run.success, "{run}");
    assert_eq!(run.stdout.trim(), "Superuser \"root\" created.");

    let (email, active, staff, superuser, hash): (String, bool, bool, bool, String) = users::table
        .filter(users::username.eq("root"))
        .select((
            users::email,
            users::is_active,
            users::is_staff,
            users::is_superuser,
            users::password,
        ))
        .first(&mut sandbox.sqlite())
        .unwrap_or_else(|e| panic!("root not stored: {e}"));
    assert_eq!(email, "r@example.com");
    assert!(active && staff && superuser, "flags");
    assert!(
        hash.starts_with("bcrypt_sha256$$2b$04$"),
        "hashed at the configured cost: {hash}"
    );

    let again = create_superuser(&sandbox, "root", SUPERUSER_PASSWORD);
    assert!(!again.success, "a second identical call fails: {again}");
    assert!(
        again
            .stderr
            .contains("a user named \"root\" already exists"),
        "{again}"
    );
    let count: i64 = users::table
        .count()
        .get_result(&mut sandbox.sqlite())
        .unwrap_or(-1);
    assert_eq!(count, 1, "still one user");
}

#[test]
fn createsuperuser_stores_the_nfkc_form_and_refuses_a_fullwidth_twin() {
    let sandbox = Sandbox::new();
    let run = create_superuser(&sandbox, "ａｄｍｉｎ", SUPERUSER_PASSWORD);
    assert!(run.success, "{run}");
    assert_eq!(run.stdout.trim(), "Superuser \"admin\" created.", "{run}");
    let again = create_superuser(&sandbox, "admin", SUPERUSER_PASSWORD);
    assert!(!again.success, "{again}");
    assert!(
        again
            .stderr
            .contains("a user named \"admin\" already exists"),
        "{again}"
    );
    let names: Vec<String> = users::table
        .select(users::username)
        .load(&mut sandbox.sqlite())
        .unwrap_or_default();
    assert_eq!(names, ["admin"], "one account, in NFKC form");
}

#[test]
fn createsuperuser_refuses_bad_input_with_a_reason_and_creates_nobody() {
    let cases: [(&[&str], Option<&str>, &str, &str); 6] = [
        (
            &["--no-input", "--username", "root", "--password-stdin"],
            Some("short\n"),
            "password refused: This password is too short",
            "a short password",
        ),
        (
            &["--no-input", "--username", "root", "--password-stdin"],
            Some("password123\n"),
            "This password is too common.",
            "a common password",
        ),
        (
            &["--no-input", "--username", "bad name", "--password-stdin"],
            Some("quiet-harbour-58\n"),
            "username: 1-150 letters, digits and @/./+/-/_ only",
            "a username with a space",
        ),
        (
            &[
                "--no-input",
                "--username",
                "root",
                "--email",
                "not an email",
                "--password-stdin",
            ],
            Some("quiet-harbour-58\n"),
            "email: Enter a valid email address.",
            "an email that is not an address",
        ),
        (
            &["--no-input", "--password-stdin"],
            Some("quiet-harbour-58\n"),
            "--username is required",
            "no username",
        ),
        (
            &["--no-input", "--username", "root"],
            None,
            "--password-stdin",
            "no way to read the password",
        ),
    ];
    for (args, stdin, expected, case) in cases {
        let sandbox = Sandbox::new();
        let mut full = vec!["createsuperuser"];
        full.extend_from_slice(args);
        let run = sandbox.run(&full, &[], stdin);
        assert!(!run.success, "{case}: {run}");
        assert!(run.stderr.contains(expected), "{case}: {run}");
        if sandbox.db_path().exists() {
            let count: i64 = users::table
                .count()
                .get_result(&mut sandbox.sqlite())
                .unwrap_or(0);
            assert_eq!(count, 0, "{case}: nobody created");
        }
    }
}

#[test]
fn check_passes_on_a_migrated_database() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    let run = sandbox.ok(&["check"]);
    assert!(
        run.stdout.contains("keyward check: no problems found"),
        "{run}"
    );
    assert!(run.stdout.contains("migrations: up to date"), "{run}");
}

#[test]
fn check_passes_on_a_fresh_database_and_notes_the_pending_migrations() {
    let sandbox = Sandbox::new();
    let run = sandbox.ok(&["check"]);
    assert!(
        run.stdout.contains("pending (2026-12-01-000001_initial")
            && run
                .stdout
                .contains("applied by `keyward migrate` or at the server's start"),
        "{run}"
    );
    assert!(
        run.stdout.contains("keyward check: no problems found"),
        "{run}"
    );
    let migrate = sandbox.ok(&["migrate"]);
    assert!(
        migrate.stdout.starts_with("Applied "),
        "check applied nothing itself: {migrate}"
    );
}

#[test]
fn check_warns_but_passes_when_several_instances_are_declared_on_sqlite() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    let run = sandbox.run(&["check"], &[("KEYWARD_INSTANCES", "3")], None);
    assert!(run.success, "a warning, not an error: {run}");
    assert!(
        run.stdout.contains(
            "instances: warning: instances = 3, but a SQLite database serves one keyward process"
        ) && run.stdout.contains("run several instances on PostgreSQL"),
        "{run}"
    );
    assert!(
        run.stdout
            .contains("keyward check: no problems found, 1 warning(s)"),
        "{run}"
    );
    let run = sandbox.ok(&["check"]);
    assert!(!run.stdout.contains("warning"), "one instance: {run}");
    assert!(
        run.stdout.ends_with("keyward check: no problems found\n"),
        "{run}"
    );
}

#[test]
fn check_refuses_unusable_settings_with_a_clear_reason() {
    let cases = [
        (
            ("KEYWARD_ALGORITHM", "HS999"),
            "Unrecognized algorithm type 'HS999'",
            "an unknown algorithm",
        ),
        (
            ("KEYWARD_SIGNING_KEY", "short"),
            "needs at least 32 random bytes",
            "a short HMAC secret",
        ),
        (
            ("KEYWARD_DATABASE_URL", "mysql://x"),
            "(got \"mysql\")",
            "an unsupported database scheme",
        ),
        (
            ("KEYWARD_DATABASE_URL", "keyward.db"),
            "must start with postgres://, postgresql:// or sqlite://",
            "a bare file name is not guessed to be SQLite",
        ),
        (
            ("KEYWARD_BCRYPT_COST", "3"),
            "bcrypt_cost must be 4..=31, got 3",
            "a bcrypt cost below 4",
        ),
        (
            ("KEYWARD_ACCESS_TOKEN_LIFETIME", "soon"),
            "is not a duration",
            "a duration that does not parse",
        ),
        (
            ("KEYWARD_BCRYPT_COST", "abc"),
            "configuration: KEYWARD_BCRYPT_COST: expected a whole number (0 or more), found string \"abc\"",
            "a value of the wrong type names the variable and the expected type",
        ),
        (
            ("KEYWARD_BIND", "notanaddr"),
            "bind must be an address and port such as 127.0.0.1:8000",
            "a bind address without a port",
        ),
        (
            ("KEYWARD_BIND", "127.0.0.1:99999"),
            "got \"127.0.0.1:99999\"",
            "a port out of range",
        ),
        (
            ("KEYWARD_INSTANCES", "0"),
            "instances must be at least 1",
            "no instance at all",
        ),
    ];
    for ((name, value), expected, case) in cases {
        let sandbox = Sandbox::new();
        sandbox.ok(&["migrate"]);
        let run = sandbox.run(&["check"], &[(name, value)], None);
        assert!(!run.success, "{case}: {run}");
        assert!(run.stderr.contains(expected), "{case}: {run}");
        assert!(!run.stdout.contains("no problems found"), "{case}: {run}");
    }
}

#[test]
fn a_keyward_toml_in_the_working_directory_is_read_below_the_environment() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "keyward.toml",
        "database_url = \"sqlite://from-toml.db\"\naccess_token_lifetime = \"10m\"\n",
    );
    let run = sandbox.run(&["migrate"], &[("KEYWARD_DATABASE_URL", "")], None);
    assert!(run.success, "{run}");
    assert!(
        sandbox.path().join("from-toml.db").exists(),
        "the file's database_url was used: {run}"
    );
    assert!(!sandbox.db_path().exists());
    sandbox.ok(&["migrate"]);
    assert!(
        sandbox.db_path().exists(),
        "KEYWARD_DATABASE_URL overrides the file's database_url"
    );

    sandbox.write("keyward.toml", "access_token_lifetime = 0\n");
    let cases = [
        (&[][..], false, "the file's value is validated"),
        (
            &[("KEYWARD_ACCESS_TOKEN_LIFETIME", "300")][..],
            true,
            "the environment overrides the file",
        ),
    ];
    for (env, success, case) in cases {
        let run = sandbox.run(&["check"], env, None);
        assert_eq!(run.success, success, "{case}: {run}");
        if !success {
            assert!(
                run.stderr
                    .contains("access_token_lifetime must be at least one second"),
                "{case}: {run}"
            );
        }
    }
}

#[test]
fn a_bad_key_or_value_in_keyward_toml_is_one_short_line_naming_it() {
    let sandbox = Sandbox::new();
    let cases = [
        (
            "acess_token_lifetime = \"10m\"\n",
            "unknown setting `acess_token_lifetime` in ",
            "keyward.toml; did you mean `access_token_lifetime`?",
            "a misspelt key gets the closest setting",
        ),
        (
            "[server]\nbind = \"127.0.0.1:8000\"\n",
            "unknown setting `server` in ",
            "keyward.toml",
            "a table that is no setting",
        ),
        (
            "password_min_length = \"eight\"\n",
            "`password_min_length` in ",
            "keyward.toml: expected a whole number (0 or more), found string \"eight\"",
            "a value of the wrong type names the key and the expected type",
        ),
    ];
    for (toml, start, end, case) in cases {
        sandbox.write("keyward.toml", toml);
        let run = sandbox.run(&["check"], &[], None);
        assert!(!run.success, "{case}: {run}");
        let line = run.stderr.trim();
        assert_eq!(line.lines().count(), 1, "{case}: one line: {run}");
        assert!(line.len() < 200, "{case}: short: {run}");
        let message = line
            .strip_prefix("keyward: configuration: ")
            .unwrap_or_default();
        assert!(
            message.starts_with(start) && message.ends_with(end),
            "{case}: {run}"
        );
    }
}

#[test]
fn an_explicit_config_file_is_read_and_a_missing_one_is_an_error() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    sandbox.write("other.toml", "algorithm = \"HS999\"\n");
    let run = sandbox.run(&["--config", "other.toml", "check"], &[], None);
    assert!(
        !run.success && run.stderr.contains("Unrecognized algorithm type 'HS999'"),
        "--config is read: {run}"
    );
    let run = sandbox.run(&["check"], &[("KEYWARD_CONFIG", "other.toml")], None);
    assert!(
        !run.success && run.stderr.contains("HS999"),
        "so is KEYWARD_CONFIG: {run}"
    );
    let run = sandbox.run(&["--config", "missing.toml", "check"], &[], None);
    assert!(!run.success, "{run}");
    assert!(
        run.stderr
            .contains("config file missing.toml does not exist"),
        "{run}"
    );
}

#[test]
fn flushexpiredtokens_on_an_empty_store_removes_nothing() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    let run = sandbox.ok(&["flushexpiredtokens"]);
    assert_eq!(
        run.stdout.trim(),
        "Removed 0 expired outstanding token(s), 0 of them blacklisted.\n\
         Removed 0 session(s) past their deadline."
    );
}

/// Inserts an outstanding token expiring `expires_in` seconds from now, blacklisted or not.
fn seed_token(conn: &mut SqliteConnection, jti: &str, expires_in: i64, blacklisted: bool) {
    let now = Clock::default().now();
    let id: i64 = diesel::insert_into(outstanding_tokens::table)
        .values((
            outstanding_tokens::jti.eq(jti),
            outstanding_tokens::token_digest.eq("0".repeat(64)),
            outstanding_tokens::created_at.eq(stored_time(now - time::Duration::days(2))),
            outstanding_tokens::expires_at
                .eq(stored_time(now + time::Duration::seconds(expires_in))),
        ))
        .returning(outstanding_tokens::id)
        .get_result(conn)
        .unwrap_or_else(|e| panic!("seed {jti}: {e}"));
    if blacklisted {
        diesel::insert_into(blacklisted_tokens::table)
            .values((
                blacklisted_tokens::token_id.eq(id),
                blacklisted_tokens::blacklisted_at.eq(stored_time(now)),
            ))
            .execute(conn)
            .unwrap_or_else(|e| panic!("blacklist {jti}: {e}"));
    }
}

/// Inserts a session (of a user created for it) whose deadline is `expires_in` seconds away.
fn seed_session(conn: &mut SqliteConnection, id: &str, expires_in: i64) {
    let now = stored_time(Clock::default().now());
    let user: i64 = diesel::insert_into(users::table)
        .values((
            users::username.eq(id),
            users::password.eq("!"),
            users::date_joined.eq(now),
            users::security_stamp.eq("stamp"),
        ))
        .returning(users::id)
        .get_result(conn)
        .unwrap_or_else(|e| panic!("seed user {id}: {e}"));
    diesel::insert_into(token_sessions::table)
        .values((
            token_sessions::id.eq(id),
            token_sessions::user_id.eq(user),
            token_sessions::kind.eq("pair"),
            token_sessions::current_jti.eq(format!("jti-{id}")),
            token_sessions::created_at.eq(now),
            token_sessions::refreshed_at.eq(now),
            token_sessions::expires_at.eq(now + time::Duration::seconds(expires_in)),
        ))
        .execute(conn)
        .unwrap_or_else(|e| panic!("seed session {id}: {e}"));
}

#[test]
fn flushexpiredtokens_removes_only_expired_tokens_and_their_blacklist_entries_in_batches() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    {
        let mut conn = sandbox.sqlite();
        seed_token(&mut conn, "expired-1", -3600, false);
        seed_token(&mut conn, "expired-2", -60, true);
        seed_token(&mut conn, "expired-3", -86_400, true);
        seed_token(&mut conn, "live-1", 3600, false);
        seed_token(&mut conn, "live-2", 3600, true);
        seed_session(&mut conn, "session-expired-1", -60);
        seed_session(&mut conn, "session-expired-2", -7200);
        seed_session(&mut conn, "session-live", 3600);
    }
    let run = sandbox.ok(&["flushexpiredtokens", "--batch-size", "1"]);
    assert_eq!(
        run.stdout.trim(),
        "Removed 3 expired outstanding token(s), 2 of them blacklisted.\n\
         Removed 2 session(s) past their deadline."
    );
    let sessions: Vec<String> = token_sessions::table
        .select(token_sessions::id)
        .load(&mut sandbox.sqlite())
        .unwrap_or_default();
    assert_eq!(sessions, ["session-live"]);
    let mut conn = sandbox.sqlite();
    let left: Vec<String> = outstanding_tokens::table
        .select(outstanding_tokens::jti)
        .order(outstanding_tokens::jti.asc())
        .load(&mut conn)
        .unwrap_or_default();
    assert_eq!(left, ["live-1", "live-2"]);
    let blacklisted: i64 = blacklisted_tokens::table
        .count()
        .get_result(&mut conn)
        .unwrap_or(-1);
    assert_eq!(blacklisted, 1, "the live blacklisted token stays");

    let again = sandbox.ok(&["flushexpiredtokens"]);
    assert!(
        again
            .stdout
            .starts_with("Removed 0 expired outstanding token(s)")
    );
}

#[test]
fn flushexpiredtokens_refuses_a_batch_size_out_of_range() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    for size in ["0", "100001", "many"] {
        let run = sandbox.run(&["flushexpiredtokens", "--batch-size", size], &[], None);
        assert!(!run.success, "--batch-size {size}: {run}");
        assert!(run.stderr.contains("--batch-size"), "{size}: {run}");
    }
}

#[test]
fn help_lists_every_subcommand() {
    let sandbox = Sandbox::new();
    let run = sandbox.ok(&["--help"]);
    for command in [
        "serve",
        "migrate",
        "createsuperuser",
        "flushexpiredtokens",
        "purgeevents",
        "check",
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|line| line.trim_start().starts_with(&format!("{command} "))),
            "{command} is listed: {run}"
        );
    }
    assert!(!sandbox.db_path().exists(), "--help touches no database");
}

/// A running `keyward` server, killed when dropped (also when the test panics).
pub(crate) struct Server {
    pub(crate) child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("bind 127.0.0.1:0: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("local_addr: {e}"))
        .port()
}

impl Server {
    /// `keyward` with no subcommand (serve, bound through `KEYWARD_BIND`), or `keyward serve
    /// --bind` when `subcommand`; output goes to files in the sandbox.
    pub(crate) fn start(sandbox: &Sandbox, name: &str, subcommand: bool) -> Self {
        Self::start_with(sandbox, name, subcommand, &[])
    }

    /// [`Self::start`] with more environment variables.
    pub(crate) fn start_with(
        sandbox: &Sandbox,
        name: &str,
        subcommand: bool,
        extra_env: &[(&str, &str)],
    ) -> Self {
        let port = free_port();
        let stdout = sandbox.path().join(format!("{name}.out"));
        let stderr = sandbox.path().join(format!("{name}.err"));
        let file = |path: &Path| {
            std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        let bind = format!("127.0.0.1:{port}");
        let (args, env) = if subcommand {
            (vec!["serve", "--bind", bind.as_str()], vec![])
        } else {
            (vec![], vec![("KEYWARD_BIND", bind.as_str())])
        };
        let child = sandbox
            .command(
                &args,
                &[env.as_slice(), &[("KEYWARD_WORKERS", "1")], extra_env].concat(),
            )
            .stdin(Stdio::null())
            .stdout(file(&stdout))
            .stderr(file(&stderr))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn keyward: {e}"));
        Self {
            child,
            stdout,
            stderr,
            base: format!("http://{bind}"),
        }
    }

    pub(crate) fn output(&self) -> (String, String) {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        (read(&self.stdout), read(&self.stderr))
    }

    /// Panics (with the output) if the server has exited.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let (out, err) = self.output();
            panic!("keyward exited ({status}): stdout={out:?} stderr={err:?}");
        }
    }

    /// Waits until `/health` answers.
    pub(crate) async fn wait_until_listening(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.assert_running();
            let ready = client
                .get(format!("{}/health", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK);
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "keyward never listened: {:?}",
                self.output()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The password on the first non-blank line after the announcement, if printed.
fn announced_password(stdout: &str) -> Option<String> {
    let mut lines = stdout.lines();
    lines.find(|l| l.contains("keyward created the superuser \"admin\" with the password:"))?;
    lines
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
}

async fn obtain(client: &reqwest::Client, base: &str, password: &str) -> (StatusCode, Value) {
    let response = client
        .post(format!("{base}/api/token/"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST /api/token/: {e}"));
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

/// A JWT's payload, decoded without verification.
fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or_default()
}

#[actix_web::test]
async fn serve_creates_the_default_superuser_once_prints_its_password_and_it_logs_in() {
    let sandbox = Sandbox::new();
    sandbox.write("keyward.toml", "access_token_lifetime = \"10m\"\n");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));

    let mut server = Server::start(&sandbox, "first", false);
    server.wait_until_listening(&client).await;
    let (stdout, stderr) = server.output();
    let password = announced_password(&stdout)
        .unwrap_or_else(|| panic!("no password printed: stdout={stdout:?} stderr={stderr:?}"));
    assert!(
        !stderr.contains(&password),
        "the password reaches no log line"
    );

    let (status, pair) = obtain(&client, &server.base, &password).await;
    assert_eq!(status, StatusCode::OK, "admin logs in: {pair}");
    let access = pair["access"].as_str().unwrap_or_default();
    let access_claims = claims(access);
    assert_eq!(
        access_claims["exp"].as_i64().unwrap_or_default()
            - access_claims["iat"].as_i64().unwrap_or_default(),
        600,
        "access_token_lifetime comes from keyward.toml: {access_claims}"
    );
    let me: Value = client
        .get(format!("{}/api/me/", server.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET /api/me/: {e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(
        (&me["username"], &me["is_superuser"], &me["is_staff"]),
        (&json!("admin"), &json!(true), &json!(true)),
        "{me}"
    );
    let (status, _) = obtain(&client, &server.base, "wrong-password-1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    drop(server);

    let mut again = Server::start(&sandbox, "second", true);
    again.wait_until_listening(&client).await;
    let (stdout, _) = again.output();
    assert_eq!(
        announced_password(&stdout),
        None,
        "a superuser exists: nothing is created or printed on the next start"
    );
    let (status, _) = obtain(&client, &again.base, &password).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the first password still works after a restart (via `serve --bind`)"
    );
}
