//! `keyward import-django` against a real Django project's databases (tests/django): from
//! SQLite, from PostgreSQL when `TEST_DATABASE_URL` is set, and from `dumpdata`, into keyward
//! on the backend under test.

use diesel::prelude::*;
use keyward::db::schema::{blacklisted_tokens, outstanding_tokens, users};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::django_project::{
    count, django, django_counts, import, keyward_counts, sqlite_fixture, users_of,
};
use crate::helpers::{TestApp, database_beside, on_postgres, spawn_app, spawn_app_with};

/// The fixture project's `SIMPLE_JWT["SIGNING_KEY"]` (tests/django/fixture/settings.py).
const DJANGO_SIGNING_KEY: &str = "fixture-signing-key-0123456789abcdef0123456789";

fn username_of(app: &TestApp, id: i64) -> Option<String> {
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => users::table.find(id).select(users::username).first::<String>(c).optional())
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// (digest, blacklisted) of the outstanding token with this jti.
fn token(app: &TestApp, jti: &str) -> Option<(String, bool)> {
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => outstanding_tokens::table
            .left_join(blacklisted_tokens::table)
            .filter(outstanding_tokens::jti.eq(jti))
            .select((outstanding_tokens::token_digest, blacklisted_tokens::id.nullable()))
            .first::<(String, Option<i64>)>(c)
            .optional())
    })
    .unwrap_or_else(|e| panic!("{e}"))
    .map(|(digest, entry)| (digest, entry.is_some()))
}

fn sha256_hex(text: &str) -> String {
    keyward::db::models::token::digest(text)
}

/// Every user, group, membership and token of Django is in keyward, with Django's ids.
fn assert_imported(app: &TestApp, url: &str, data: &Value) {
    assert_eq!(keyward_counts(app), django_counts(url));
    for (name, id, _) in users_of(data) {
        assert_eq!(
            username_of(app, id).as_deref(),
            Some(name.as_str()),
            "user {id}"
        );
    }
    for entry in data["live"].as_array().into_iter().flatten() {
        let jti = entry["jti"].as_str().unwrap_or_default();
        let refresh = entry["refresh"].as_str().unwrap_or_default();
        assert_eq!(
            token(app, jti),
            Some((sha256_hex(refresh), false)),
            "live {jti}"
        );
    }
    for entry in data["blacklisted"].as_array().into_iter().flatten() {
        let jti = entry["jti"].as_str().unwrap_or_default();
        assert_eq!(
            token(app, jti).map(|t| t.1),
            Some(true),
            "blacklisted {jti}"
        );
    }
}

fn highest_ever(data: &Value) -> i64 {
    data["highest_id_ever"].as_i64().unwrap_or(i64::MAX)
}

#[actix_web::test]
async fn an_import_from_django_sqlite_brings_everything_and_a_rerun_changes_nothing() {
    let Some(django) = django() else { return };
    let fixture = sqlite_fixture(&django);
    let app = spawn_app().await;
    let django_file = fixture.url.trim_start_matches("sqlite://").to_owned();
    let before = std::fs::read(&django_file).unwrap_or_else(|e| panic!("{e}"));
    let run = import(&app, &["--from", &fixture.url]);
    assert!(run.success, "{run}");
    assert!(
        std::fs::read(&django_file).is_ok_and(|after| after == before),
        "Django's file changed"
    );
    let n = users_of(&fixture.data).len();
    assert!(
        run.stdout
            .contains(&format!("Imported {n} users, 3 groups,")),
        "{run}"
    );
    assert!(run.stdout.contains("(from sqlite_sequence)"), "{run}");
    assert_imported(&app, &fixture.url, &fixture.data);
    assert!(app.with_db(|c| count(c, "permissions WHERE codename = 'shop.refund_order'")) == 1);

    let again = import(&app, &["--from", &fixture.url]);
    assert!(again.success, "{again}");
    assert!(again.stdout.contains("0 changes"), "{again}");
    assert_imported(&app, &fixture.url, &fixture.data);

    // A deleted Django user's id (the highest ever issued) is never given to a new user.
    let newcomer = app.create_user("newcomer");
    assert!(newcomer > highest_ever(&fixture.data), "new id {newcomer}");
}

#[actix_web::test]
async fn a_dry_run_writes_nothing() {
    let Some(django) = django() else { return };
    let fixture = sqlite_fixture(&django);
    let app = spawn_app().await;
    let before = keyward_counts(&app);
    let run = import(&app, &["--from", &fixture.url, "--dry-run"]);
    assert!(run.success, "{run}");
    assert!(run.stdout.contains("Dry run: nothing was written"), "{run}");
    assert!(run.stdout.contains("changes would be made"), "{run}");
    assert_eq!(keyward_counts(&app), before);
    // Not even the id sequence moved.
    assert_eq!(app.create_user("first"), 1);
}

