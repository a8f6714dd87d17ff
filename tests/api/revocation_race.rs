//! A revocation is in force on this instance when its answer arrives: the answer to a
//! deactivation, a password set by an admin (API or console), a user's own password change or
//! the console's "revoke all tokens" goes out only once the in-memory revocation list holds the
//! user's refresh tokens. Requests racing right behind the answer are refused, every time, also
//! while the thread that keeps the revocation list is busy with other traffic.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::{join, join_all};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console_client::{ConsoleClient, superuser};
use crate::helpers::{PASSWORD, TestApp, spawn_app_with};

const ITERATIONS: usize = 200;
/// Requests of each kind (refresh, verify) fired at once right behind each answer.
const RACERS: usize = 4;
/// Concurrent loops of ordinary traffic while the revocations run.
const LOAD: usize = 8;
const OTHER_PASSWORD: &str = "orchard-lantern-58";

/// Only the revocation list stands between a revoked refresh token and success: no rotation
/// (whose database transaction would refuse it too), no stamp and no active check.
async fn race_app() -> TestApp {
    spawn_app_with(|s| {
        s.rotate_refresh_tokens = false;
        s.check_revoke_token = false;
        s.check_user_is_active = false;
    })
    .await
}

/// The revoking client. It runs on its own thread with its own connections: the test's
/// thread also runs the server's actors, and a client sharing it would let them finish
/// their work before it could read an answer.
struct Revoker {
    client: reqwest::Client,
    base: String,
    admin: String,
    victim: i64,
    console_session: String,
    console_csrf: String,
}

impl Revoker {
    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("racing client: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, bearer: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    async fn patch_victim(&self, body: &Value) -> StatusCode {
        let url = format!("{}/api/users/{}/", self.base, self.victim);
        let request = self.client.patch(url).bearer_auth(&self.admin).json(body);
        self.send(request).await.0
    }

    async fn console(&self, action: &str, fields: &[(&str, &str)]) -> StatusCode {
        let url = format!("{}/admin/users/{}/{action}/", self.base, self.victim);
        let mut form = vec![("csrf_token", self.console_csrf.as_str())];
        form.extend_from_slice(fields);
        let request = self
            .client
            .post(url)
            .header(
                "cookie",
                format!("keyward_session={}", self.console_session),
            )
            .form(&form);
        self.send(request).await.0
    }

    async fn login(&self, password: &str) -> (String, String) {
        let body = json!({"username": "victim", "password": password});
        let (status, body) = self.post("/api/token/", None, &body).await;
        assert_eq!(status, StatusCode::OK, "login: {body}");
        let text = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
        (text("refresh"), text("access"))
    }

    /// One revocation by the `i`th way; returns its name and the password afterwards.
    async fn revoke(&self, i: usize, access: &str, password: &str) -> (&'static str, String) {
        let next = if password == PASSWORD {
            OTHER_PASSWORD
        } else {
            PASSWORD
        };
        let (name, status, expected, password) = match i % 5 {
            0 => {
                let status = self.patch_victim(&json!({"is_active": false})).await;
                ("API deactivation", status, StatusCode::OK, password)
            }
            1 => {
                let status = self.patch_victim(&json!({"password": next})).await;
                ("API password set", status, StatusCode::OK, next)
            }
            2 => {
                let body = json!({"current_password": password, "new_password": next});
                let (status, _) = self.post("/api/me/password/", Some(access), &body).await;
                ("own password change", status, StatusCode::OK, next)
            }
            3 => {
                let fields = [("password1", next), ("password2", next)];
                let status = self.console("password", &fields).await;
                ("console password set", status, StatusCode::SEE_OTHER, next)
            }
            _ => {
                let status = self.console("revoke-tokens", &[]).await;
                (
                    "console revoke all",
                    status,
                    StatusCode::SEE_OTHER,
                    password,
                )
            }
        };
        assert_eq!(status, expected, "{i}: {name}");
        (name, password.to_owned())
    }

    /// Fires the racing refreshes and verifications of `refresh` at once; returns those not
    /// refused as blacklisted, with their status.
    async fn race(&self, refresh: &str) -> Vec<String> {
        let body = json!({"refresh": refresh});
        let refreshes = (0..RACERS).map(|_| self.post("/api/token/refresh/", None, &body));
        let body = json!({"token": refresh});
        let verifies = (0..RACERS).map(|_| self.post("/api/token/verify/", None, &body));
        let (refreshed, verified) = join(join_all(refreshes), join_all(verifies)).await;
        let blacklisted = json!({"detail": "Token is blacklisted", "code": "token_not_valid"});
        let kinds =
            std::iter::repeat_n("refresh", RACERS).chain(std::iter::repeat_n("verify", RACERS));
        kinds
            .zip(refreshed.into_iter().chain(verified))
            .filter(|(_, (status, body))| {
                (*status, body) != (StatusCode::UNAUTHORIZED, &blacklisted)
            })
            .map(|(kind, (status, _))| format!("{kind} {status}"))
            .collect()
    }

    /// Every iteration: a fresh login, a revocation, the race. Returns the leaks.
    async fn run(self) -> Vec<String> {
        let mut password = PASSWORD.to_owned();
        let mut leaks = Vec::new();
        for i in 0..ITERATIONS {
            let (refresh, access) = self.login(&password).await;
            let (name, now) = self.revoke(i, &access, &password).await;
            password = now;
            let through = self.race(&refresh).await;
            if !through.is_empty() {
                leaks.push(format!("iteration {i} ({name}): {}", through.join(", ")));
            }
            if i % 5 == 0 {
                let status = self.patch_victim(&json!({"is_active": true})).await;
                assert_eq!(status, StatusCode::OK, "{i}: reactivate");
            }
        }
        leaks
    }
}

/// Ordinary traffic from the test's thread until `stop`: a user reading their account.
async fn load(app: &TestApp, access: &str, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let status = app.me(access).await.status();
        assert_eq!(status, StatusCode::OK, "background traffic");
    }
}

/// Ends the background traffic when the revoking client is done, also when it panicked.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[actix_web::test]
async fn no_request_racing_behind_a_revocations_answer_gets_through() {
    let app = race_app().await;
    superuser(&app, "root");
    app.create_user("busy");
    let victim = app.create_user("victim");
    let busy = app.access_for("busy").await;
    let console = ConsoleClient::signed_in(&app, "root").await;
    let revoker = Revoker {
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|e| panic!("client: {e}")),
        base: app.address.clone(),
        admin: app.access_for("root").await,
        victim,
        console_session: console
            .cookie("keyward_session")
            .unwrap_or_else(|| panic!("no console session")),
        console_csrf: console.csrf().to_owned(),
    };

    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let _stop = StopOnDrop(stop);
            actix_web::rt::System::new().block_on(revoker.run())
        })
    };
    let finished = actix_web::rt::task::spawn_blocking(move || thread.join());
    let traffic = join_all((0..LOAD).map(|_| load(&app, &busy, &stop)));
    let (leaks, _) = join(finished, traffic).await;
    let leaks = leaks
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|_| panic!("the revoking client panicked"));
    assert!(
        leaks.is_empty(),
        "{} of {ITERATIONS} revocations let a racing request through:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
