//! `/api/users/`: user administration, guarded by model permissions on `auth.*_user`.

use actix::Addr;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use time::OffsetDateTime;

use super::body::{self, FormData};
use super::endpoint::{Meta, Routes};
use super::fields::{Fields, Trim};
use super::pagination::{PageRequest, param, query_pairs, respond};
use super::signup::{PasswordRules, check_email, check_username};
use crate::actors::ASK_TIMEOUT;
use crate::actors::token_blacklist::{Remember, TokenBlacklist};
use crate::actors::user_admin::{
    CreateUser, DeleteUser, GetUser, ListUsers, UpdateUser, UserInput, UserRecord,
};
use crate::actors::user_manager::UserManager;
use crate::audit::detail::{user_summary, user_update_events};
use crate::audit::{Audit, EventKind, NewEvent};
use crate::auth::{Allowed, Model, ModelPermissions, policy};
use crate::clock::Clock;
use crate::config::Paths;
use crate::db::models::user::{UserFilter, UserOrdering};
use crate::error::ApiError;
use crate::validation::normalize_username;

/// `auth.*_user`.
pub struct UserModel;
impl Model for UserModel {
    const APP: &'static str = "auth";
    const NAME: &'static str = "user";
}

type CanManageUsers = Allowed<ModelPermissions<UserModel>>;

static LIST: Meta = Meta {
    name: "User List",
    description: "Users, paginated; filter with search, username, is_active, is_staff, is_superuser, group; sort with ordering.",
    fields: &[
        ("username", "Username"),
        ("email", "Email address"),
        ("password", "Password"),
    ],
    allow: "GET, POST, HEAD, OPTIONS",
};
static DETAIL: Meta = Meta {
    name: "User Instance",
    description: "One user: read, update (PUT/PATCH) or delete.",
    fields: &[],
    allow: "GET, PUT, PATCH, DELETE, HEAD, OPTIONS",
};

pub fn config(cfg: &mut impl Routes, paths: &Paths) {
    cfg.serve::<CanManageUsers>(&paths.users, &LIST, |r| {
        r.route(web::get().to(list))
            .route(web::head().to(list))
            .route(web::post().to(create))
    });
    cfg.serve::<CanManageUsers>(&paths.user, &DETAIL, |r| {
        r.route(web::get().to(retrieve))
            .route(web::head().to(retrieve))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(destroy))
    });
}

/// How the admin API shows a user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserAdminView {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub date_joined: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_login: Option<OffsetDateTime>,
    pub groups: Vec<String>,
    pub user_permissions: Vec<String>,
}

impl From<UserRecord> for UserAdminView {
    fn from(record: UserRecord) -> Self {
        let u = record.user;
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            is_active: u.is_active,
            is_staff: u.is_staff,
            is_superuser: u.is_superuser,
            date_joined: u.date_joined.assume_utc(),
            last_login: u.last_login.map(|t| t.assume_utc()),
            groups: record.groups,
            user_permissions: record.user_permissions,
        }
    }
}

/// A user id from the path; anything else is the same 404 as a missing user.
pub fn path_id(req: &HttpRequest, model: &'static str) -> Result<i64, ApiError> {
    req.match_info()
        .get("id")
        .and_then(|raw| raw.parse().ok())
        .ok_or(ApiError::NoMatch(model))
}

/// A boolean filter: `true`/`1`/`yes` or `false`/`0`/`no` (any case); empty or absent means
/// "not filtered"; anything else is a 400 naming the parameter, instead of a list of everyone.
fn bool_param(fields: &mut Fields, pairs: &[(String, String)], name: &str) -> Option<bool> {
    let raw = param(pairs, name)?;
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        "" => None,
        _ => {
            fields.add(
                name,
                format!("Select a valid choice. {raw} is not one of the available choices."),
            );
            None
        }
    }
}

