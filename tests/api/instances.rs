//! Several keyward instances on one PostgreSQL database, and probes that time how soon the
//! others enforce a change made through one. PostgreSQL only: a SQLite database serves a single
//! instance.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console_client::superuser;
use crate::helpers::{
    Instance, TestApp, another_instance, json_of, on_postgres, spawn_app, wait_until_listening,
};

/// Changes of each kind.
pub(crate) const TRIALS: usize = 20;
/// The bound asserted on the 99th percentile.
const P99_BOUND: Duration = Duration::from_millis(100);
/// How long a probe keeps asking before the test fails.
const GIVE_UP: Duration = Duration::from_secs(2);
/// Between two probes of one instance.
const PROBE_PAUSE: Duration = Duration::from_millis(1);

/// Whether a test that starts three instances is running: they run one at a time, since two at
/// once would time each other's load.
static BUSY: AtomicBool = AtomicBool::new(false);

/// The turn of one such test, given back when dropped (a failing test too).
pub(crate) struct Turn;

impl Turn {
    async fn take() -> Self {
        while BUSY
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
        Self
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        BUSY.store(false, Ordering::Release);
    }
}

/// Three instances on one database.
pub(crate) struct Three {
    /// The app the changes go through.
    pub(crate) a: TestApp,
    /// B and C.
    pub(crate) others: [Instance; 2],
    pub(crate) _turn: Turn,
}

/// A, B and C, all listening, once it is this test's turn; `None` on SQLite.
pub(crate) async fn three_instances(kind: &str) -> Option<Three> {
    if !on_postgres() {
        eprintln!(
            "*** propagation test ({kind}) not run: several instances need PostgreSQL \
             (set TEST_DATABASE_URL) ***"
        );
        return None;
    }
    let turn = Turn::take().await;
    let a = spawn_app().await;
    let others = [another_instance(&a).await, another_instance(&a).await];
    wait_until_listening(&a.propagation).await;
    for other in &others {
        wait_until_listening(&other.propagation).await;
    }
    Some(Three {
        a,
        others,
        _turn: turn,
    })
}

/// What B and C are asked until they enforce a change.
#[derive(Clone, Copy)]
pub(crate) enum Probe<'a> {
    /// `GET /api/me/` with an access token.
    Me(&'a str),
    /// `GET /api/auth/check?permission=...` with an access token.
    Check(&'a str, &'a str),
    /// `GET /api/me/` with the access token and `verify` of the refresh token.
    MeAndVerify(&'a str, &'a str),
    /// `POST /api/token/verify/` of a token.
    Verify(&'a str),
}

pub(crate) async fn ask(app: &TestApp, address: &str, probe: Probe<'_>) -> (StatusCode, Value) {
    let request = match probe {
        Probe::Me(access) | Probe::MeAndVerify(access, _) => app
            .client
            .get(format!("{address}/api/me/"))
            .bearer_auth(access),
        Probe::Check(access, permission) => app
            .client
            .get(format!("{address}/api/auth/check?permission={permission}"))
            .bearer_auth(access),
        Probe::Verify(token) => app
            .client
            .post(format!("{address}/api/token/verify/"))
            .json(&json!({ "token": token })),
    };
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{address}: {e}"));
    let (status, body) = json_of(response).await;
    let Probe::MeAndVerify(_, refresh) = probe else {
        return (status, body);
    };
    if status != StatusCode::OK {
        return (status, body);
    }
    let response = app
        .client
        .post(format!("{address}/api/token/verify/"))
        .json(&json!({ "token": refresh }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{address}: {e}"));
    json_of(response).await
}

/// Asks `address` again and again until `enforced`; how long after `since` the answer that
/// showed it came.
pub(crate) async fn time_until(
    app: &TestApp,
    address: &str,
    probe: Probe<'_>,
    since: Instant,
    enforced: fn(StatusCode, &Value) -> bool,
) -> Duration {
    loop {
        let (status, body) = ask(app, address, probe).await;
        if enforced(status, &body) {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < GIVE_UP,
            "{address} still answers {status} {body} {GIVE_UP:?} after the change"
        );
        // A pause between probes: a probe loop without one keeps the test process's CPU share
        // busy and delays the instances' own threads (their listeners) it runs beside.
        actix_web::rt::time::sleep(PROBE_PAUSE).await;
    }
}

/// B's and C's times.
pub(crate) async fn on_both(
    app: &TestApp,
    others: &[Instance; 2],
    probe: Probe<'_>,
    since: Instant,
    enforced: fn(StatusCode, &Value) -> bool,
) -> [Duration; 2] {
    let (b, c) = join(
        time_until(app, &others[0].address, probe, since, enforced),
        time_until(app, &others[1].address, probe, since, enforced),
    )
    .await;
    [b, c]
}

/// Asserts that B and C both answer as `expected` now (their memory holds the user or token).
pub(crate) async fn assert_on_both(
    app: &TestApp,
    others: &[Instance; 2],
    probe: Probe<'_>,
    expected: u16,
) {
    for other in others {
        let (status, body) = ask(app, &other.address, probe).await;
        assert_eq!(status.as_u16(), expected, "{}: {body}", other.address);
    }
}

/// Prints the p50 and p99 of `times` (nearest rank) and asserts the bound on the p99.
pub(crate) fn report(kind: &str, times: &mut [Duration]) {
    times.sort();
    let rank = |p: f64| {
        let n = times.len() as f64;
        times[((p * n).ceil() as usize).clamp(1, times.len()) - 1]
    };
    let (p50, p99) = (rank(0.50), rank(0.99));
    println!(
        "propagation of {kind}: {} probes, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        times.len(),
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
    assert!(p99 <= P99_BOUND, "{kind}: p99 {p99:?} > {P99_BOUND:?}");
}

pub(crate) fn refused(status: StatusCode, _: &Value) -> bool {
    status == StatusCode::UNAUTHORIZED
}

pub(crate) fn inactive(status: StatusCode, body: &Value) -> bool {
    status == StatusCode::UNAUTHORIZED && body["code"] == "user_inactive"
}

pub(crate) fn forbidden(status: StatusCode, _: &Value) -> bool {
    status == StatusCode::FORBIDDEN
}

pub(crate) fn accepted(status: StatusCode, _: &Value) -> bool {
    status == StatusCode::OK
}

/// A superuser's access token, through A.
pub(crate) async fn root(a: &TestApp) -> String {
    superuser(a, "root");
    a.access_for("root").await
}
