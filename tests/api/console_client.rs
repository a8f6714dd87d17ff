//! A browser-less client of the admin console: its own cookie jar, the sign-in dance with the
//! login CSRF cookie, form posts with the session's CSRF token, and the few bits of HTML the
//! console tests read (hidden fields, element text by id, links). Also the database look-ups
//! those tests use to check that a refused form changed nothing.

use std::collections::BTreeMap;

use diesel::prelude::*;
use keyward::db::models::group::{self, Group};
use keyward::db::models::permission::{self, Permission};
use keyward::db::models::user::{self, Memberships, User};
use keyward::db::schema::{admin_sessions, blacklisted_tokens, outstanding_tokens};
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, Seeder, TestApp, UserFlags};
use crate::tokens::claims_of;

/// The sign-in page's answer to a wrong password and to a non-staff account alike.
pub const BAD_CREDENTIALS: &str = "Please enter the correct username and password for a staff account. Note that both fields may be case-sensitive.";

/// The title of the console's 403 page for a form without the session's token.
pub const CSRF_FAILED: &str = "CSRF verification failed";

/// One console response, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    /// Every `Set-Cookie` header, as sent.
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let set_cookies = headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        let body = response.text().await.unwrap_or_default();
        Self {
            status,
            location,
            set_cookies,
            headers,
            body,
        }
    }

    /// The value of a response header.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Whether the body contains `needle`.
    pub fn has(&self, needle: &str) -> bool {
        self.body.contains(needle)
    }

    /// The `Set-Cookie` header that sets or removes `name`.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&prefix))
            .map(String::as_str)
    }

    /// The value of every `<input ... name="{name}" value="...">`, in page order.
    pub fn input_values(&self, name: &str) -> Vec<String> {
        let marker = format!("name=\"{name}\" value=\"");
        self.body
            .match_indices(&marker)
            .map(|(at, _)| {
                let rest = &self.body[at + marker.len()..];
                unescape(&rest[..rest.find('"').unwrap_or(rest.len())])
            })
            .collect()
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        self.input_values("csrf_token")
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no csrf_token field in page: {}", self.body))
    }

    /// The text inside the element with this id, up to its first child tag.
    pub fn text_of(&self, id: &str) -> Option<String> {
        let marker = format!("id=\"{id}\"");
        let at = self.body.find(&marker)?;
        let rest = &self.body[at..];
        let start = rest.find('>')? + 1;
        let len = rest[start..].find('<')?;
        Some(unescape(rest[start..start + len].trim()))
    }

    /// The number shown in the element with this id (dashboard figures).
    pub fn number_of(&self, id: &str) -> i64 {
        self.text_of(id)
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("no number in #{id}: {}", self.body))
    }

    /// The `href` of the `<a ... rel="{rel}">` link.
    pub fn link(&self, rel: &str) -> Option<String> {
        let marker = format!("rel=\"{rel}\"");
        let at = self.body.find(&marker)?;
        let tag_start = self.body[..at].rfind("<a ")?;
        let tag = &self.body[tag_start..at];
        let href = tag.split("href=\"").nth(1)?;
        Some(unescape(&href[..href.find('"')?]))
    }

    /// Whether the page carries a link to `href`.
    pub fn links_to(&self, href: &str) -> bool {
        self.body.contains(&format!("href=\"{href}\""))
    }

    /// Asserts the console's 403 page for a form without the session's token.
    pub fn assert_csrf_refused(&self, case: &str) {
        assert_eq!(self.status, StatusCode::FORBIDDEN, "{case}: {}", self.body);
        assert!(self.has(CSRF_FAILED), "{case}: {}", self.body);
    }

    /// Asserts a 303 to the sign-in page (any `next`).
    pub fn assert_login_required(&self, case: &str) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{case}: {}", self.body);
        let location = self.location.as_deref().unwrap_or_default();
        assert!(
            location.starts_with("/admin/login/?next="),
            "{case}: redirected to {location:?}"
        );
    }

    /// Asserts a 303 to exactly `to`.
    pub fn assert_redirect(&self, to: &str, case: &str) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{case}: {}", self.body);
        assert_eq!(self.location.as_deref(), Some(to), "{case}");
    }
}

/// Undoes askama's HTML escaping.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The `name=value` part of a `Set-Cookie` header, or `None` for a removal.
fn cookie_pair(header: &str) -> (String, Option<String>) {
    let mut parts = header.split(';').map(str::trim);
    let (name, value) = parts
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .unwrap_or_default();
    let removed = value.is_empty() || parts.any(|a| a.eq_ignore_ascii_case("max-age=0"));
    (name, (!removed).then_some(value))
}

/// A browser tab on the console: cookies kept between requests, redirects not followed.
pub struct ConsoleClient<'a> {
    pub app: &'a TestApp,
    jar: BTreeMap<String, String>,
    csrf: String,
}

