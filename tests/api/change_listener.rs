//! The change listener of an instance on PostgreSQL: one that loses its connection says
//! `polling` in `/health/ready`, reconnects and catches up on what it missed; it ends with its
//! application; and `keyward check` counts its connection. PostgreSQL only.

use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use keyward::startup::Application;
use reqwest::StatusCode;

use crate::cli::Sandbox;
use crate::helpers::{PASSWORD, TestApp, json_of, on_postgres, spawn_app, wait_until_listening};
use crate::instances::{
    Probe, Three, accepted, ask, inactive, on_both, refused, three_instances, time_until,
};

/// `/health/ready`'s `propagation`.
async fn propagation_of(app: &TestApp, address: &str) -> String {
    let response = app
        .client
        .get(format!("{address}/health/ready"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{address}: {e}"));
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["propagation"].as_str().unwrap_or_default().to_owned()
}

/// Runs SQL on the app's database with triggers off: a change no listener hears, as one
/// committed while a listener was away would be.
fn unheard(app: &TestApp, sql: &str) {
    let mut conn = PgConnection::establish(&app.settings.database_url)
        .unwrap_or_else(|e| panic!("connect: {e}"));
    diesel::sql_query("SET session_replication_role = replica")
        .execute(&mut conn)
        .unwrap_or_else(|e| panic!("{e}"));
    diesel::sql_query(sql)
        .execute(&mut conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[actix_web::test]
async fn a_listener_that_loses_its_connection_polls_meanwhile_then_reconnects_and_catches_up() {
    let Some(Three { a, others, _turn }) = three_instances("reconnection").await else {
        return;
    };
    let b = &others[0];
    let alice = a.create_user("alice");
    let alice_access = a.access_for("alice").await;
    a.create_user("bob");
    let (bob_refresh, bob_access) = a.login("bob", PASSWORD).await;
    assert_eq!(ask(&a, &b.address, Probe::Me(&alice_access)).await.0, 200);
    assert_eq!(a.logout(&bob_refresh).await.0, StatusCode::OK);
    let since = Instant::now();
    on_both(&a, &others, Probe::Me(&bob_access), since, refused).await;

    // What B misses: alice deactivated, bob's logout undone (token and session).
    unheard(
        &a,
        &format!("UPDATE users SET is_active = false WHERE id = {alice}"),
    );
    let bob_jti = token_payload_jti(&bob_refresh);
    unheard(
        &a,
        &format!(
            "DELETE FROM blacklisted_tokens WHERE token_id = \
             (SELECT id FROM outstanding_tokens WHERE jti = '{bob_jti}')"
        ),
    );
    unheard(
        &a,
        &format!(
            "UPDATE token_sessions SET ended_at = NULL, end_reason = NULL, ended_by = NULL \
             WHERE current_jti = '{bob_jti}'"
        ),
    );
    assert_eq!(
        ask(&a, &b.address, Probe::Me(&alice_access)).await.0,
        200,
        "B has not heard of the deactivation"
    );
    assert_eq!(
        ask(&a, &b.address, Probe::Me(&bob_access)).await.0,
        401,
        "B has not heard of the lifting"
    );

    let stats = b
        .propagation
        .listener()
        .unwrap_or_else(|| panic!("B has a listener"));
    let (pid, connects) = (stats.backend_pid(), stats.connects());
    assert!(pid > 0, "B's listener has a server process");
    let mut admin = PgConnection::establish(&a.settings.database_url)
        .unwrap_or_else(|e| panic!("connect: {e}"));
    #[derive(diesel::QueryableByName)]
    struct Named {
        #[diesel(sql_type = diesel::sql_types::Text)]
        application_name: String,
    }
    let named: Named = diesel::sql_query(format!(
        "SELECT application_name FROM pg_stat_activity WHERE pid = {pid}"
    ))
    .get_result(&mut admin)
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(named.application_name, "keyward-listener");
    diesel::sql_query(format!("SELECT pg_terminate_backend({pid}, 5000)"))
        .execute(&mut admin)
        .unwrap_or_else(|e| panic!("terminate: {e}"));

    let started = Instant::now();
    while propagation_of(&a, &b.address).await != "polling" {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "/health/ready never said polling after B lost its listener"
        );
    }
    while propagation_of(&a, &b.address).await != "listening" {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "B's listener is not back 10 s after losing its connection"
        );
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(stats.connects(), connects + 1, "one reconnection");
    assert_ne!(stats.backend_pid(), pid, "a new server process");

    let since = Instant::now();
    let alice_time = time_until(&a, &b.address, Probe::Me(&alice_access), since, inactive).await;
    let bob_time = time_until(&a, &b.address, Probe::Me(&bob_access), since, accepted).await;
    println!(
        "after reconnecting, B enforced what it missed in {:.1} ms and {:.1} ms",
        alice_time.as_secs_f64() * 1000.0,
        bob_time.as_secs_f64() * 1000.0
    );
    assert_eq!(
        ask(&a, &others[1].address, Probe::Me(&bob_access)).await.0,
        401,
        "C, which never lost its listener, still refuses bob: only a catch-up brings that"
    );
}

#[actix_web::test]
async fn the_change_listener_ends_with_its_application() {
    if !on_postgres() {
        eprintln!(
            "*** change listener test not run: it needs PostgreSQL (set TEST_DATABASE_URL) ***"
        );
        return;
    }
    let a = spawn_app().await;
    let (settings, clock) = (a.settings.clone(), a.clock.clone());
    // An application in an actix system of its own, gone when the thread ends.
    let pid = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build_with_clock(settings, clock)
                .await
                .unwrap_or_else(|e| panic!("application: {e}"));
            let propagation = app.propagation();
            actix_web::rt::spawn(app.run_until_stopped());
            wait_until_listening(&propagation).await;
            propagation.listener().map_or(0, |l| l.backend_pid())
        })
    })
    .join()
    .unwrap_or_else(|_| panic!("the application's thread panicked"));
    assert!(pid > 0);

    let mut admin = PgConnection::establish(&a.settings.database_url)
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let started = Instant::now();
    loop {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let left: Count = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = {pid}"
        ))
        .get_result(&mut admin)
        .unwrap_or_else(|e| panic!("{e}"));
        if left.n == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the listener's connection outlived its application by 5 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[actix_web::test]
async fn check_counts_every_instances_pool_and_change_listener_against_max_connections() {
    if !on_postgres() {
        eprintln!(
            "*** connection budget test not run: it needs PostgreSQL (set TEST_DATABASE_URL) ***"
        );
        return;
    }
    let a = spawn_app().await;
    let sandbox = Sandbox::new();
    let check = |instances: &str| {
        sandbox.run(
            &["check"],
            &[
                ("KEYWARD_DATABASE_URL", &a.settings.database_url),
                ("KEYWARD_INSTANCES", instances),
                ("KEYWARD_DATABASE_POOL_SIZE", "16"),
            ],
            None,
        )
    };
    let run = check("2");
    assert!(run.success, "{run}");
    assert!(
        run.stdout.contains(
            "connections: ok (2 instance(s) x (database_pool_size 16 + 1 change listener) \
             = 34 connections, the server accepts"
        ),
        "{run}"
    );
    let run = check("1000");
    assert!(run.success, "a warning, not an error: {run}");
    assert!(
        run.stdout
            .contains("connections: warning: 1000 instance(s)")
            && run.stdout.contains("= 17000 connections")
            && run
                .stdout
                .contains("keyward check: no problems found, 1 warning(s)"),
        "{run}"
    );
}

fn token_payload_jti(token: &str) -> String {
    crate::helpers::token_payload(token)["jti"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
