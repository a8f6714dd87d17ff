//! `login_fields` with `email` needs every address to belong to one user (case-insensitively):
//! `keyward check` and the server's start refuse a database where some do not, naming them.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use keyward::clock::Clock;
use keyward::startup::Application;

use crate::cli::{Sandbox, Server};
use crate::helpers::{spawn_app, test_settings};

const EMAIL_LOGIN: (&str, &str) = ("KEYWARD_LOGIN_FIELDS", "[username, email]");

/// Inserts users `{prefix}{i}` with these addresses into the sandbox's SQLite file.
fn seed_users(sandbox: &Sandbox, prefix: &str, emails: &[String]) {
    let mut conn = sandbox.sqlite();
    for (i, email) in emails.iter().enumerate() {
        diesel::sql_query(format!(
            "INSERT INTO users (username, email, password, first_name, last_name, is_active, \
             is_staff, is_superuser, date_joined, security_stamp) \
             VALUES ('{prefix}{i}', '{email}', '!', '', '', 1, 0, 0, '2026-01-01 00:00:00', 's')"
        ))
        .execute(&mut conn)
        .unwrap_or_else(|e| panic!("seed {email}: {e}"));
    }
}

#[actix_web::test]
async fn the_server_refuses_to_start_when_addresses_are_shared() {
    let app = spawn_app().await;
    let ann = app.create_user("ann");
    let ann2 = app.create_user("ann2");
    let solo = app.create_user("solo");
    let blank = app.create_user("blank");
    app.with_db(|conn| {
        for (id, email) in [
            (ann, "Ann@Example.com"),
            (ann2, "ann@example.COM"),
            (solo, "solo@example.com"),
            (blank, ""),
        ] {
            keyward::with_conn!(conn, c => diesel::update(keyward::db::schema::users::table.find(id))
                .set(keyward::db::schema::users::email.eq(email))
                .execute(c))
            .unwrap_or_else(|e| panic!("{e}"));
        }
    });
    let mut settings = test_settings(app.settings.database_url.clone());
    settings.login_fields = vec!["username".into(), "email".into()];
    let refused = Application::build_with_clock(settings.clone(), Clock::default())
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        refused.contains(
            "login_fields includes email, but 1 email address(es) belong to more than one user"
        ) && refused.contains("ann@example.com (2 users)")
            && !refused.contains("solo"),
        "{refused:?}"
    );

    // One of them changes address: the server starts.
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => diesel::update(keyward::db::schema::users::table.find(ann2))
            .set(keyward::db::schema::users::email.eq("ann2@example.com"))
            .execute(c))
        .unwrap_or_else(|e| panic!("{e}"))
    });
    let started = Application::build_with_clock(settings, Clock::default()).await;
    assert!(started.is_ok(), "unique addresses (and two empty ones)");
}

#[test]
fn keyward_check_refuses_shared_addresses_naming_the_first_ten() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    let mut emails = Vec::new();
    for i in 0..12 {
        emails.push(format!("user{i:02}@example.com"));
        emails.push(format!("USER{i:02}@Example.com"));
    }
    emails.extend(["".to_owned(), "".to_owned(), "own@example.com".to_owned()]);
    seed_users(&sandbox, "u", &emails);

    let run = sandbox.ok(&["check"]);
    assert!(
        !run.stdout.contains("emails:"),
        "without email login addresses may be shared: {run}"
    );

    let run = sandbox.run(&["check"], &[EMAIL_LOGIN], None);
    assert!(!run.success, "{run}");
    assert!(
        run.stderr.contains(
            "login_fields includes email, but 12 email address(es) belong to more than one user \
             (compared case-insensitively): user00@example.com (2 users), user01@example.com (2 users)"
        ),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("user09@example.com (2 users), and 2 more; give each of those users"),
        "ten named, the rest counted: {run}"
    );
    assert!(!run.stderr.contains("user10@"), "{run}");
    assert!(!run.stdout.contains("no problems found"), "{run}");
}

#[test]
fn keyward_check_passes_unique_addresses_and_refuses_bad_login_fields() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["check"], &[EMAIL_LOGIN], None);
    assert!(run.success, "a fresh database has no users: {run}");
    assert!(run.stdout.contains("emails: ok (no users yet)"), "{run}");
    sandbox.ok(&["migrate"]);
    seed_users(
        &sandbox,
        "u",
        &[
            "a@example.com".into(),
            "b@example.com".into(),
            String::new(),
            String::new(),
        ],
    );
    let run = sandbox.run(&["check"], &[EMAIL_LOGIN], None);
    assert!(run.success, "{run}");
    assert!(run.stdout.contains("emails: ok"), "{run}");

    let cases = [
        (
            "[]",
            "login_fields must name at least one of username, email",
        ),
        (
            "[phone]",
            "login_fields: unknown field \"phone\" (known: username, email)",
        ),
        ("[email, email]", "login_fields names \"email\" twice"),
        ("email", "KEYWARD_LOGIN_FIELDS: expected a list"),
    ];
    for (value, expected) in cases {
        let run = sandbox.run(&["check"], &[("KEYWARD_LOGIN_FIELDS", value)], None);
        assert!(!run.success, "{value}: {run}");
        assert!(run.stderr.contains(expected), "{value}: {run}");
    }
}

#[test]
fn serve_exits_with_the_same_reason_when_addresses_are_shared() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["migrate"]);
    seed_users(
        &sandbox,
        "u",
        &["dup@example.com".into(), "Dup@Example.com".into()],
    );
    let mut server = Server::start_with(&sandbox, "shared", true, &[EMAIL_LOGIN]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap_or_else(|e| panic!("{e}")) {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "keyward kept running: {:?}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let (_, stderr) = server.output();
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("dup@example.com (2 users)"), "{stderr}");
}
