//! Console page for permissions: the catalogue, and (for superusers) custom permissions.

use actix::Addr;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::error::{ConsoleError, render};
use super::form::{self, Form, path_id};
use super::layout::{Errors, Layout, PAGE_SIZE, Pager, page_number};
use super::session::ConsoleSession;
use super::users::see_other;
use crate::actors::ASK_TIMEOUT;
use crate::actors::group_admin::{
    CreatePermission, DeletePermission, GetPermission, ListPermissions, is_built_in,
};
use crate::actors::user_manager::{UserError, UserManager};
use crate::audit::detail::permission_summary;
use crate::audit::{Audit, EventKind};
use crate::db::models::Page;
use crate::db::models::permission::Permission;

#[derive(Template)]
#[template(path = "admin/permissions.html")]
struct ListPage {
    layout: Layout,
    permissions: Vec<(Permission, bool)>,
    total: i64,
    q: String,
    superuser: bool,
    new_codename: String,
    new_name: String,
    errors: Errors,
    pager: Pager,
}

#[allow(clippy::too_many_arguments)]
async fn page(
    session: &ConsoleSession,
    users: &Addr<UserManager>,
    q: String,
    number: i64,
    new: (String, String),
    errors: Errors,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let message = ListPermissions {
        by: session.acting()?,
        search: Some(q.clone()).filter(|s| !s.is_empty()),
        page: Page {
            offset: (number - 1) * PAGE_SIZE,
            limit: PAGE_SIZE,
        },
    };
    let (rows, total) = users.send(message).timeout(ASK_TIMEOUT).await??;
    let page = ListPage {
        layout: Layout::new(session, "Permissions", "permissions").await,
        permissions: rows
            .into_iter()
            .map(|p| {
                let b = is_built_in(&p.codename);
                (p, b)
            })
            .collect(),
        total,
        pager: Pager::new(
            &session.url("/permissions/"),
            &[("q", q.clone())],
            number,
            total,
        ),
        q,
        superuser: session.user.is_superuser,
        new_codename: new.0,
        new_name: new.1,
        errors,
    };
    Ok(render(status, &page))
}

/// **Permissions:** `auth.view_permission`.
pub async fn list(
    req: HttpRequest,
    session: ConsoleSession,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ConsoleError> {
    session.require("auth.view_permission")?;
    let query = Form::list_query(req.query_string())?;
    let number = page_number(&query.text("page"));
    page(
        &session,
        &users,
        query.text("q"),
        number,
        Default::default(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// **Permissions:** superuser.
pub async fn add(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form::read(body).await?;
    super::csrf::check(&form, session.csrf())?;
    session.require("auth.view_permission")?;
    let (codename, name) = (form.text("codename"), form.text("name"));
    let mut errors = Errors::default();
    if !crate::api::valid_codename(&codename) {
        errors.add("codename", crate::api::BAD_CODENAME);
    }
    if name.is_empty() {
        errors.add("name", "This field is required.");
    }
    let mut errors = errors.overridden_by(form.null_errors());
    if errors.is_empty() {
        match users
            .send(CreatePermission {
                by: session.acting()?,
                codename: codename.clone(),
                name: name.clone(),
            })
            .timeout(ASK_TIMEOUT)
            .await?
        {
            Ok(created) => {
                audit.record(
                    super::audit::event(&req, &session, EventKind::PermissionCreated)
                        .detail(permission_summary(&created)),
                );
                session
                    .flash(format!("The permission {} was added.", created.codename))
                    .await?;
                return Ok(see_other(session.url("/permissions/")));
            }
            Err(UserError::Invalid(found)) => errors = Errors(found),
            Err(other) => return Err(other.into()),
        }
    }
    page(
        &session,
        &users,
        String::new(),
        1,
        (codename, name),
        errors,
        StatusCode::BAD_REQUEST,
    )
    .await
}

/// **Permissions:** superuser; built-in permissions stay.
pub async fn delete(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ConsoleError> {
    super::csrf::check(&form::read(body).await?, session.csrf())?;
    let id = path_id(&req)?;
    // Read for the audit log only: the delete itself gives the answers (403 before 404).
    let found = users
        .send(GetPermission {
            by: session.acting()?,
            id,
        })
        .timeout(ASK_TIMEOUT)
        .await?
        .ok();
    users
        .send(DeletePermission {
            by: session.acting()?,
            id,
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    audit.record(
        super::audit::event(&req, &session, EventKind::PermissionDeleted).detail(
            found.map_or_else(|| format!("permission id {id}"), |p| permission_summary(&p)),
        ),
    );
    session.flash("The permission was deleted.").await?;
    Ok(see_other(session.url("/permissions/")))
}
