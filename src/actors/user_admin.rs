//! User administration on the user manager: list, read, create, update, delete. Every message
//! carries the [`Acting`] admin; escalation is refused here, whatever the handler checked:
//! only superusers touch superuser accounts or the superuser flag, and nobody else grants a
//! permission (directly or through a group) they do not hold themselves.
//! Deactivating a user, setting their password or deleting them revokes all their tokens in
//! the same transaction.

use std::collections::{BTreeMap, BTreeSet};

use actix::prelude::*;
use time::OffsetDateTime;

use super::user_manager::{USERNAME_TAKEN, UserError, UserManager, field_error, new_stamp};
use crate::auth::{Acting, policy, random_token};
use crate::db::models::Page;
use crate::db::models::group::{self, Group};
use crate::db::models::permission::{self, Permission};
use crate::db::models::revocation::{self, Revocations};
use crate::db::models::user::{self, NewUser, User, UserChanges, UserFilter};
use crate::db::{DbConn, DbError, stored_time};
use crate::validation::email_key;

pub const ONLY_SUPERUSERS: &str =
    "Only superusers can change superuser accounts or the superuser flag.";
pub const CANNOT_GRANT: &str = "You cannot grant permissions you do not have.";
pub const CANNOT_TAKE_OVER: &str =
    "You cannot set the password of a user who holds permissions you do not have.";

/// A user as the admin API shows them: the row (never the hash), groups, direct permissions.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub groups: Vec<String>,
    pub user_permissions: Vec<String>,
}

/// Fields of a create or update; `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password: Option<String>,
    pub is_active: Option<bool>,
    pub is_staff: Option<bool>,
    pub is_superuser: Option<bool>,
    pub groups: Option<Vec<String>>,
    pub user_permissions: Option<Vec<String>>,
}

/// The groups and permissions an input names (`None` for a field not given).
type Resolved = (Option<Vec<Group>>, Option<Vec<Permission>>);

/// Loads the groups and permissions named by the input, refusing unknown names.
fn resolve(conn: &mut DbConn, input: &UserInput) -> Result<Resolved, UserError> {
    let groups = match &input.groups {
        None => None,
        Some(names) => {
            let found = group::by_names(conn, names)?;
            if let Some(missing) = names.iter().find(|n| !found.iter().any(|g| &g.name == *n)) {
                return Err(field_error(
                    "groups",
                    format!("Object with name={missing} does not exist."),
                ));
            }
            Some(found)
        }
    };
    let permissions = match &input.user_permissions {
        None => None,
        Some(codenames) => {
            let found = permission::by_codenames(conn, codenames)?;
            if let Some(missing) = codenames
                .iter()
                .find(|c| !found.iter().any(|p| &p.codename == *c))
            {
                return Err(field_error(
                    "user_permissions",
                    format!("Object with codename={missing} does not exist."),
                ));
            }
            Some(found)
        }
    };
    Ok((groups, permissions))
}

/// Refuses grants the acting admin could not make: permissions they lack, directly or through
/// newly added groups.
fn check_grants(
    conn: &mut DbConn,
    by: &Acting,
    added_groups: &[i64],
    added_permissions: &[&str],
) -> Result<(), UserError> {
    if by.is_superuser() {
        return Ok(());
    }
    let mut needed: BTreeSet<String> = added_permissions.iter().map(|s| (*s).to_owned()).collect();
    needed.extend(
        group::permissions_of(conn, added_groups)?
            .into_iter()
            .map(|(_, c)| c),
    );
    if needed.iter().all(|c| by.user().has_perm(c)) {
        Ok(())
    } else {
        Err(UserError::Forbidden(CANNOT_GRANT))
    }
}

fn records(conn: &mut DbConn, rows: Vec<User>) -> Result<Vec<UserRecord>, DbError> {
    let ids: Vec<i64> = rows.iter().map(|u| u.id).collect();
    let mut groups: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (id, name) in user::groups_of(conn, &ids)? {
        groups.entry(id).or_default().push(name);
    }
    let mut perms: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (id, codename) in user::direct_permissions_of(conn, &ids)? {
        perms.entry(id).or_default().push(codename);
    }
    Ok(rows
        .into_iter()
        .map(|u| UserRecord {
            groups: groups.remove(&u.id).unwrap_or_default(),
            user_permissions: perms.remove(&u.id).unwrap_or_default(),
            user: u,
        })
        .collect())
}

fn record(conn: &mut DbConn, id: i64) -> Result<UserRecord, UserError> {
    let row = user::find(conn, id)?.ok_or(UserError::NotFound)?;
    records(conn, vec![row])?.pop().ok_or(UserError::NotFound)
}

fn map_conflict(err: DbError) -> UserError {
    match err {
        DbError::Conflict(_) => field_error("username", USERNAME_TAKEN.to_owned()),
        other => other.into(),
    }
}