/// Reads a user body. `require_username` for create and PUT.
fn user_input(
    data: &FormData,
    require_username: bool,
    rules: &PasswordRules,
) -> Result<UserInput, ApiError> {
    let mut fields = Fields::new();
    let username = if require_username {
        Some(fields.username(data))
    } else {
        match fields.optional(data, "username", Trim::Whitespace) {
            Some(u) if u.is_empty() => {
                fields.add("username", super::fields::NOT_BLANK);
                None
            }
            other => other.as_deref().map(normalize_username),
        }
    };
    if let Some(username) = &username {
        check_username(&mut fields, username);
    }
    let email = fields
        .optional(data, "email", Trim::Whitespace)
        .map(|e| e.to_lowercase());
    if let Some(email) = &email {
        check_email(&mut fields, email);
    }
    let password = fields.optional(data, "password", Trim::Keep);
    if let Some(password) = &password {
        let problems = if password.is_empty() {
            vec![super::fields::NOT_BLANK.to_owned()]
        } else {
            let username = username.as_deref().unwrap_or_default();
            policy::violations(
                password,
                username,
                email.as_deref().unwrap_or_default(),
                rules.min_length,
            )
        };
        for problem in problems {
            fields.add("password", problem);
        }
    }
    let input = UserInput {
        username,
        email,
        first_name: fields.optional(data, "first_name", Trim::Whitespace),
        last_name: fields.optional(data, "last_name", Trim::Whitespace),
        password,
        is_active: fields.optional_bool(data, "is_active"),
        is_staff: fields.optional_bool(data, "is_staff"),
        is_superuser: fields.optional_bool(data, "is_superuser"),
        groups: fields.optional_list(data, "groups"),
        user_permissions: fields.optional_list(data, "user_permissions"),
    };
    for (name, value) in [
        ("first_name", &input.first_name),
        ("last_name", &input.last_name),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > 150) {
            fields.add(name, "Ensure this field has no more than 150 characters.");
        }
    }
    fields.finish()?;
    Ok(input)
}

/// **Permissions:** `auth.view_user`. Paginated; `?search=`, `?username=<exact name>`,
/// `?is_active=`, `?is_staff=`, `?is_superuser=`, `?group=<name>`,
/// `?ordering=username|-date_joined|...`.
#[utoipa::path(
    get,
    path = "/api/users/",
    operation_id = "users_list",
    tag = "admin",
    summary = "List users",
    security(("bearer" = [])),
    params(("page" = Option<i64>, Query, description = "Page number, from 1"), ("page_size" = Option<i64>, Query, description = "Results per page (at most 500)"), ("search" = Option<String>, Query, description = "Text to look for"), ("username" = Option<String>, Query, description = "An exact username"), ("is_active" = Option<bool>, Query), ("is_staff" = Option<bool>, Query), ("is_superuser" = Option<bool>, Query), ("group" = Option<String>, Query, description = "A group name"), ("ordering" = Option<String>, Query, description = "username, -date_joined, ...")),
    responses(
        (status = 200, description = "A page of users", body = crate::api::openapi::bodies::UserPage),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn list(
    req: HttpRequest,
    guard: CanManageUsers,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let page = PageRequest::from_query(&pairs)?;
    let mut fields = Fields::new();
    let filter = UserFilter {
        search: param(&pairs, "search")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        username: param(&pairs, "username")
            .filter(|s| !s.is_empty())
            .map(normalize_username),
        is_active: bool_param(&mut fields, &pairs, "is_active"),
        is_staff: bool_param(&mut fields, &pairs, "is_staff"),
        is_superuser: bool_param(&mut fields, &pairs, "is_superuser"),
        group: param(&pairs, "group")
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        ordering: param(&pairs, "ordering")
            .and_then(UserOrdering::parse)
            .unwrap_or_default(),
    };
    fields.finish()?;
    let message = ListUsers {
        by: guard.acting()?,
        filter,
        page: page.window(),
    };
    let (records, total) = users
        .send(message)
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::user_error)?;
    respond(
        &req,
        page,
        total,
        records.into_iter().map(UserAdminView::from).collect(),
    )
}

/// **Permissions:** `auth.add_user` (and superuser to create a superuser).
#[utoipa::path(
    post,
    path = "/api/users/",
    operation_id = "users_create",
    tag = "admin",
    summary = "Create a user",
    security(("bearer" = [])),
    request_body(content = crate::api::openapi::bodies::UserInput, description = "JSON, form or multipart"),
    responses(
        (status = 201, description = "The new user (its path in Location)", body = super::users::UserAdminView),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotPermitted
    )
)]
pub(super) async fn create(
    req: HttpRequest,
    payload: web::Payload,
    guard: CanManageUsers,
    users: web::Data<Addr<UserManager>>,
    rules: web::Data<PasswordRules>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let input = user_input(&body::parse(&req, payload).await?, true, &rules)?;
    let by = guard.acting()?;
    let actor = by.user().id;
    let now = clock.now();
    let message = CreateUser { by, input, now };
    let record = users
        .send(message)
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::user_error)?;
    audit.record(
        NewEvent::from_request(&req, EventKind::UserCreated)
            .at(now)
            .actor(actor)
            .subject(record.user.id, &record.user.username)
            .detail(user_summary(&record)),
    );
    let view = UserAdminView::from(record);
    Ok(super::created(&req, |paths| &paths.user, view.id, view))
}

