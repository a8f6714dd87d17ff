//! Console pages for users: list with search, filters, sorting and pages; add; edit (with the
//! user's live sessions); set password; revoke all tokens; delete. Every action goes through the user manager with the
//! acting admin, so its escalation rules apply here as in the REST API.

use actix::Addr;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::error::{ConsoleError, render};
use super::form::{self, Form, path_id};
use super::layout::{Choice, Errors, Layout, PAGE_SIZE, Pager, choices, page_number, show_time};
use super::session::ConsoleSession;
use super::token_sessions::{self, SessionSource, SessionsPanel};
use crate::actors::ASK_TIMEOUT;
use crate::actors::group_admin::{ListGroups, ListPermissions};
use crate::actors::session_store::SessionStore;
use crate::actors::token_blacklist::{Remember, TokenBlacklist};
use crate::actors::user_admin::{
    CreateUser, GetUser, ListUsers, UpdateUser, UserInput, UserRecord,
};
use crate::actors::user_manager::{UserError, UserManager};
use crate::api::{
    INVALID_EMAIL, INVALID_USERNAME, PasswordRules, SessionPolicy, valid_email, valid_username,
};
use crate::audit::detail::{user_summary, user_update_events};
use crate::audit::{Audit, EventKind};
use crate::auth::policy;
use crate::clock::Clock;
use crate::db::models::Page;
use crate::db::models::user::{User, UserFilter, UserOrdering};
use crate::validation::normalize_username;

/// A user row as the list shows it.
pub struct UserLine {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub last_login: Option<String>,
}

impl From<User> for UserLine {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            is_active: u.is_active,
            is_staff: u.is_staff,
            is_superuser: u.is_superuser,
            last_login: u.last_login.map(show_time),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    layout: Layout,
    users: Vec<UserLine>,
    total: i64,
    q: String,
    is_active_choices: Vec<Choice>,
    is_staff_choices: Vec<Choice>,
    is_superuser_choices: Vec<Choice>,
    group_choices: Vec<Choice>,
    ordering_choices: Vec<Choice>,
    can_add: bool,
    pager: Pager,
}

/// The values a user form shows.
#[derive(Default)]
pub struct UserFormValues {
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
}

#[derive(Template)]
#[template(path = "admin/user_form.html")]
struct FormPage {
    layout: Layout,
    editing: bool,
    id: i64,
    form: UserFormValues,
    errors: Errors,
    group_choices: Vec<(String, bool)>,
    permission_choices: Vec<(String, String, bool)>,
    acting_superuser: bool,
    can_change: bool,
    can_delete: bool,
    date_joined: String,
    last_login: Option<String>,
    sessions: SessionsPanel,
}

const TRI: &[(&str, &str)] = &[("", "any"), ("1", "yes"), ("0", "no")];
const ORDERINGS: &[(&str, &str)] = &[
    ("username", "username"),
    ("-date_joined", "newest first"),
    ("date_joined", "oldest first"),
    ("-last_login", "recent sign-in first"),
    ("email", "email"),
];

fn tri(value: &str) -> Option<bool> {
    match value {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

pub fn see_other(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location.into()))
        .finish()
}

