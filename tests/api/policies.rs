//! Truth tables of the permission classes, through a downstream application built on
//! keyward's library surface (`Keyward::start` + `register`), on a real port.

use std::sync::Arc;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use keyward::auth::{
    AllowAny, Allowed, IsAdminUser, IsAuthenticated, IsAuthenticatedOrReadOnly, Model,
    ModelPermissions, Policy, RequirePermissions,
};
use keyward::clock::Clock;
use keyward::startup::Keyward;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, UserFlags, test_database, test_settings};

struct Report;
impl Model for Report {
    const APP: &'static str = "reports";
    const NAME: &'static str = "report";
}
keyward::permission_list!(ViewAndExport = ["reports.view_report", "reports.export_report"]);

async fn allowed<P: Policy>(_: Allowed<P>) -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn route<P: Policy>(cfg: &mut web::ServiceConfig, path: &str) {
    cfg.route(path, web::route().to(allowed::<P>));
}

struct PolicyApp {
    base: String,
    client: reqwest::Client,
    keyward: Keyward,
    _db: crate::helpers::TestDb,
}

async fn spawn_policy_app() -> PolicyApp {
    let (db, url) = test_database();
    let settings = test_settings(url);
    let keyward = Keyward::start(&settings, Clock::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let state = keyward.clone();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(keyward::api::add_challenge))
            .configure(|cfg| state.register(cfg))
            .configure(state.api())
            .configure(|cfg| {
                route::<AllowAny>(cfg, "/any");
                route::<IsAuthenticated>(cfg, "/authenticated");
                route::<IsAdminUser>(cfg, "/admin");
                route::<IsAuthenticatedOrReadOnly>(cfg, "/read-only");
                route::<ModelPermissions<Report>>(cfg, "/reports");
                route::<RequirePermissions<ViewAndExport>>(cfg, "/export");
            })
    })
    .workers(2)
    .bind("127.0.0.1:0")
    .unwrap_or_else(|e| panic!("{e}"));
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    PolicyApp {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        keyward,
        _db: db,
    }
}

/// The callers of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Inactive,
    Regular,
    Staff,
    SuperuserWithoutStaffFlag,
    GroupViewer,
    DirectViewer,
    ViewerAndExporter,
}

const EVERYONE: [Who; 8] = [
    Who::Anonymous,
    Who::Inactive,
    Who::Regular,
    Who::Staff,
    Who::SuperuserWithoutStaffFlag,
    Who::GroupViewer,
    Who::DirectViewer,
    Who::ViewerAndExporter,
];

impl PolicyApp {
    /// Creates each caller and returns their access tokens.
    async fn tokens(&self) -> Arc<Vec<(Who, Option<String>)>> {
        let pool = self.keyward.pool();
        let mut conn = pool.get().unwrap_or_else(|e| panic!("{e}"));
        let mut helpers = crate::helpers::Seeder { conn: &mut conn };
        let mut out = Vec::new();
        let mut inactive_id = 0;
        helpers.exec("INSERT INTO permissions (codename, name) VALUES ('reports.view_report', 'Can view report'), ('reports.add_report', 'Can add report'), ('reports.export_report', 'Can export report')");
        helpers.exec("INSERT INTO groups (name) VALUES ('viewers')");
        helpers.exec("INSERT INTO group_permissions (group_id, permission_id) SELECT g.id, p.id FROM groups g, permissions p WHERE g.name = 'viewers' AND p.codename = 'reports.view_report'");
        for who in EVERYONE {
            if who == Who::Anonymous {
                out.push((who, None));
                continue;
            }
            let flags = match who {
                Who::Staff => UserFlags {
                    staff: true,
                    ..UserFlags::default()
                },
                Who::SuperuserWithoutStaffFlag => UserFlags {
                    superuser: true,
                    ..UserFlags::default()
                },
                _ => UserFlags::default(),
            };
            let name = format!("{who:?}").to_lowercase();
            let id = helpers.user(&name, flags);
            match who {
                Who::GroupViewer => helpers.exec(&format!("INSERT INTO user_groups (user_id, group_id) SELECT {id}, id FROM groups WHERE name = 'viewers'")),
                Who::DirectViewer => helpers.grant(id, "reports.view_report"),
                Who::ViewerAndExporter => {
                    helpers.grant(id, "reports.view_report");
                    helpers.grant(id, "reports.export_report");
                }
                _ => {}
            }
            if who == Who::Inactive {
                inactive_id = id;
            }
            out.push((who, Some(self.token_for(&name).await)));
        }
        let superuser = out
            .iter()
            .find(|(w, _)| *w == Who::SuperuserWithoutStaffFlag)
            .and_then(|(_, t)| t.clone());
        self.deactivate(inactive_id, &superuser.unwrap_or_default())
            .await;
        Arc::new(out)
    }