impl<'a> ConsoleClient<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            jar: BTreeMap::new(),
            csrf: String::new(),
        }
    }

    /// A client signed in as `username` with [`PASSWORD`]; panics unless sign-in succeeds.
    pub async fn signed_in(app: &'a TestApp, username: &str) -> Self {
        let mut client = Self::new(app);
        let page = client.sign_in(username, PASSWORD, "/admin/").await;
        page.assert_redirect("/admin/", &format!("sign-in of {username}"));
        client
    }

    /// The whole sign-in: GET the form (login CSRF cookie and field), POST it. On success the
    /// session's CSRF token is read from the dashboard for later [`Self::submit`] calls.
    /// The form is fetched as if opened before any current session (a signed-in browser is
    /// sent on from the sign-in page); the POST carries every cookie of the jar.
    pub async fn sign_in(&mut self, username: &str, password: &str, next: &str) -> Page {
        let session = self.jar.remove("keyward_session");
        let form = self.get("/admin/login/").await;
        if let Some(session) = session {
            self.jar.insert("keyward_session".to_owned(), session);
        }
        assert_eq!(form.status, StatusCode::OK, "sign-in form: {}", form.body);
        let csrf = form.csrf();
        let page = self
            .post(
                "/admin/login/",
                &[
                    ("csrf_token", &csrf),
                    ("username", username),
                    ("password", password),
                    ("next", next),
                ],
            )
            .await;
        if page.status == StatusCode::SEE_OTHER && self.cookie("keyward_session").is_some() {
            self.refresh_csrf().await;
        }
        page
    }

    /// Reads the session's CSRF token again (from the dashboard).
    pub async fn refresh_csrf(&mut self) {
        let dashboard = self.get("/admin/").await;
        assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
        self.csrf = dashboard.csrf();
    }

    /// The session's CSRF token, as read after sign-in.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.get(name).cloned()
    }

    /// Puts a cookie in the jar (`None` removes it), as a browser holding it would send it.
    pub fn set_cookie(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(v) => self.jar.insert(name.to_owned(), v.to_owned()),
            None => self.jar.remove(name),
        };
    }

    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder, what: &str) -> Page {
        let request = if self.jar.is_empty() {
            request
        } else {
            request.header("cookie", self.cookie_header())
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let page = Page::read(response).await;
        for header in &page.set_cookies {
            let (name, value) = cookie_pair(header);
            self.set_cookie(&name, value.as_deref());
        }
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.app.client.get(self.app.url(path));
        self.send(request, &format!("GET {path}")).await
    }

    /// POSTs exactly these fields (names may repeat).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let request = self.app.client.post(self.app.url(path)).form(fields);
        self.send(request, &format!("POST {path}")).await
    }

    /// POSTs these fields plus the session's CSRF token, as the console's forms do.
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }
}

/// An active staff member with [`PASSWORD`] and these permissions (granted directly).
pub fn staff_with(app: &TestApp, username: &str, permissions: &[&str]) -> i64 {
    let flags = UserFlags {
        staff: true,
        ..UserFlags::default()
    };
    let id = app.create_user_with(username, PASSWORD, flags);
    app.with_db(|conn| {
        let mut seeder = Seeder { conn };
        for codename in permissions {
            seeder.grant(id, codename);
        }
    });
    id
}

/// An active staff superuser with [`PASSWORD`].
pub fn superuser(app: &TestApp, username: &str) -> i64 {
    let flags = UserFlags {
        active: true,
        staff: true,
        superuser: true,
    };
    app.create_user_with(username, PASSWORD, flags)
}

/// A user row as stored now (bypassing every cache).
pub fn user_row(app: &TestApp, id: i64) -> Option<User> {
    app.with_db(|conn| user::find(conn, id))
        .unwrap_or_else(|e| panic!("user {id}: {e}"))
}

pub fn user_named(app: &TestApp, username: &str) -> Option<User> {
    app.with_db(|conn| user::find_by_username(conn, username))
        .unwrap_or_else(|e| panic!("user {username}: {e}"))
}

/// Groups and effective permissions of a user, as stored now.
pub fn memberships(app: &TestApp, id: i64) -> Memberships {
    app.with_db(|conn| user::memberships(conn, id))
        .unwrap_or_else(|e| panic!("memberships of {id}: {e}"))
}

pub fn group_named(app: &TestApp, name: &str) -> Option<Group> {
    app.with_db(|conn| group::by_names(conn, &[name.to_owned()]))
        .unwrap_or_else(|e| panic!("group {name}: {e}"))
        .pop()
}

/// The codenames a group grants, sorted.
pub fn group_permissions(app: &TestApp, id: i64) -> Vec<String> {
    let mut codenames: Vec<String> = app
        .with_db(|conn| group::permissions_of(conn, &[id]))
        .unwrap_or_else(|e| panic!("permissions of group {id}: {e}"))
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    codenames.sort();
    codenames
}

pub fn permission_named(app: &TestApp, codename: &str) -> Option<Permission> {
    app.with_db(|conn| permission::by_codenames(conn, &[codename.to_owned()]))
        .unwrap_or_else(|e| panic!("permission {codename}: {e}"))
        .pop()
}

/// Creates a group straight in the database; returns its id.
pub fn seed_group(app: &TestApp, name: &str) -> i64 {
    app.with_db(|conn| group::insert(conn, name))
        .unwrap_or_else(|e| panic!("group {name}: {e}"))
        .id
}

/// The outstanding-token id of a refresh token (by its jti).
pub fn token_id(app: &TestApp, refresh: &str) -> i64 {
    let jti = claims_of(refresh)["jti"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.with_db(|conn| {
        keyward::with_conn!(conn, c => outstanding_tokens::table
            .filter(outstanding_tokens::jti.eq(&jti))
            .select(outstanding_tokens::id)
            .first::<i64>(c))
    })
    .unwrap_or_else(|e| panic!("outstanding token {jti}: {e}"))
}

/// Whether the outstanding token with this id is on the blacklist (in the database).
pub fn is_blacklisted(app: &TestApp, id: i64) -> bool {
    let count: i64 = app
        .with_db(|conn| {
            keyward::with_conn!(conn, c => blacklisted_tokens::table
                .filter(blacklisted_tokens::token_id.eq(id))
                .count()
                .get_result(c))
        })
        .unwrap_or_else(|e| panic!("blacklist of {id}: {e}"));
    count > 0
}

/// How many console sessions are stored.
pub fn session_count(app: &TestApp) -> i64 {
    app.with_db(|conn| keyward::with_conn!(conn, c => admin_sessions::table.count().get_result(c)))
        .unwrap_or_else(|e| panic!("sessions: {e}"))
}
