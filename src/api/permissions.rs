//! `/api/permissions/`: the permission catalogue. Listing needs `auth.view_permission`;
//! custom permissions are created and deleted by superusers.

use actix::Addr;
use actix_web::{HttpRequest, HttpResponse, web};

use super::body;
use super::endpoint::{Meta, Routes};
use super::fields::{Fields, Trim};
use super::pagination::{PageRequest, param, query_pairs, respond};
use super::users::path_id;
use crate::actors::ASK_TIMEOUT;
use crate::actors::group_admin::{
    CreatePermission, DeletePermission, GetPermission, ListPermissions,
};
use crate::actors::user_manager::UserManager;
use crate::audit::detail::permission_summary;
use crate::audit::{Audit, EventKind, NewEvent};
use crate::auth::{Allowed, And, IsSuperUser, Model, ModelPermissions};
use crate::config::Paths;
use crate::error::ApiError;

/// `auth.*_permission`.
pub struct PermissionModel;
impl Model for PermissionModel {
    const APP: &'static str = "auth";
    const NAME: &'static str = "permission";
}

type CanViewPermissions = Allowed<ModelPermissions<PermissionModel>>;
type CanEditPermissions = Allowed<And<IsSuperUser, ModelPermissions<PermissionModel>>>;

static LIST: Meta = Meta {
    name: "Permission List",
    description: "Permissions as app.codename, paginated; filter with search. Superusers can add custom permissions.",
    fields: &[("codename", "Codename"), ("name", "Name")],
    allow: "GET, POST, HEAD, OPTIONS",
};
static DETAIL: Meta = Meta {
    name: "Permission Instance",
    description: "One permission: read, or delete a custom one.",
    fields: &[],
    allow: "GET, DELETE, HEAD, OPTIONS",
};

pub fn config(cfg: &mut impl Routes, paths: &Paths) {
    cfg.serve::<CanViewPermissions>(&paths.permissions, &LIST, |r| {
        r.route(web::get().to(list))
            .route(web::head().to(list))
            .route(web::post().to(create))
    });
    cfg.serve::<CanViewPermissions>(&paths.permission, &DETAIL, |r| {
        r.route(web::get().to(retrieve))
            .route(web::head().to(retrieve))
            .route(web::delete().to(destroy))
    });
}

pub const BAD_CODENAME: &str = "Enter a codename like app_label.action_model: lower-case letters, digits and underscores, one dot.";

/// `app_label.codename`, each part a lower-case identifier.
pub fn valid_codename(codename: &str) -> bool {
    let part = |p: &str| {
        p.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    codename.len() <= 100
        && codename
            .split_once('.')
            .is_some_and(|(app, name)| part(app) && part(name))
}

/// **Permissions:** `auth.view_permission`. Paginated; `?search=`.
#[utoipa::path(
    get,
    path = "/api/permissions/",
    operation_id = "permissions_list",
    tag = "admin",
    summary = "List permissions",
    security(("bearer" = [])),
    params(("page" = Option<i64>, Query, description = "Page number, from 1"), ("page_size" = Option<i64>, Query, description = "Results per page (at most 500)"), ("search" = Option<String>, Query, description = "Text to look for")),
    responses(
        (status = 200, description = "A page of permissions", body = crate::api::openapi::bodies::PermissionPage),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn list(
    req: HttpRequest,
    guard: CanViewPermissions,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let page = PageRequest::from_query(&pairs)?;
    let search = param(&pairs, "search")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let message = ListPermissions {
        by: guard.acting()?,
        search,
        page: page.window(),
    };
    let (rows, total) = users
        .send(message)
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::user_error)?;
    respond(&req, page, total, rows)
}

/// **Permissions:** superuser. `POST {"codename","name"}` -> 201.
#[utoipa::path(
    post,
    path = "/api/permissions/",
    operation_id = "permissions_create",
    tag = "admin",
    summary = "Create a permission",
    security(("bearer" = [])),
    request_body(content = crate::api::openapi::bodies::PermissionInput, description = "JSON, form or multipart"),
    responses(
        (status = 201, description = "The new permission (its path in Location)", body = crate::api::openapi::bodies::Permission),
        crate::api::openapi::responses::BadFields,
        crate::api::openapi::responses::NotPermitted
    )
)]
pub(super) async fn create(
    req: HttpRequest,
    payload: web::Payload,
    guard: CanEditPermissions,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ApiError> {
    let data = body::parse(&req, payload).await?;
    let mut fields = Fields::new();
    let codename = fields.required(&data, "codename", Trim::Whitespace);
    let name = fields.required(&data, "name", Trim::Whitespace);
    if !fields.has_error("codename") && !valid_codename(&codename) {
        fields.add("codename", BAD_CODENAME);
    }
    if name.chars().count() > 255 {
        fields.add("name", "Ensure this field has no more than 255 characters.");
    }
    fields.finish()?;
    let by = guard.acting()?;
    let actor = by.user().id;
    let created = users
        .send(CreatePermission { by, codename, name })
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::user_error)?;
    audit.record(
        NewEvent::from_request(&req, EventKind::PermissionCreated)
            .actor(actor)
            .detail(permission_summary(&created)),
    );
    Ok(super::created(
        &req,
        |paths| &paths.permission,
        created.id,
        created,
    ))
}

/// **Permissions:** `auth.view_permission`.
#[utoipa::path(
    get,
    path = "/api/permissions/{id}/",
    operation_id = "permissions_retrieve",
    tag = "admin",
    summary = "A permission",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The id")),
    responses(
        (status = 200, description = "The permission", body = crate::api::openapi::bodies::Permission),
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn retrieve(
    req: HttpRequest,
    guard: CanViewPermissions,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "Permission")?;
    let found = users
        .send(GetPermission {
            by: guard.acting()?,
            id,
        })
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("Permission"))?;
    Ok(HttpResponse::Ok().json(found))
}

/// **Permissions:** superuser. Built-in permissions cannot be deleted.
#[utoipa::path(
    delete,
    path = "/api/permissions/{id}/",
    operation_id = "permissions_destroy",
    tag = "admin",
    summary = "Delete a permission",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The id")),
    responses(
        (status = 204, description = "Deleted"),
        crate::api::openapi::responses::NotPermittedOrFound
    )
)]
pub(super) async fn destroy(
    req: HttpRequest,
    guard: CanEditPermissions,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "Permission")?;
    let by = guard.acting()?;
    let actor = by.user().id;
    let before = users
        .send(GetPermission { by: by.clone(), id })
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("Permission"))?;
    users
        .send(DeletePermission { by, id })
        .timeout(ASK_TIMEOUT)
        .await?
        .map_err(super::no_match("Permission"))?;
    audit.record(
        NewEvent::from_request(&req, EventKind::PermissionDeleted)
            .actor(actor)
            .detail(permission_summary(&before)),
    );
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::valid_codename;

    #[test]
    fn codenames_are_app_dot_name() {
        for ok in ["reports.view_report", "billing.refund2"] {
            assert!(valid_codename(ok), "{ok}");
        }
        for bad in [
            "reports",
            "Reports.view",
            "a.b.c",
            ".view",
            "app.",
            "app.view-report",
            "1app.view",
        ] {
            assert!(!valid_codename(bad), "{bad}");
        }
    }
}
