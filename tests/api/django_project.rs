//! The Django project of `tests/django`, run with the Python that `KEYWARD_DJANGO_PYTHON`
//! names (a venv with tests/django/requirements.txt; .ci/run makes it). Without it the tests
//! that need Django say so and pass, unless `REQUIRE_DJANGO_TESTS=1` (CI sets it).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use diesel::prelude::*;
use keyward::db::DbConn;
use serde_json::Value;

use crate::helpers::TestApp;

pub struct Django {
    python: PathBuf,
}

/// The Django project, or `None` (and a loud line) when no Python for it is configured.
pub fn django() -> Option<Django> {
    match std::env::var("KEYWARD_DJANGO_PYTHON") {
        Ok(python) if !python.is_empty() => Some(Django {
            python: python.into(),
        }),
        _ => {
            let required = std::env::var("REQUIRE_DJANGO_TESTS").as_deref() == Ok("1");
            assert!(
                !required,
                "KEYWARD_DJANGO_PYTHON is not set and REQUIRE_DJANGO_TESTS=1: make a venv with \
                 tests/django/requirements.txt and point KEYWARD_DJANGO_PYTHON at its python"
            );
            let _ = writeln!(
                std::io::stderr(),
                "*** DJANGO TEST NOT RUN: KEYWARD_DJANGO_PYTHON is not set (a venv with \
                 tests/django/requirements.txt; REQUIRE_DJANGO_TESTS=1 makes this a failure) ***"
            );
            None
        }
    }
}

fn project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/django")
}

impl Django {
    /// `manage.py <args>` on the database `url`; its stdout.
    pub fn manage(&self, url: &str, args: &[&str]) -> String {
        let output = Command::new(&self.python)
            .arg("manage.py")
            .args(args)
            .current_dir(project_dir())
            .env("FIXTURE_DATABASE_URL", url)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", self.python.display()));
        assert!(
            output.status.success(),
            "manage.py {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Creates Django's tables in `url` and fills them (`populate`); what was made, as JSON.
    pub fn create(&self, url: &str, generated_users: usize) -> Value {
        self.manage(url, &["migrate", "--no-input", "-v", "0"]);
        let users = generated_users.to_string();
        let out = self.manage(url, &["populate", "--users", &users]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("populate's JSON: {e}: {out}"))
    }

    /// Django's `user.has_perm(p)` for each user and permission.
    pub fn has_perms(&self, url: &str, users: &[&str], perms: &[&str]) -> Value {
        let out = self.manage(
            url,
            &[
                "has_perms",
                "--users",
                &users.join(","),
                "--perms",
                &perms.join(","),
            ],
        );
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("has_perms's JSON: {e}: {out}"))
    }
}

/// A Django SQLite database made once per test run and shared: the import only reads it.
pub struct SqliteFixture {
    _dir: tempfile::TempDir,
    pub url: String,
    pub data: Value,
}

pub fn sqlite_fixture(django: &Django) -> &'static SqliteFixture {
    static FIXTURE: OnceLock<SqliteFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let url = format!("sqlite://{}", dir.path().join("django.sqlite3").display());
        let data = django.create(&url, 0);
        SqliteFixture {
            _dir: dir,
            url,
            data,
        }
    })
}

/// `(username, id, hasher)` of every user the fixture made.
pub fn users_of(data: &Value) -> Vec<(String, i64, String)> {
    let mut users: Vec<_> = data["users"]
        .as_object()
        .unwrap_or_else(|| panic!("no users in {data}"))
        .iter()
        .map(|(name, u)| {
            (
                name.clone(),
                u["id"].as_i64().unwrap_or_default(),
                u["hasher"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    users.sort_by_key(|u| u.1);
    users
}

/// What ran: `keyward import-django <args>` into the app's database.
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "success={}\nstdout:\n{}\nstderr:\n{}",
            self.success, self.stdout, self.stderr
        )
    }
}

pub fn import(app: &TestApp, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .arg("import-django")
        .args(args)
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("KEYWARD_DATABASE_URL", &app.settings.database_url)
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("keyward: {e}"));
    Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Row counts of some tables, of Django's database or of keyward's.
pub fn count(conn: &mut DbConn, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let found: Count = keyward::with_conn!(conn, c => diesel::sql_query(&sql).get_result(c))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    found.n
}

/// A connection to a Django database of the fixture.
pub fn open(url: &str) -> DbConn {
    if let Some(path) = url.strip_prefix("sqlite://") {
        DbConn::Sqlite(SqliteConnection::establish(path).unwrap_or_else(|e| panic!("{url}: {e}")))
    } else {
        DbConn::Postgres(PgConnection::establish(url).unwrap_or_else(|e| panic!("{url}: {e}")))
    }
}

/// What Django holds and keyward must hold the same of after an import.
#[derive(Debug, PartialEq, Eq)]
pub struct Counts {
    pub users: i64,
    pub groups: i64,
    pub memberships: i64,
    pub outstanding: i64,
    pub blacklisted: i64,
}

pub fn django_counts(url: &str) -> Counts {
    let mut conn = open(url);
    Counts {
        users: count(&mut conn, "auth_user"),
        groups: count(&mut conn, "auth_group"),
        memberships: count(&mut conn, "auth_user_groups"),
        outstanding: count(&mut conn, "token_blacklist_outstandingtoken"),
        blacklisted: count(&mut conn, "token_blacklist_blacklistedtoken"),
    }
}

pub fn keyward_counts(app: &TestApp) -> Counts {
    app.with_db(|conn| Counts {
        users: count(conn, "users"),
        groups: count(conn, "groups"),
        memberships: count(conn, "user_groups"),
        outstanding: count(conn, "outstanding_tokens"),
        blacklisted: count(conn, "blacklisted_tokens"),
    })
}