/// A page of users matching a filter.
#[derive(Message)]
#[rtype(result = "Result<(Vec<UserRecord>, i64), UserError>")]
pub struct ListUsers {
    pub by: Acting,
    pub filter: UserFilter,
    pub page: Page,
}

impl Handler<ListUsers> for UserManager {
    type Result = Result<(Vec<UserRecord>, i64), UserError>;

    fn handle(&mut self, msg: ListUsers, _: &mut Self::Context) -> Self::Result {
        let _ = msg.by;
        let mut conn = self.conn()?;
        let (rows, total) = user::list(&mut conn, &msg.filter, msg.page)?;
        Ok((records(&mut conn, rows)?, total))
    }
}

/// One user.
#[derive(Message)]
#[rtype(result = "Result<UserRecord, UserError>")]
pub struct GetUser {
    pub by: Acting,
    pub id: i64,
}

impl Handler<GetUser> for UserManager {
    type Result = Result<UserRecord, UserError>;

    fn handle(&mut self, msg: GetUser, _: &mut Self::Context) -> Self::Result {
        let _ = msg.by;
        record(&mut *self.conn()?, msg.id)
    }
}

/// Creates a user. Without a password the account cannot log in until one is set.
#[derive(Message)]
#[rtype(result = "Result<UserRecord, UserError>")]
pub struct CreateUser {
    pub by: Acting,
    pub input: UserInput,
    pub now: OffsetDateTime,
}

impl Handler<CreateUser> for UserManager {
    type Result = Result<UserRecord, UserError>;

    fn handle(&mut self, msg: CreateUser, _: &mut Self::Context) -> Self::Result {
        let CreateUser { by, input, now } = msg;
        if input.is_superuser == Some(true) && !by.is_superuser() {
            return Err(UserError::Forbidden(ONLY_SUPERUSERS));
        }
        let username = input
            .username
            .clone()
            .ok_or_else(|| field_error("username", "This field is required.".into()))?;
        let hash = match &input.password {
            Some(password) => self.hasher.hash(password)?,
            None => format!("!{}", random_token(30)),
        };
        let mut conn = self.conn()?;
        let (groups, permissions) = resolve(&mut conn, &input)?;
        let group_ids: Vec<i64> = groups.iter().flatten().map(|g| g.id).collect();
        let perm_ids: Vec<i64> = permissions.iter().flatten().map(|p| p.id).collect();
        let codenames: Vec<&str> = permissions
            .iter()
            .flatten()
            .map(|p| p.codename.as_str())
            .collect();
        check_grants(&mut conn, &by, &group_ids, &codenames)?;
        let stamp = new_stamp();
        let id = conn.write(|conn| {
            self.check_email_free(conn, input.email.as_deref().unwrap_or_default(), None)?;
            let row = user::insert(
                conn,
                &NewUser {
                    username: &username,
                    email: input.email.as_deref().unwrap_or_default(),
                    password: &hash,
                    first_name: input.first_name.as_deref().unwrap_or_default(),
                    last_name: input.last_name.as_deref().unwrap_or_default(),
                    is_active: input.is_active.unwrap_or(true),
                    is_staff: input.is_staff.unwrap_or(false),
                    is_superuser: input.is_superuser.unwrap_or(false),
                    date_joined: stored_time(now),
                    security_stamp: &stamp,
                },
            )
            .map_err(map_conflict)?;
            user::set_groups(conn, row.id, &group_ids)?;
            user::set_permissions(conn, row.id, &perm_ids)?;
            Ok::<_, UserError>(row.id)
        })?;
        record(&mut conn, id)
    }
}

/// Updates a user (PUT and PATCH alike: only given fields change). Returns the tokens revoked
/// when the user was deactivated or given a new password.
#[derive(Message)]
#[rtype(result = "Result<(UserRecord, Revocations), UserError>")]
pub struct UpdateUser {
    pub by: Acting,
    pub id: i64,
    pub input: UserInput,
    pub now: OffsetDateTime,
}

impl Handler<UpdateUser> for UserManager {
    type Result = Result<(UserRecord, Revocations), UserError>;