/// **Permissions:** `auth.view_user`.
pub async fn list(
    req: HttpRequest,
    session: ConsoleSession,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ConsoleError> {
    session.require("auth.view_user")?;
    let query = Form::list_query(req.query_string())?;
    let (q, active, staff, superuser, group) = (
        query.text("q"),
        query.text("is_active"),
        query.text("is_staff"),
        query.text("is_superuser"),
        query.text("group"),
    );
    let ordering = match query.text("o") {
        o if ORDERINGS.iter().any(|(v, _)| *v == o) => o,
        _ => "username".to_owned(),
    };
    let number = page_number(&query.text("page"));
    let filter = UserFilter {
        search: Some(q.clone()).filter(|s| !s.is_empty()),
        username: None,
        is_active: tri(&active),
        is_staff: tri(&staff),
        is_superuser: tri(&superuser),
        group: Some(group.clone()).filter(|s| !s.is_empty()),
        ordering: UserOrdering::parse(&ordering).unwrap_or_default(),
    };
    let page = Page {
        offset: (number - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
    };
    let (records, total) = users
        .send(ListUsers {
            by: session.acting()?,
            filter,
            page,
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    let groups = all_groups(&session, &users).await?;
    let params = [
        ("q", q.clone()),
        ("is_active", active.clone()),
        ("is_staff", staff.clone()),
        ("is_superuser", superuser.clone()),
        ("group", group.clone()),
        ("o", ordering.clone()),
    ];
    let pager = Pager::new(&session.url("/users/"), &params, number, total);
    let page = ListPage {
        layout: Layout::new(&session, "Users", "users").await,
        users: records
            .into_iter()
            .map(|r| UserLine::from(r.user))
            .collect(),
        total,
        q,
        is_active_choices: choices(TRI, &active),
        is_staff_choices: choices(TRI, &staff),
        is_superuser_choices: choices(TRI, &superuser),
        group_choices: std::iter::once(Choice {
            value: String::new(),
            label: "any".into(),
            selected: group.is_empty(),
        })
        .chain(groups.into_iter().map(|g| Choice {
            selected: g == group,
            label: g.clone(),
            value: g,
        }))
        .collect(),
        ordering_choices: choices(ORDERINGS, &ordering),
        can_add: session.can("auth.add_user"),
        pager,
    };
    Ok(render(StatusCode::OK, &page))
}

async fn all_groups(
    session: &ConsoleSession,
    users: &Addr<UserManager>,
) -> Result<Vec<String>, ConsoleError> {
    let message = ListGroups {
        by: session.acting()?,
        search: None,
        page: Page {
            offset: 0,
            limit: 1000,
        },
    };
    let (groups, _) = users.send(message).timeout(ASK_TIMEOUT).await??;
    Ok(groups.into_iter().map(|g| g.group.name).collect())
}

async fn all_permissions(
    session: &ConsoleSession,
    users: &Addr<UserManager>,
) -> Result<Vec<(String, String)>, ConsoleError> {
    let message = ListPermissions {
        by: session.acting()?,
        search: None,
        page: Page {
            offset: 0,
            limit: 1000,
        },
    };
    let (perms, _) = users.send(message).timeout(ASK_TIMEOUT).await??;
    Ok(perms.into_iter().map(|p| (p.codename, p.name)).collect())
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    session: &ConsoleSession,
    users: &Addr<UserManager>,
    record: Option<&UserRecord>,
    form: UserFormValues,
    chosen_groups: &[String],
    chosen_perms: &[String],
    errors: Errors,
    status: StatusCode,
    sessions: SessionsPanel,
) -> Result<HttpResponse, ConsoleError> {
    let group_choices = all_groups(session, users)
        .await?
        .into_iter()
        .map(|g| {
            let on = chosen_groups.contains(&g);
            (g, on)
        })
        .collect();
    let permission_choices = all_permissions(session, users)
        .await?
        .into_iter()
        .map(|(c, n)| {
            let on = chosen_perms.contains(&c);
            (c, n, on)
        })
        .collect();
    let title = record.map_or("Add user".to_owned(), |r| {
        format!("User {}", r.user.username)
    });
    let page = FormPage {
        layout: Layout::new(session, title, "users").await,
        editing: record.is_some(),
        id: record.map_or(0, |r| r.user.id),
        form,
        errors,
        group_choices,
        permission_choices,
        acting_superuser: session.user.is_superuser,
        can_change: if record.is_some() {
            session.can("auth.change_user")
        } else {
            session.can("auth.add_user")
        },
        can_delete: session.can("auth.delete_user"),
        date_joined: record
            .map(|r| show_time(r.user.date_joined))
            .unwrap_or_default(),
        last_login: record.and_then(|r| r.user.last_login.map(show_time)),
        sessions,
    };
    Ok(render(status, &page))
}

fn values_of(record: &UserRecord) -> UserFormValues {
    let u = &record.user;
    UserFormValues {
        username: u.username.clone(),
        email: u.email.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        is_active: u.is_active,
        is_staff: u.is_staff,
        is_superuser: u.is_superuser,
    }
}

/// Reads and checks a submitted user form.
fn read_form(
    form: &Form,
    session: &ConsoleSession,
    creating: bool,
    rules: &PasswordRules,
) -> (UserFormValues, UserInput, Errors) {
    let values = UserFormValues {
        username: normalize_username(&form.text("username")),
        email: form.text("email").to_lowercase(),
        first_name: form.text("first_name"),
        last_name: form.text("last_name"),
        is_active: form.checked("is_active"),
        is_staff: form.checked("is_staff"),
        is_superuser: form.checked("is_superuser"),
    };
    let mut errors = Errors::default();
    let mut add = |field: &str, message: String| errors.add(field, message);
    if values.username.is_empty() {
        add("username", "This field is required.".into());
    } else if !valid_username(&values.username) {
        add("username", INVALID_USERNAME.into());
    }
    if !values.email.is_empty() && !valid_email(&values.email) {
        add("email", INVALID_EMAIL.into());
    }
    let password = form
        .raw("password")
        .filter(|p| creating && !p.is_empty())
        .map(str::to_owned);
    if let Some(password) = &password {
        for problem in
            policy::violations(password, &values.username, &values.email, rules.min_length)
        {
            add("password", problem);
        }
    }
    let input = UserInput {
        username: Some(values.username.clone()),
        email: Some(values.email.clone()),
        first_name: Some(values.first_name.clone()),
        last_name: Some(values.last_name.clone()),
        password,
        is_active: Some(values.is_active),
        is_staff: Some(values.is_staff),
        // A disabled checkbox is not submitted: only superusers send this field.
        is_superuser: session.user.is_superuser.then_some(values.is_superuser),
        groups: Some(form.all("groups")),
        user_permissions: Some(form.all("user_permissions")),
    };
    (values, input, errors.overridden_by(form.null_errors()))
}

/// The user at `id`, as the acting admin sees them.
pub(super) async fn user_of(
    session: &ConsoleSession,
    users: &Addr<UserManager>,
    id: i64,
) -> Result<UserRecord, ConsoleError> {
    Ok(users
        .send(GetUser {
            by: session.acting()?,
            id,
        })
        .timeout(ASK_TIMEOUT)
        .await??)
}

/// The "Sessions" section of a user's page.
async fn sessions_of(
    session: &ConsoleSession,
    source: SessionSource<'_>,
    record: &UserRecord,
) -> Result<SessionsPanel, ConsoleError> {
    token_sessions::panel(session, source, record.user.id, record.user.is_superuser).await
}

/// **Permissions:** `auth.add_user`.
pub async fn add_form(
    session: ConsoleSession,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ConsoleError> {
    session.require("auth.add_user")?;
    let form = UserFormValues {
        is_active: true,
        ..UserFormValues::default()
    };
    form_page(
        &session,
        &users,
        None,
        form,
        &[],
        &[],
        Errors::default(),
        StatusCode::OK,
        SessionsPanel::default(),
    )
    .await
}

/// **Permissions:** `auth.add_user`.
pub async fn add(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    rules: web::Data<PasswordRules>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form::read(body).await?;
    super::csrf::check(&form, session.csrf())?;
    session.require("auth.add_user")?;
    let (values, input, errors) = read_form(&form, &session, true, &rules);
    let (groups, perms) = (form.all("groups"), form.all("user_permissions"));
    if !errors.is_empty() {
        return form_page(
            &session,
            &users,
            None,
            values,
            &groups,
            &perms,
            errors,
            StatusCode::BAD_REQUEST,
            SessionsPanel::default(),
        )
        .await;
    }
    match users
        .send(CreateUser {
            by: session.acting()?,
            input,
            now: clock.now(),
        })
        .timeout(ASK_TIMEOUT)
        .await?
    {
        Ok(record) => {
            audit.record(
                super::audit::event(&req, &session, EventKind::UserCreated)
                    .subject(record.user.id, &record.user.username)
                    .detail(user_summary(&record)),
            );
            session
                .flash(format!("The user “{}” was added.", record.user.username))
                .await?;
            Ok(see_other(
                session.url(&format!("/users/{}/", record.user.id)),
            ))
        }
        Err(UserError::Invalid(errors)) => {
            form_page(
                &session,
                &users,
                None,
                values,
                &groups,
                &perms,
                Errors(errors),
                StatusCode::BAD_REQUEST,
                SessionsPanel::default(),
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// **Permissions:** `auth.view_user` (saving needs `auth.change_user`, as does ending the
/// user's sessions).
pub async fn edit_form(
    req: HttpRequest,
    session: ConsoleSession,
    users: web::Data<Addr<UserManager>>,
    store: web::Data<Addr<SessionStore>>,
    policy: web::Data<SessionPolicy>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    session.require("auth.view_user")?;
    let id = path_id(&req)?;
    let record = user_of(&session, &users, id).await?;
    let values = values_of(&record);
    let source = (&**store, &**policy, &**clock);
    let sessions = sessions_of(&session, source, &record).await?;
    form_page(
        &session,
        &users,
        Some(&record),
        values,
        &record.groups,
        &record.user_permissions,
        Errors::default(),
        StatusCode::OK,
        sessions,
    )
    .await
}

/// **Permissions:** `auth.change_user` (superuser for superuser accounts and the flag).
#[allow(clippy::too_many_arguments)]
pub async fn edit(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    rules: web::Data<PasswordRules>,
    store: web::Data<Addr<SessionStore>>,
    policy: web::Data<SessionPolicy>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form::read(body).await?;
    super::csrf::check(&form, session.csrf())?;
    session.require("auth.change_user")?;
    let id = path_id(&req)?;
    let record = user_of(&session, &users, id).await?;
    let (values, input, errors) = read_form(&form, &session, false, &rules);
    let (groups, perms) = (form.all("groups"), form.all("user_permissions"));
    let source = (&**store, &**policy, &**clock);
    if !errors.is_empty() {
        let sessions = sessions_of(&session, source, &record).await?;
        return form_page(
            &session,
            &users,
            Some(&record),
            values,
            &groups,
            &perms,
            errors,
            StatusCode::BAD_REQUEST,
            sessions,
        )
        .await;
    }
    match users
        .send(UpdateUser {
            by: session.acting()?,
            id,
            input,
            now: clock.now(),
        })
        .timeout(ASK_TIMEOUT)
        .await?
    {
        Ok((updated, revoked)) => {
            let event = |kind| super::audit::event(&req, &session, kind);
            for event in user_update_events(event, &record, &updated, false, revoked.tokens.len()) {
                audit.record(event);
            }
            let note = if revoked.is_empty() {
                String::new()
            } else {
                format!(" {} token(s) revoked.", revoked.tokens.len())
            };
            blacklist
                .send(Remember(revoked))
                .timeout(ASK_TIMEOUT)
                .await?;
            session
                .flash(format!(
                    "The user “{}” was changed.{note}",
                    updated.user.username
                ))
                .await?;
            Ok(see_other(session.url(&format!("/users/{id}/"))))
        }
        Err(UserError::Invalid(errors)) => {
            let sessions = sessions_of(&session, source, &record).await?;
            form_page(
                &session,
                &users,
                Some(&record),
                values,
                &groups,
                &perms,
                Errors(errors),
                StatusCode::BAD_REQUEST,
                sessions,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}