#[actix_web::test]
async fn a_keyward_database_with_conflicting_users_is_refused_unless_told_what_to_do() {
    let Some(django) = django() else { return };
    let fixture = sqlite_fixture(&django);
    let app = spawn_app().await;
    // keyward's user 1 is not Django's user 1 ("admin"); keyward's user 2 is neither Django's
    // user 2 nor Django's u_bcrypt (another id): three Django users collide.
    let other = app.create_user("someone_else");
    let taken = app.create_user("u_bcrypt");
    assert_eq!((other, taken), (1, 2));
    let django_ids: Vec<i64> = users_of(&fixture.data).iter().map(|u| u.1).collect();
    assert!(
        django_ids.contains(&1) && django_ids.contains(&2),
        "{django_ids:?}"
    );
    let run = import(&app, &["--from", &fixture.url]);
    assert!(!run.success, "{run}");
    assert!(
        run.stderr
            .contains("3 Django user(s) collide with keyward users"),
        "{run}"
    );
    assert_eq!(keyward_counts(&app).users, 2);
    assert_eq!(app.token_counts(), (0, 0));

    let run = import(&app, &["--from", &fixture.url, "--on-conflict", "skip"]);
    assert!(run.success, "{run}");
    assert!(run.stdout.contains("3 skipped for a conflict"), "{run}");
    assert_eq!(username_of(&app, 1).as_deref(), Some("someone_else"));
    assert_eq!(username_of(&app, 2).as_deref(), Some("u_bcrypt"));
    let n = i64::try_from(django_ids.len()).unwrap_or_default();
    assert_eq!(keyward_counts(&app).users, 2 + n - 3);
    // The skipped users' tokens were not given to the keyward users holding their ids.
    let tokens_of_2: i64 = app.with_db(|c| count(c, "outstanding_tokens WHERE user_id IN (1, 2)"));
    assert_eq!(tokens_of_2, 0);
}

#[actix_web::test]
async fn on_conflict_overwrite_lets_djangos_users_win() {
    let Some(django) = django() else { return };
    let fixture = sqlite_fixture(&django);
    let app = spawn_app().await;
    app.create_user("someone_else");
    app.create_user("u_bcrypt");
    let run = import(
        &app,
        &["--from", &fixture.url, "--on-conflict", "overwrite"],
    );
    assert!(run.success, "{run}");
    assert!(
        run.stdout
            .contains("1 keyward users deleted to free their usernames"),
        "{run}"
    );
    assert_imported(&app, &fixture.url, &fixture.data);
    let again = import(&app, &["--from", &fixture.url]);
    assert!(again.stdout.contains("0 changes"), "{again}");
}

#[actix_web::test]
async fn users_with_bcrypt_hashes_log_in_and_weak_or_unusable_ones_do_not() {
    let Some(django) = django() else { return };
    let fixture = sqlite_fixture(&django);
    let app = spawn_app().await;
    assert!(import(&app, &["--from", &fixture.url]).success);
    let password = fixture.data["password"].as_str().unwrap_or_default();
    for name in ["admin", "u_bcrypt_sha256", "u_bcrypt", "u_staff"] {
        app.login(name, password).await;
    }
    for name in ["u_md5", "u_unusable", "u_inactive"] {
        let response = app
            .post_json(
                "/api/token/",
                &json!({"username": name, "password": password}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
}

#[actix_web::test]
async fn users_with_every_django_hasher_log_in_after_the_import() {
    let Some(django) = django() else { return };
    let fixture = sqlite_fixture(&django);
    let app = spawn_app().await;
    assert!(import(&app, &["--from", &fixture.url]).success);
    let password = fixture.data["password"].as_str().unwrap_or_default();
    for name in ["u_pbkdf2_sha256", "u_pbkdf2_sha1", "u_argon2", "u_scrypt"] {
        app.login(name, password).await;
    }
}

/// With Django's signing key, the refresh tokens Django issued keep working after the import
/// (the imported users' empty stamp matches tokens that carry none), and those Django
/// blacklisted, its rotations' spent tokens included, are refused.
#[actix_web::test]
async fn djangos_refresh_tokens_refresh_after_the_import_and_its_blacklisted_ones_do_not() {
    let Some(django) = django() else { return };
    let fixture = sqlite_fixture(&django);
    let app = spawn_app_with(|s| {
        s.signing_key = Some(secrecy::SecretString::from(DJANGO_SIGNING_KEY));
    })
    .await;
    assert!(import(&app, &["--from", &fixture.url]).success);
    let tokens = |list: &str| -> Vec<(String, String)> {
        fixture.data[list]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["user"].is_string())
            .map(|t| {
                let field = |name: &str| t[name].as_str().unwrap_or_default().to_owned();
                (field("user"), field("refresh"))
            })
            .collect()
    };
    let (live, blacklisted) = (tokens("live"), tokens("blacklisted"));
    assert!(
        live.len() >= 2 && !blacklisted.is_empty(),
        "{}",
        fixture.data
    );
    for (user, refresh) in &live {
        let (status, body) = app.refresh(refresh).await;
        assert_eq!(status, StatusCode::OK, "{user}'s live Django token: {body}");
        let (status, body) = app.verify(refresh).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{user}: spent by the rotation: {body}"
        );
    }
    for (user, refresh) in &blacklisted {
        let (status, body) = app.refresh(refresh).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::UNAUTHORIZED,
                json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
            ),
            "{user}'s token blacklisted in Django"
        );
    }
}