/// **Permissions:** `auth.view_user`.
#[utoipa::path(
    get,
    path = "/api/users/{id}/",
    operation_id = "users_retrieve",
    tag = "admin",
    summary = "A user",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The id")),
    responses(
        (status = 200, description = "The user", body = super::users::UserAdminView),
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn retrieve(
    req: HttpRequest,
    guard: CanManageUsers,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "User")?;
    let record = users
        .send(GetUser {
            by: guard.acting()?,
            id,
        })
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("User"))?;
    Ok(HttpResponse::Ok().json(UserAdminView::from(record)))
}

/// Updates a user (PUT when `full`), recording what changed (read just before) in the
/// audit log.
#[allow(clippy::too_many_arguments)]
async fn update(
    req: HttpRequest,
    payload: web::Payload,
    guard: CanManageUsers,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    rules: web::Data<PasswordRules>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
    full: bool,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "User")?;
    let input = user_input(&body::parse(&req, payload).await?, full, &rules)?;
    let by = guard.acting()?;
    let actor = by.user().id;
    let before = users
        .send(GetUser { by: by.clone(), id })
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("User"))?;
    let password_set = input.password.is_some();
    let now = clock.now();
    let message = UpdateUser { by, id, input, now };
    let (record, revoked) = users
        .send(message)
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("User"))?;
    let event = |kind| NewEvent::from_request(&req, kind).at(now).actor(actor);
    for event in user_update_events(event, &before, &record, password_set, revoked.tokens.len()) {
        audit.record(event);
    }
    blacklist
        .send(Remember(revoked))
        .timeout(ASK_TIMEOUT)
        .await?;
    Ok(HttpResponse::Ok().json(UserAdminView::from(record)))
}

/// **Permissions:** `auth.change_user`. Replaces the given fields (`username` required).
#[allow(clippy::too_many_arguments)]
#[utoipa::path(
    put,
    path = "/api/users/{id}/",
    operation_id = "users_replace",
    tag = "admin",
    summary = "Replace a user",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The id")),
    request_body(content = crate::api::openapi::bodies::UserInput, description = "JSON, form or multipart"),
    responses(
        (status = 200, description = "The user", body = super::users::UserAdminView),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn replace(
    req: HttpRequest,
    payload: web::Payload,
    guard: CanManageUsers,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    rules: web::Data<PasswordRules>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    update(
        req, payload, guard, users, blacklist, rules, audit, clock, true,
    )
    .await
}

/// **Permissions:** `auth.change_user`. Changes the given fields. Deactivating a user or
/// setting their password revokes all their tokens; the answer goes out once this instance
/// refuses them.
#[allow(clippy::too_many_arguments)]
#[utoipa::path(
    patch,
    path = "/api/users/{id}/",
    operation_id = "users_patch",
    tag = "admin",
    summary = "Change a user",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The id")),
    request_body(content = crate::api::openapi::bodies::UserInput, description = "JSON, form or multipart"),
    responses(
        (status = 200, description = "The user", body = super::users::UserAdminView),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn patch(
    req: HttpRequest,
    payload: web::Payload,
    guard: CanManageUsers,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    rules: web::Data<PasswordRules>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    update(
        req, payload, guard, users, blacklist, rules, audit, clock, false,
    )
    .await
}

/// **Permissions:** `auth.delete_user` (and superuser to delete a superuser). Revokes all the
/// user's tokens, then deletes the user; the answer goes out once this instance refuses them.
#[utoipa::path(
    delete,
    path = "/api/users/{id}/",
    operation_id = "users_destroy",
    tag = "admin",
    summary = "Delete a user",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The id")),
    responses(
        (status = 204, description = "Deleted"),
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn destroy(
    req: HttpRequest,
    guard: CanManageUsers,
    users: web::Data<Addr<UserManager>>,
    blacklist: web::Data<Addr<TokenBlacklist>>,
    audit: web::Data<Audit>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "User")?;
    let by = guard.acting()?;
    let actor = by.user().id;
    let before = users
        .send(GetUser { by: by.clone(), id })
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("User"))?;
    let now = clock.now();
    let message = DeleteUser { by, id, now };
    let revoked = users
        .send(message)
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("User"))?;
    audit.record(
        NewEvent::from_request(&req, EventKind::UserDeleted)
            .at(now)
            .actor(actor)
            .subject(id, &before.user.username)
            .detail(format!("{} refresh token(s) revoked", revoked.tokens.len())),
    );
    blacklist
        .send(Remember(revoked))
        .timeout(ASK_TIMEOUT)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
