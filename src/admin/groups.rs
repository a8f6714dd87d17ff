//! Console pages for groups: list, add, edit (permission picker), delete.

use actix::Addr;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::error::{ConsoleError, render};
use super::form::{self, Form, path_id};
use super::layout::{Errors, Layout, PAGE_SIZE, Pager, page_number};
use super::session::ConsoleSession;
use super::user_actions::ConfirmPage;
use super::users::see_other;
use crate::actors::ASK_TIMEOUT;
use crate::actors::group_admin::{
    CreateGroup, DeleteGroup, GetGroup, GroupRecord, ListGroups, ListPermissions, UpdateGroup,
};
use crate::actors::user_manager::{UserError, UserManager};
use crate::audit::detail::{group_changes, group_summary};
use crate::audit::{Audit, EventKind};
use crate::db::models::Page;

pub struct GroupLine {
    pub id: i64,
    pub name: String,
    pub permissions: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/groups.html")]
struct ListPage {
    layout: Layout,
    groups: Vec<GroupLine>,
    total: i64,
    q: String,
    can_add: bool,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "admin/group_form.html")]
struct FormPage {
    layout: Layout,
    editing: bool,
    id: i64,
    name: String,
    errors: Errors,
    permission_choices: Vec<(String, String, bool)>,
    can_change: bool,
    can_delete: bool,
}

