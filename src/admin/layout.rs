//! What every console page shares: the layout (title, navigation, user, CSRF token, flash) and
//! the pager.

use time::PrimitiveDateTime;
use time::macros::format_description;

use super::form::encode;
use super::session::ConsoleSession;

/// Which sections the signed-in user may open.
#[derive(Debug, Clone, Copy)]
pub struct Nav {
    pub users: bool,
    pub groups: bool,
    pub permissions: bool,
    pub tokens: bool,
    pub locks: bool,
    pub events: bool,
}

pub struct Layout {
    /// The console's mount (`/admin`): every link of the page starts with it.
    pub root: String,
    pub title: String,
    pub section: &'static str,
    pub username: String,
    pub csrf: String,
    pub flash: Option<String>,
    pub nav: Nav,
}

impl Layout {
    /// The layout of a page; takes (and clears) the session's flash message.
    pub async fn new(
        session: &ConsoleSession,
        title: impl Into<String>,
        section: &'static str,
    ) -> Self {
        Self {
            root: session.root.clone(),
            title: title.into(),
            section,
            username: session.user.username.clone(),
            csrf: session.csrf().to_owned(),
            flash: session.take_flash().await,
            nav: Nav {
                users: session.can("auth.view_user"),
                groups: session.can("auth.view_group"),
                permissions: session.can("auth.view_permission"),
                tokens: session.can("token_blacklist.view_outstandingtoken"),
                locks: session.can("auth.change_user"),
                events: session.can(super::events::VIEW),
            },
        }
    }
}

/// Links between pages of a list.
pub struct Pager {
    pub number: i64,
    pub pages: i64,
    pub previous: Option<String>,
    pub next: Option<String>,
}

pub const PAGE_SIZE: i64 = 25;

impl Pager {
    /// `params` are the list's other query parameters, kept in the links.
    pub fn new(path: &str, params: &[(&str, String)], number: i64, total: i64) -> Self {
        let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
        let link = |n: i64| {
            let mut query: Vec<String> = params
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect();
            query.push(format!("page={n}"));
            format!("{path}?{}", query.join("&"))
        };
        Self {
            number,
            pages,
            previous: (number > 1).then(|| link(number - 1)),
            next: (number < pages).then(|| link(number + 1)),
        }
    }
}

/// The 1-based page number of `?page=`, 1 when absent or bad.
pub fn page_number(raw: &str) -> i64 {
    raw.parse::<i64>().ok().filter(|n| *n >= 1).unwrap_or(1)
}

/// `2026-12-01T07:00` (or with seconds) from a `datetime-local` input, as UTC.
pub fn local_time(value: &str) -> Option<PrimitiveDateTime> {
    let long = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let short = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    PrimitiveDateTime::parse(value, long)
        .or_else(|_| PrimitiveDateTime::parse(value, short))
        .ok()
}

/// `2026-12-01 07:12 UTC`.
pub fn show_time(t: PrimitiveDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC"
    ))
    .unwrap_or_default()
}

/// Per-field messages of a form.
#[derive(Debug, Default)]
pub struct Errors(pub std::collections::BTreeMap<String, Vec<String>>);

impl Errors {
    pub fn of(&self, field: &str) -> Option<&Vec<String>> {
        self.0.get(field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These errors, where each field named in `first` shows only its errors from `first`.
    pub fn overridden_by(mut self, first: Errors) -> Self {
        self.0.extend(first.0);
        self
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }
}

/// One `<option>` of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Options from (value, label) pairs, with `current` selected.
pub fn choices(options: &[(&str, &str)], current: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(v, l)| Choice {
            value: (*v).to_owned(),
            label: (*l).to_owned(),
            selected: *v == current,
        })
        .collect()
}
