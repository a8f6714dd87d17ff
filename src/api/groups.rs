//! `/api/groups/`: groups and their permissions, guarded by model permissions on `auth.*_group`.

use actix::Addr;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::body::{self, FormData};
use super::endpoint::{Meta, Routes};
use super::fields::{Fields, NOT_BLANK, Trim};
use super::pagination::{PageRequest, param, query_pairs, respond};
use super::users::path_id;
use crate::actors::ASK_TIMEOUT;
use crate::actors::group_admin::{
    CreateGroup, DeleteGroup, GetGroup, GroupRecord, ListGroups, UpdateGroup,
};
use crate::actors::user_manager::UserManager;
use crate::audit::detail::{group_changes, group_summary};
use crate::audit::{Audit, EventKind, NewEvent};
use crate::auth::{Allowed, Model, ModelPermissions};
use crate::config::Paths;
use crate::error::ApiError;

/// `auth.*_group`.
pub struct GroupModel;
impl Model for GroupModel {
    const APP: &'static str = "auth";
    const NAME: &'static str = "group";
}

type CanManageGroups = Allowed<ModelPermissions<GroupModel>>;

static LIST: Meta = Meta {
    name: "Group List",
    description: "Groups with their permissions, paginated; filter with search.",
    fields: &[("name", "Name")],
    allow: "GET, POST, HEAD, OPTIONS",
};
static DETAIL: Meta = Meta {
    name: "Group Instance",
    description: "One group: read, update (PUT/PATCH) or delete.",
    fields: &[],
    allow: "GET, PUT, PATCH, DELETE, HEAD, OPTIONS",
};

pub fn config(cfg: &mut impl Routes, paths: &Paths) {
    cfg.serve::<CanManageGroups>(&paths.groups, &LIST, |r| {
        r.route(web::get().to(list))
            .route(web::head().to(list))
            .route(web::post().to(create))
    });
    cfg.serve::<CanManageGroups>(&paths.group, &DETAIL, |r| {
        r.route(web::get().to(retrieve))
            .route(web::head().to(retrieve))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(destroy))
    });
}

/// A group and its permissions' codenames.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupView {
    pub id: i64,
    pub name: String,
    pub permissions: Vec<String>,
}

impl From<GroupRecord> for GroupView {
    fn from(record: GroupRecord) -> Self {
        Self {
            id: record.group.id,
            name: record.group.name,
            permissions: record.permissions,
        }
    }
}

/// (name, permissions) of a body; `require_name` for create and PUT.
fn group_input(
    data: &FormData,
    require_name: bool,
) -> Result<(Option<String>, Option<Vec<String>>), ApiError> {
    let mut fields = Fields::new();
    let name = if require_name {
        Some(fields.required(data, "name", Trim::Whitespace))
    } else {
        fields.optional(data, "name", Trim::Whitespace)
    };
    if name.as_deref() == Some("") && !fields.has_error("name") {
        fields.add("name", NOT_BLANK);
    }
    if name.as_ref().is_some_and(|n| n.chars().count() > 150) {
        fields.add("name", "Ensure this field has no more than 150 characters.");
    }
    let permissions = fields.optional_list(data, "permissions");
    fields.finish()?;
    Ok((name, permissions))
}

/// **Permissions:** `auth.view_group`. Paginated; `?search=`.
#[utoipa::path(
    get,
    path = "/api/groups/",
    operation_id = "groups_list",
    tag = "admin",
    summary = "List groups",
    security(("bearer" = [])),
    params(("page" = Option<i64>, Query, description = "Page number, from 1"), ("page_size" = Option<i64>, Query, description = "Results per page (at most 500)"), ("search" = Option<String>, Query, description = "Text to look for")),
    responses(
        (status = 200, description = "A page of groups", body = crate::api::openapi::bodies::GroupPage),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn list(
    req: HttpRequest,
    guard: CanManageGroups,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let page = PageRequest::from_query(&pairs)?;
    let search = param(&pairs, "search")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let message = ListGroups {
        by: guard.acting()?,
        search,
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
        records.into_iter().map(GroupView::from).collect(),
    )
}

/// **Permissions:** `auth.add_group`; only permissions the caller holds can be granted.
#[utoipa::path(
    post,
    path = "/api/groups/",
    operation_id = "groups_create",
    tag = "admin",
    summary = "Create a group",
    security(("bearer" = [])),
    request_body(content = crate::api::openapi::bodies::GroupInput, description = "JSON, form or multipart"),
    responses(
        (status = 201, description = "The new group (its path in Location)", body = super::groups::GroupView),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotPermitted
    )
)]
pub(super) async fn create(
    req: HttpRequest,
    payload: web::Payload,
    guard: CanManageGroups,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ApiError> {
    let (name, permissions) = group_input(&body::parse(&req, payload).await?, true)?;
    let by = guard.acting()?;
    let actor = by.user().id;
    let message = CreateGroup {
        by,
        name: name.unwrap_or_default(),
        permissions: permissions.unwrap_or_default(),
    };
    let record = users
        .send(message)
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::user_error)?;
    audit.record(
        NewEvent::from_request(&req, EventKind::GroupCreated)
            .actor(actor)
            .detail(group_summary(&record)),
    );
    let view = GroupView::from(record);
    Ok(super::created(&req, |paths| &paths.group, view.id, view))
}