/// **Permissions:** `auth.view_group`.
pub async fn list(
    req: HttpRequest,
    session: ConsoleSession,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ConsoleError> {
    session.require("auth.view_group")?;
    let query = Form::list_query(req.query_string())?;
    let q = query.text("q");
    let number = page_number(&query.text("page"));
    let message = ListGroups {
        by: session.acting()?,
        search: Some(q.clone()).filter(|s| !s.is_empty()),
        page: Page {
            offset: (number - 1) * PAGE_SIZE,
            limit: PAGE_SIZE,
        },
    };
    let (records, total) = users.send(message).timeout(ASK_TIMEOUT).await??;
    let page = ListPage {
        layout: Layout::new(&session, "Groups", "groups").await,
        groups: records
            .into_iter()
            .map(|r| GroupLine {
                id: r.group.id,
                name: r.group.name,
                permissions: r.permissions,
            })
            .collect(),
        total,
        pager: Pager::new(&session.url("/groups/"), &[("q", q.clone())], number, total),
        q,
        can_add: session.can("auth.add_group"),
    };
    Ok(render(StatusCode::OK, &page))
}

async fn form_page(
    session: &ConsoleSession,
    users: &Addr<UserManager>,
    record: Option<&GroupRecord>,
    name: String,
    chosen: &[String],
    errors: Errors,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let message = ListPermissions {
        by: session.acting()?,
        search: None,
        page: Page {
            offset: 0,
            limit: 1000,
        },
    };
    let (perms, _) = users.send(message).timeout(ASK_TIMEOUT).await??;
    let permission_choices = perms
        .into_iter()
        .map(|p| {
            let on = chosen.contains(&p.codename);
            (p.codename, p.name, on)
        })
        .collect();
    let title = record.map_or("Add group".to_owned(), |r| {
        format!("Group {}", r.group.name)
    });
    let page = FormPage {
        layout: Layout::new(session, title, "groups").await,
        editing: record.is_some(),
        id: record.map_or(0, |r| r.group.id),
        name,
        errors,
        permission_choices,
        can_change: if record.is_some() {
            session.can("auth.change_group")
        } else {
            session.can("auth.add_group")
        },
        can_delete: session.can("auth.delete_group"),
    };
    Ok(render(status, &page))
}

fn name_errors(form: &Form, name: &str) -> Errors {
    let mut errors = Errors::default();
    if name.is_empty() {
        errors.add("name", "This field is required.");
    } else if name.chars().count() > 150 {
        errors.add("name", "Ensure this field has no more than 150 characters.");
    }
    errors.overridden_by(form.null_errors())
}

/// **Permissions:** `auth.add_group`.
pub async fn add_form(
    session: ConsoleSession,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ConsoleError> {
    session.require("auth.add_group")?;
    form_page(
        &session,
        &users,
        None,
        String::new(),
        &[],
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// **Permissions:** `auth.add_group`; only permissions the admin holds can be granted.
pub async fn add(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form::read(body).await?;
    super::csrf::check(&form, session.csrf())?;
    session.require("auth.add_group")?;
    let (name, chosen) = (form.text("name"), form.all("permissions"));
    let errors = name_errors(&form, &name);
    if !errors.is_empty() {
        return form_page(
            &session,
            &users,
            None,
            name,
            &chosen,
            errors,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let message = CreateGroup {
        by: session.acting()?,
        name: name.clone(),
        permissions: chosen.clone(),
    };
    match users.send(message).timeout(ASK_TIMEOUT).await? {
        Ok(record) => {
            audit.record(
                super::audit::event(&req, &session, EventKind::GroupCreated)
                    .detail(group_summary(&record)),
            );
            session
                .flash(format!("The group “{}” was added.", record.group.name))
                .await?;
            Ok(see_other(session.url("/groups/")))
        }
        Err(UserError::Invalid(errors)) => {
            form_page(
                &session,
                &users,
                None,
                name,
                &chosen,
                Errors(errors),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// **Permissions:** `auth.view_group` (saving needs `auth.change_group`).
pub async fn edit_form(
    req: HttpRequest,
    session: ConsoleSession,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ConsoleError> {
    session.require("auth.view_group")?;
    let record = users
        .send(GetGroup {
            by: session.acting()?,
            id: path_id(&req)?,
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    let name = record.group.name.clone();
    form_page(
        &session,
        &users,
        Some(&record),
        name,
        &record.permissions,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// **Permissions:** `auth.change_group`. Members' rights change on their next request.
pub async fn edit(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form::read(body).await?;
    super::csrf::check(&form, session.csrf())?;
    session.require("auth.change_group")?;
    let id = path_id(&req)?;
    let record = users
        .send(GetGroup {
            by: session.acting()?,
            id,
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    let (name, chosen) = (form.text("name"), form.all("permissions"));
    let errors = name_errors(&form, &name);
    if !errors.is_empty() {
        return form_page(
            &session,
            &users,
            Some(&record),
            name,
            &chosen,
            errors,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let message = UpdateGroup {
        by: session.acting()?,
        id,
        name: Some(name.clone()),
        permissions: Some(chosen.clone()),
    };
    match users.send(message).timeout(ASK_TIMEOUT).await? {
        Ok(updated) => {
            audit.record(
                super::audit::event(&req, &session, EventKind::GroupChanged)
                    .detail(group_changes(&record, &updated)),
            );
            session
                .flash(format!("The group “{}” was changed.", updated.group.name))
                .await?;
            Ok(see_other(session.url(&format!("/groups/{id}/"))))
        }
        Err(UserError::Invalid(errors)) => {
            form_page(
                &session,
                &users,
                Some(&record),
                name,
                &chosen,
                Errors(errors),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// **Permissions:** `auth.delete_group`.
pub async fn delete_form(
    req: HttpRequest,
    session: ConsoleSession,
    users: web::Data<Addr<UserManager>>,
) -> Result<HttpResponse, ConsoleError> {
    session.require("auth.delete_group")?;
    let id = path_id(&req)?;
    let record = users
        .send(GetGroup {
            by: session.acting()?,
            id,
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    let page = ConfirmPage {
        layout: Layout::new(&session, "Delete group", "groups").await,
        heading: format!("Delete the group “{}”?", record.group.name),
        message: "Its members lose the permissions it grants. Users are not deleted.".into(),
        action: session.url(&format!("/groups/{id}/delete/")),
        button: "Yes, delete",
        cancel: session.url(&format!("/groups/{id}/")),
    };
    Ok(render(StatusCode::OK, &page))
}

/// **Permissions:** `auth.delete_group`.
pub async fn delete(
    req: HttpRequest,
    session: ConsoleSession,
    body: web::Bytes,
    users: web::Data<Addr<UserManager>>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ConsoleError> {
    super::csrf::check(&form::read(body).await?, session.csrf())?;
    session.require("auth.delete_group")?;
    let id = path_id(&req)?;
    let record = users
        .send(GetGroup {
            by: session.acting()?,
            id,
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    users
        .send(DeleteGroup {
            by: session.acting()?,
            id,
        })
        .timeout(ASK_TIMEOUT)
        .await??;
    audit.record(
        super::audit::event(&req, &session, EventKind::GroupDeleted).detail(group_summary(&record)),
    );
    session.flash("The group was deleted.").await?;
    Ok(see_other(session.url("/groups/")))
}
