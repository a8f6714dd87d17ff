//! Start-up and shutdown of the real binary: start-up errors are one line and touch nothing,
//! stray `KEYWARD_*` variables are warnings, and a stopped server leaves a complete SQLite file.

use std::net::TcpListener;
use std::process::{Command, ExitStatus};
use std::sync::{Mutex, Once};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use keyward::clock::Clock;
use keyward::db::schema::users;
use keyward::startup::Keyward;
use reqwest::StatusCode;
use serde_json::json;

use crate::cli::{Run, Sandbox, Server};
use crate::helpers::{test_database, test_settings};

/// A run of the binary: arguments, environment and what the case is called.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

/// Asserts a start-up failure: non-zero exit, `message` as the only line on stderr, no panic,
/// no password printed.
fn assert_one_line_failure(run: &Run, message: &str, case: &str) {
    assert!(!run.success, "{case}: {run}");
    assert!(!run.stderr.contains("panicked"), "{case}: {run}");
    let lines: Vec<&str> = run.stderr.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1, "{case}: one line: {run}");
    assert!(lines[0].starts_with(message), "{case}: {run}");
    assert!(
        !run.stdout.contains("password"),
        "{case}: no superuser was created: {run}"
    );
}

#[test]
fn serve_on_a_port_in_use_fails_with_one_line_before_touching_the_database() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let bind = taken
        .local_addr()
        .unwrap_or_else(|e| panic!("local_addr: {e}"))
        .to_string();
    let cases: [Case; 2] = [
        (&[], &[("KEYWARD_BIND", &bind)], "keyward with KEYWARD_BIND"),
        (&["serve", "--bind", &bind], &[], "keyward serve --bind"),
    ];
    for (args, env, case) in cases {
        let sandbox = Sandbox::new();
        let run = sandbox.run(args, env, None);
        assert_one_line_failure(&run, &format!("keyward: cannot listen on {bind}: "), case);
        assert!(!sandbox.db_path().exists(), "{case}: no database created");
    }
}

#[test]
fn a_bind_that_is_not_an_address_is_refused_by_check_and_serve_before_any_database_work() {
    let cases: [Case; 3] = [
        (
            &["check"],
            &[("KEYWARD_BIND", "notanaddr")],
            "keyward check",
        ),
        (
            &[],
            &[("KEYWARD_BIND", "notanaddr")],
            "keyward with KEYWARD_BIND",
        ),
        (
            &["serve", "--bind", "notanaddr"],
            &[],
            "keyward serve --bind",
        ),
    ];
    for (args, env, case) in cases {
        let sandbox = Sandbox::new();
        let run = sandbox.run(args, env, None);
        assert_one_line_failure(
            &run,
            "keyward: configuration: bind must be an address and port such as 127.0.0.1:8000, \
             [::]:8000 or localhost:8000, got \"notanaddr\"",
            case,
        );
        assert!(!sandbox.db_path().exists(), "{case}: no database created");
    }
}

#[test]
fn unknown_keyward_variables_are_one_line_warnings_and_commands_still_run() {
    let sandbox = Sandbox::new();
    let env = [
        ("KEYWARD_BNID", "127.0.0.1:1"),
        ("KEYWARD_REQUIRE_BROWSER_TESTS", "1"),
    ];
    for args in [&["migrate"][..], &["check"]] {
        let run = sandbox.run(args, &env, None);
        assert!(run.success, "{args:?}: {run}");
        let mut warnings: Vec<&str> = run.stderr.lines().collect();
        warnings.sort_unstable();
        assert_eq!(
            warnings,
            [
                "keyward: warning: ignoring KEYWARD_BNID: unknown setting `bnid`; did you mean `bind`?",
                "keyward: warning: ignoring KEYWARD_REQUIRE_BROWSER_TESTS: unknown setting `require_browser_tests`",
            ],
            "{args:?}: {run}"
        );
    }
    let run = sandbox.run(&["check"], &env, None);
    assert!(
        run.stdout.contains("keyward check: no problems found"),
        "{run}"
    );
}

/// Sends `signal` (TERM, INT) to the server and waits for it to exit.
fn stop(server: &mut Server, signal: &str) -> ExitStatus {
    let sent = Command::new("kill")
        .args([format!("-{signal}"), server.child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(sent.success(), "kill -{signal}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "keyward did not stop on SIG{signal}: {:?}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[actix_web::test]
async fn a_stopped_server_leaves_every_write_in_the_sqlite_file_itself() {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));
    for signal in ["TERM", "INT"] {
        let sandbox = Sandbox::new();
        let mut server = Server::start(&sandbox, "server", true);
        server.wait_until_listening(&client).await;
        let response = client
            .post(format!("{}/api/signup/", server.base))
            .json(&json!({"username": "alice", "email": "a@example.com", "password": "tangerine-voyage-41"}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("signup: {e}"));
        assert_eq!(response.status(), StatusCode::CREATED, "SIG{signal}");

        let status = stop(&mut server, signal);
        assert!(
            status.success(),
            "SIG{signal}: {status} {:?}",
            server.output()
        );
        let wal = sandbox.path().join("k.db-wal");
        let wal_len = std::fs::metadata(&wal).map_or(0, |m| m.len());
        assert_eq!(
            wal_len, 0,
            "SIG{signal}: the write-ahead log is empty or gone"
        );

        // The database file alone, as a backup copy would be.
        let copy = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let path = copy.path().join("backup.db");
        std::fs::copy(sandbox.db_path(), &path).unwrap_or_else(|e| panic!("copy: {e}"));
        let mut conn = SqliteConnection::establish(&path.display().to_string())
            .unwrap_or_else(|e| panic!("open the copy: {e}"));
        let names: Vec<String> = users::table
            .select(users::username)
            .order(users::username.asc())
            .load(&mut conn)
            .unwrap_or_else(|e| panic!("SIG{signal}: the copy has no users table: {e}"));
        assert_eq!(names, ["admin", "alice"], "SIG{signal}");
    }
}

/// Panic messages raised on the calling thread while `f` runs, also those a runtime catches
/// and only prints (as tokio does for tasks dropped at shutdown).
fn panics_on_this_thread(f: impl FnOnce()) -> Vec<String> {
    static SEEN: Mutex<Vec<(ThreadId, String)>> = Mutex::new(Vec::new());
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(mut seen) = SEEN.lock() {
                seen.push((std::thread::current().id(), info.to_string()));
            }
            previous(info);
        }));
    });
    f();
    let me = std::thread::current().id();
    SEEN.lock()
        .map(|seen| {
            seen.iter()
                .filter(|(id, _)| *id == me)
                .map(|(_, message)| message.clone())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_system_stopped_right_after_keyward_starts_shuts_down_without_a_panic() {
    let (_db, url) = test_database();
    let settings = test_settings(url);
    let panics = panics_on_this_thread(|| {
        let system = actix_web::rt::System::new();
        let started = system.block_on(Keyward::start(&settings, Clock::default()));
        assert!(started.is_ok(), "keyward started");
        drop(started);
        drop(system);
    });
    assert_eq!(panics, Vec::<String>::new());
}