/// **Permissions:** `auth.view_group`.
#[utoipa::path(
    get,
    path = "/api/groups/{id}/",
    operation_id = "groups_retrieve",
    tag = "admin",
    summary = "A group",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The id")),
    responses(
        (status = 200, description = "The group", body = super::groups::GroupView),
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn retrieve(
    req: HttpRequest,
    guard: CanManageGroups,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "Group")?;
    let record = users
        .send(GetGroup {
            by: guard.acting()?,
            id,
        })
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("Group"))?;
    Ok(HttpResponse::Ok().json(GroupView::from(record)))
}

/// Renames a group and/or replaces its permissions (PUT when `full`), recording what
/// changed (read just before) in the audit log.
async fn update(
    req: HttpRequest,
    payload: web::Payload,
    guard: CanManageGroups,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
    full: bool,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "Group")?;
    let (name, permissions) = group_input(&body::parse(&req, payload).await?, full)?;
    let by = guard.acting()?;
    let actor = by.user().id;
    let before = users
        .send(GetGroup { by: by.clone(), id })
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("Group"))?;
    let message = UpdateGroup {
        by,
        id,
        name,
        permissions,
    };
    let record = users
        .send(message)
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("Group"))?;
    audit.record(
        NewEvent::from_request(&req, EventKind::GroupChanged)
            .actor(actor)
            .detail(group_changes(&before, &record)),
    );
    Ok(HttpResponse::Ok().json(GroupView::from(record)))
}

/// **Permissions:** `auth.change_group`. `name` required.
#[utoipa::path(
    put,
    path = "/api/groups/{id}/",
    operation_id = "groups_replace",
    tag = "admin",
    summary = "Replace a group",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The id")),
    request_body(content = crate::api::openapi::bodies::GroupInput, description = "JSON, form or multipart"),
    responses(
        (status = 200, description = "The group", body = super::groups::GroupView),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn replace(
    req: HttpRequest,
    payload: web::Payload,
    guard: CanManageGroups,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ApiError> {
    update(req, payload, guard, users, audit, true).await
}

/// **Permissions:** `auth.change_group`. Members' rights change on their next request.
#[utoipa::path(
    patch,
    path = "/api/groups/{id}/",
    operation_id = "groups_patch",
    tag = "admin",
    summary = "Change a group",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The id")),
    request_body(content = crate::api::openapi::bodies::GroupInput, description = "JSON, form or multipart"),
    responses(
        (status = 200, description = "The group", body = super::groups::GroupView),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn patch(
    req: HttpRequest,
    payload: web::Payload,
    guard: CanManageGroups,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ApiError> {
    update(req, payload, guard, users, audit, false).await
}

/// **Permissions:** `auth.delete_group`.
#[utoipa::path(
    delete,
    path = "/api/groups/{id}/",
    operation_id = "groups_destroy",
    tag = "admin",
    summary = "Delete a group",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The id")),
    responses(
        (status = 204, description = "Deleted"),
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn destroy(
    req: HttpRequest,
    guard: CanManageGroups,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "Group")?;
    let by = guard.acting()?;
    let actor = by.user().id;
    let before = users
        .send(GetGroup { by: by.clone(), id })
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("Group"))?;
    users
        .send(DeleteGroup { by, id })
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("Group"))?;
    audit.record(
        NewEvent::from_request(&req, EventKind::GroupDeleted)
            .actor(actor)
            .detail(group_summary(&before)),
    );
    Ok(HttpResponse::NoContent().finish())
}