#[actix_web::test]
async fn permissions_answer_in_auth_check_as_djangos_has_perm() {
    let Some(django) = django() else { return };
    let fixture = sqlite_fixture(&django);
    let app = spawn_app().await;
    assert!(import(&app, &["--from", &fixture.url]).success);
    let names = [
        "admin",
        "u_bcrypt_sha256",
        "u_bcrypt",
        "u_pbkdf2_sha256",
        "u_staff",
        "u_argon2",
    ];
    let perms = [
        "shop.refund_order",
        "shop.view_order",
        "shop.add_order",
        "auth.view_user",
        "auth.change_user",
        "auth.delete_group",
        "token_blacklist.view_outstandingtoken",
    ];
    let expected = django.has_perms(&fixture.url, &names, &perms);
    // Every user gets a password keyward verifies today (permissions do not depend on it).
    let known = app.create_user("password_donor");
    let hash = app.password_hash(known);
    for name in names {
        app.with_db(|conn| {
            keyward::with_conn!(conn, c => diesel::update(users::table.filter(users::username.eq(name)))
                .set(users::password.eq(&hash))
                .execute(c))
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let access = app.access_for(name).await;
        for perm in perms {
            let response = app
                .get_as(&format!("/api/auth/check?permission={perm}"), &access)
                .await;
            let granted = expected[name][perm]
                .as_bool()
                .unwrap_or_else(|| panic!("{expected}"));
            let status = if granted {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(response.status(), status, "{name} {perm}");
        }
    }
}

#[actix_web::test]
async fn an_import_from_dumpdata_matches_the_import_from_the_database() {
    let Some(django) = django() else { return };
    let fixture = sqlite_fixture(&django);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dump = dir.path().join("dump.json");
    let dump_arg = dump.display().to_string();
    django.manage(
        &fixture.url,
        &[
            "dumpdata",
            "auth",
            "contenttypes",
            "token_blacklist",
            "--output",
            &dump_arg,
        ],
    );
    let app = spawn_app().await;
    let run = import(&app, &["--from-dumpdata", &dump_arg]);
    assert!(run.success, "{run}");
    assert!(run.stdout.contains("the highest id present only"), "{run}");
    assert_imported(&app, &fixture.url, &fixture.data);
    let again = import(&app, &["--from-dumpdata", &dump_arg]);
    assert!(again.stdout.contains("0 changes"), "{again}");
}

#[actix_web::test]
async fn a_custom_user_model_is_found_its_extra_columns_and_missing_tables_reported() {
    let Some(django) = django() else { return };
    let fixture = sqlite_fixture(&django);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("custom.sqlite3");
    std::fs::copy(fixture.url.trim_start_matches("sqlite://"), &path)
        .unwrap_or_else(|e| panic!("{e}"));
    // The tables of `accounts.Member(AbstractUser)` with a `phone` field, and no token_blacklist app.
    let mut conn =
        SqliteConnection::establish(&path.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
    for sql in [
        "ALTER TABLE auth_user RENAME TO accounts_member",
        "ALTER TABLE accounts_member ADD COLUMN phone TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE auth_user_groups RENAME TO accounts_member_groups",
        "ALTER TABLE accounts_member_groups RENAME COLUMN user_id TO member_id",
        "ALTER TABLE auth_user_user_permissions RENAME TO accounts_member_user_permissions",
        "ALTER TABLE accounts_member_user_permissions RENAME COLUMN user_id TO member_id",
        "DROP TABLE token_blacklist_blacklistedtoken",
        "DROP TABLE token_blacklist_outstandingtoken",
    ] {
        diesel::sql_query(sql)
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    drop(conn);
    let app = spawn_app().await;
    let url = format!("sqlite://{}", path.display());
    let run = import(&app, &["--from", &url]);
    assert!(run.success, "{run}");
    for line in [
        "User table: accounts_member",
        "Skipped user columns (not carried): phone",
        "Not in the source (that part skipped): token_blacklist_outstandingtoken",
        "Not in the source (that part skipped): token_blacklist_blacklistedtoken",
    ] {
        assert!(run.stdout.contains(line), "{line}: {run}");
    }
    let counts = keyward_counts(&app);
    let django = django_counts(&fixture.url);
    assert_eq!(
        (counts.users, counts.memberships),
        (django.users, django.memberships)
    );
    assert_eq!(app.token_counts(), (0, 0));
}

#[actix_web::test]
async fn a_rerun_carries_what_changed_in_django_renames_included() {
    let Some(django) = django() else { return };
    let fixture = sqlite_fixture(&django);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("changing.sqlite3");
    std::fs::copy(fixture.url.trim_start_matches("sqlite://"), &path)
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}", path.display());
    let app = spawn_app().await;
    assert!(import(&app, &["--from", &url]).success);
    let mut conn =
        SqliteConnection::establish(&path.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
    for sql in [
        "UPDATE auth_user SET username = 'u_bcrypt_renamed', email = 'new@example.com' \
         WHERE username = 'u_bcrypt'",
        "DELETE FROM auth_user_groups WHERE user_id = (SELECT id FROM auth_user WHERE username = 'u_pbkdf2_sha256') \
         AND group_id = (SELECT id FROM auth_group WHERE name = 'support')",
    ] {
        diesel::sql_query(sql)
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    drop(conn);
    let run = import(&app, &["--from", &url]);
    assert!(run.success, "{run}");
    assert!(run.stdout.contains("Users: 0 created, 1 updated,"), "{run}");
    assert!(
        run.stdout
            .contains("Group memberships: 4 in Django, 0 added, 1 removed."),
        "{run}"
    );
    let renamed = users_of(&fixture.data)
        .into_iter()
        .find(|u| u.0 == "u_bcrypt")
        .map_or(0, |u| u.1);
    assert_eq!(
        username_of(&app, renamed).as_deref(),
        Some("u_bcrypt_renamed")
    );
    assert_eq!(keyward_counts(&app), django_counts(&url));
}

/// A database beside `TEST_DATABASE_URL`, dropped at the end.
struct PgSource {
    admin: String,
    name: String,
    url: String,
}

impl PgSource {
    fn create() -> Self {
        let admin = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
        let name = format!("django_src_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| panic!("{e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("{e}"));
        let url = database_beside(&admin, &name);
        Self { admin, name, url }
    }
}

impl Drop for PgSource {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

#[actix_web::test]
async fn an_import_from_django_postgres_brings_everything_and_a_rerun_changes_nothing() {
    if !on_postgres() {
        eprintln!("skipped: the Django PostgreSQL source needs TEST_DATABASE_URL");
        return;
    }
    let Some(django) = django() else { return };
    let source = PgSource::create();
    let data = django.create(&source.url, 0);
    let app = spawn_app().await;
    let run = import(&app, &["--from", &source.url]);
    assert!(run.success, "{run}");
    assert!(run.stdout.contains("(from its id sequence)"), "{run}");
    assert_imported(&app, &source.url, &data);
    let again = import(&app, &["--from", &source.url]);
    assert!(again.stdout.contains("0 changes"), "{again}");
    let newcomer = app.create_user("newcomer");
    assert!(newcomer > highest_ever(&data), "new id {newcomer}");
}

/// A reader that stops early (`keyward import-django ... | head -1`) ends neither the import
/// nor the command with a panic: the data is written and the exit status is 0.
#[actix_web::test]
async fn a_report_read_by_no_one_is_no_failure() {
    let Some(django) = django() else { return };
    let fixture = sqlite_fixture(&django);
    let app = spawn_app().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["import-django", "--from", &fixture.url])
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("KEYWARD_DATABASE_URL", &app.settings.database_url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("keyward: {e}"));
    drop(child.stdout.take());
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("keyward: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_imported(&app, &fixture.url, &fixture.data);
}