    fn handle(&mut self, msg: UpdateUser, _: &mut Self::Context) -> Self::Result {
        let UpdateUser { by, id, input, now } = msg;
        let mut conn = self.conn()?;
        let current = record(&mut conn, id)?;
        let flag_change = input
            .is_superuser
            .is_some_and(|v| v != current.user.is_superuser);
        if (current.user.is_superuser || flag_change) && !by.is_superuser() {
            return Err(UserError::Forbidden(ONLY_SUPERUSERS));
        }
        // Setting someone's password lets the admin sign in as them: only over accounts whose
        // rights the admin holds already.
        if input.password.is_some() && !by.is_superuser() {
            let theirs = user::memberships(&mut conn, id)?.permissions;
            if !theirs.iter().all(|c| by.user().has_perm(c)) {
                return Err(UserError::Forbidden(CANNOT_TAKE_OVER));
            }
        }
        // The handler saw only the fields sent; compare a new password with the account's
        // username and email as they will be.
        if let Some(password) = &input.password {
            let username = input.username.as_deref().unwrap_or(&current.user.username);
            let email = input.email.as_deref().unwrap_or(&current.user.email);
            if policy::too_similar(password, username, email) {
                return Err(field_error("password", policy::TOO_SIMILAR.to_owned()));
            }
        }
        let (groups, permissions) = resolve(&mut conn, &input)?;
        let added_groups: Vec<i64> = groups
            .iter()
            .flatten()
            .filter(|g| !current.groups.contains(&g.name))
            .map(|g| g.id)
            .collect();
        let added_perms: Vec<&str> = permissions
            .iter()
            .flatten()
            .filter(|p| !current.user_permissions.contains(&p.codename))
            .map(|p| p.codename.as_str())
            .collect();
        check_grants(&mut conn, &by, &added_groups, &added_perms)?;

        let password = input
            .password
            .as_deref()
            .map(|p| self.hasher.hash(p))
            .transpose()?;
        let deactivated = input.is_active == Some(false) && current.user.is_active;
        let revoke = deactivated || password.is_some();
        let changes = UserChanges {
            username: input.username.clone(),
            email: input.email.clone(),
            first_name: input.first_name.clone(),
            last_name: input.last_name.clone(),
            is_active: input.is_active,
            is_staff: input.is_staff,
            is_superuser: input.is_superuser,
            password,
            security_stamp: revoke.then(new_stamp),
        };
        let new_email = input
            .email
            .as_deref()
            .filter(|e| email_key(e) != email_key(&current.user.email));
        let revoked = conn.write(|conn| {
            if let Some(email) = new_email {
                self.check_email_free(conn, email, Some(id))?;
            }
            user::update(conn, id, &changes).map_err(map_conflict)?;
            if let Some(groups) = &groups {
                user::set_groups(conn, id, &groups.iter().map(|g| g.id).collect::<Vec<_>>())?;
            }
            if let Some(permissions) = &permissions {
                user::set_permissions(
                    conn,
                    id,
                    &permissions.iter().map(|p| p.id).collect::<Vec<_>>(),
                )?;
            }
            let revoked = if revoke {
                revocation::revoke_all_for_user(conn, id, Some(by.user().id), stored_time(now))?
            } else {
                Revocations::default()
            };
            Ok::<_, UserError>(revoked)
        })?;
        self.cache.invalidate(id);
        Ok((record(&mut conn, id)?, revoked))
    }
}

/// Deletes a user after blacklisting all their tokens; returns those tokens.
#[derive(Message)]
#[rtype(result = "Result<Revocations, UserError>")]
pub struct DeleteUser {
    pub by: Acting,
    pub id: i64,
    pub now: OffsetDateTime,
}

impl Handler<DeleteUser> for UserManager {
    type Result = Result<Revocations, UserError>;

    fn handle(&mut self, msg: DeleteUser, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.conn()?;
        let target = user::find(&mut conn, msg.id)?.ok_or(UserError::NotFound)?;
        if target.is_superuser && !msg.by.is_superuser() {
            return Err(UserError::Forbidden(ONLY_SUPERUSERS));
        }
        let revoked = conn.write(|conn| {
            let revoked = revocation::revoke_all_for_user(
                conn,
                target.id,
                Some(msg.by.user().id),
                stored_time(msg.now),
            )?;
            user::delete(conn, target.id)?;
            Ok::<_, UserError>(revoked)
        })?;
        self.cache.invalidate(target.id);
        Ok(revoked)
    }
}

/// "Revoke all tokens of this user": a new security stamp (older access tokens fail at once)
/// and every live refresh token blacklisted, in one transaction.
#[derive(Message)]
#[rtype(result = "Result<Revocations, UserError>")]
pub struct RevokeAllTokens {
    pub by: Acting,
    pub id: i64,
    pub now: OffsetDateTime,
}

impl Handler<RevokeAllTokens> for UserManager {
    type Result = Result<Revocations, UserError>;

    fn handle(&mut self, msg: RevokeAllTokens, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.conn()?;
        let target = user::find(&mut conn, msg.id)?.ok_or(UserError::NotFound)?;
        if target.is_superuser && !msg.by.is_superuser() {
            return Err(UserError::Forbidden(ONLY_SUPERUSERS));
        }
        let changes = UserChanges {
            security_stamp: Some(new_stamp()),
            ..UserChanges::default()
        };
        let revoked = conn.write(|conn| {
            user::update(conn, target.id, &changes)?;
            Ok::<_, UserError>(revocation::revoke_all_for_user(
                conn,
                target.id,
                Some(msg.by.user().id),
                stored_time(msg.now),
            )?)
        })?;
        self.cache.invalidate(target.id);
        Ok(revoked)
    }
}