    /// An access token for a user created active.
    async fn token_for(&self, name: &str) -> String {
        let response = self
            .client
            .post(format!("{}/api/token/", self.base))
            .json(&serde_json::json!({"username": name, "password": PASSWORD}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        body["access"]
            .as_str()
            .unwrap_or_else(|| panic!("no token for {name}: {body}"))
            .to_owned()
    }

    /// Deactivates a user through the admin API, as a superuser would.
    async fn deactivate(&self, id: i64, superuser_token: &str) {
        let response = self
            .client
            .patch(format!("{}/api/users/{id}/", self.base))
            .bearer_auth(superuser_token)
            .json(&serde_json::json!({"is_active": false}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), StatusCode::OK, "deactivation failed");
    }

    async fn status(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> StatusCode {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .status()
    }
}

/// Runs one policy's table: `expect(who, is_safe_method)` gives the status.
async fn check_table(
    app: &PolicyApp,
    tokens: &[(Who, Option<String>)],
    path: &str,
    expect: impl Fn(Who, bool) -> u16,
) {
    for (who, token) in tokens {
        for (method, safe) in [(reqwest::Method::GET, true), (reqwest::Method::POST, false)] {
            let got = app.status(method.clone(), path, token.as_deref()).await;
            let want = if *who == Who::Inactive {
                401
            } else {
                expect(*who, safe)
            };
            assert_eq!(got.as_u16(), want, "{path} {method} as {who:?}");
        }
    }
}

#[actix_web::test]
async fn each_permission_class_answers_as_drf_for_every_kind_of_caller() {
    let app = spawn_policy_app().await;
    let tokens = app.tokens().await;
    use Who::*;
    check_table(&app, &tokens, "/any", |_, _| 200).await;
    check_table(&app, &tokens, "/authenticated", |who, _| {
        if who == Anonymous { 401 } else { 200 }
    })
    .await;
    check_table(&app, &tokens, "/admin", |who, _| match who {
        Anonymous => 401,
        Staff => 200,
        _ => 403,
    })
    .await;
    check_table(&app, &tokens, "/read-only", |who, safe| {
        if who == Anonymous && !safe { 401 } else { 200 }
    })
    .await;
    check_table(&app, &tokens, "/reports", |who, safe| match (who, safe) {
        (Anonymous, _) => 401,
        (SuperuserWithoutStaffFlag, _) => 200,
        (GroupViewer | DirectViewer | ViewerAndExporter, true) => 200,
        _ => 403,
    })
    .await;
    check_table(&app, &tokens, "/export", |who, _| match who {
        Anonymous => 401,
        SuperuserWithoutStaffFlag | ViewerAndExporter => 200,
        _ => 403,
    })
    .await;
}

#[actix_web::test]
async fn a_model_permission_route_refuses_unknown_methods_with_405() {
    let app = spawn_policy_app().await;
    let tokens = app.tokens().await;
    let token = tokens
        .iter()
        .find(|(w, _)| *w == Who::DirectViewer)
        .and_then(|(_, t)| t.clone());
    let status = app
        .status(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap_or(reqwest::Method::GET),
            "/reports",
            token.as_deref(),
        )
        .await;
    assert_eq!(status.as_u16(), 405);
}
