//! The short descriptions events carry: what changed in a user or a group, as
//! `is_active: true -> false; groups: +analysts -ops`. Never a password or any secret: a
//! password change is an event of its own, without the password.

use super::{EventKind, NewEvent};
use crate::actors::group_admin::GroupRecord;
use crate::actors::user_admin::UserRecord;
use crate::db::models::permission::Permission;

/// The events of an administrator's update of a user: `user_changed` with what changed, and
/// `password_changed` when a password was set (without it). `event` makes an event of a kind
/// with the request's actor, time and client.
pub fn user_update_events(
    event: impl Fn(EventKind) -> NewEvent,
    before: &UserRecord,
    after: &UserRecord,
    password_set: bool,
    revoked: usize,
) -> Vec<NewEvent> {
    let subject = |kind| event(kind).subject(after.user.id, &after.user.username);
    let tokens = format!("{revoked} refresh token(s) revoked");
    let changes = user_changes(before, after);
    let mut events = Vec::new();
    if !changes.is_empty() || !password_set {
        let detail = match (changes.is_empty(), revoked > 0 && !password_set) {
            (true, _) => "no change".to_owned(),
            (false, true) => format!("{changes}; {tokens}"),
            (false, false) => changes,
        };
        events.push(subject(EventKind::UserChanged).detail(detail));
    }
    if password_set {
        events.push(
            subject(EventKind::PasswordChanged)
                .detail(format!("set by an administrator; {tokens}")),
        );
    }
    events
}

/// What differs between two states of a user (empty when nothing does).
pub fn user_changes(before: &UserRecord, after: &UserRecord) -> String {
    let (b, a) = (&before.user, &after.user);
    let mut parts: Vec<String> = [
        ("username", &b.username, &a.username),
        ("email", &b.email, &a.email),
        ("first_name", &b.first_name, &a.first_name),
        ("last_name", &b.last_name, &a.last_name),
    ]
    .into_iter()
    .filter(|(_, old, new)| old != new)
    .map(|(name, old, new)| format!("{name}: {old} -> {new}"))
    .collect();
    parts.extend(
        [
            ("is_active", b.is_active, a.is_active),
            ("is_staff", b.is_staff, a.is_staff),
            ("is_superuser", b.is_superuser, a.is_superuser),
        ]
        .into_iter()
        .filter(|(_, old, new)| old != new)
        .map(|(name, old, new)| format!("{name}: {old} -> {new}")),
    );
    parts.extend(set_changes("groups", &before.groups, &after.groups));
    parts.extend(set_changes(
        "user_permissions",
        &before.user_permissions,
        &after.user_permissions,
    ));
    parts.join("; ")
}

/// A new user's flags, groups and direct permissions.
pub fn user_summary(record: &UserRecord) -> String {
    let u = &record.user;
    let mut parts = vec![format!(
        "is_active: {}, is_staff: {}, is_superuser: {}",
        u.is_active, u.is_staff, u.is_superuser
    )];
    if !record.groups.is_empty() {
        parts.push(format!("groups: {}", record.groups.join(", ")));
    }
    if !record.user_permissions.is_empty() {
        parts.push(format!(
            "user_permissions: {}",
            record.user_permissions.join(", ")
        ));
    }
    parts.join("; ")
}

/// What differs between two states of a group, after its name and id.
pub fn group_changes(before: &GroupRecord, after: &GroupRecord) -> String {
    let mut parts = vec![group_name(after)];
    if before.group.name != after.group.name {
        parts.push(format!(
            "name: {} -> {}",
            before.group.name, after.group.name
        ));
    }
    parts.extend(set_changes(
        "permissions",
        &before.permissions,
        &after.permissions,
    ));
    parts.join("; ")
}

/// A group's name, id and permissions.
pub fn group_summary(record: &GroupRecord) -> String {
    if record.permissions.is_empty() {
        group_name(record)
    } else {
        format!(
            "{}; permissions: {}",
            group_name(record),
            record.permissions.join(", ")
        )
    }
}

fn group_name(record: &GroupRecord) -> String {
    format!("group {} (id {})", record.group.name, record.group.id)
}

/// A permission's codename, id and name.
pub fn permission_summary(permission: &Permission) -> String {
    format!(
        "permission {} (id {}): {}",
        permission.codename, permission.id, permission.name
    )
}

/// `name: +added -removed`, or nothing when both lists hold the same names.
fn set_changes(name: &str, before: &[String], after: &[String]) -> Option<String> {
    let added = after
        .iter()
        .filter(|n| !before.contains(n))
        .map(|n| format!("+{n}"));
    let removed = before
        .iter()
        .filter(|n| !after.contains(n))
        .map(|n| format!("-{n}"));
    let changes: Vec<String> = added.chain(removed).collect();
    (!changes.is_empty()).then(|| format!("{name}: {}", changes.join(" ")))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::db::models::group::Group;
    use crate::db::models::user::User;

    fn record(groups: &[&str], active: bool) -> UserRecord {
        UserRecord {
            user: User {
                id: 7,
                username: "alice".into(),
                email: "alice@example.com".into(),
                password: "bcrypt_sha256$secret-hash".into(),
                first_name: String::new(),
                last_name: String::new(),
                is_active: active,
                is_staff: false,
                is_superuser: false,
                date_joined: datetime!(2026-12-01 0:00),
                last_login: None,
                security_stamp: "stamp".into(),
            },
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            user_permissions: Vec::new(),
        }
    }

    #[test]
    fn user_changes_name_each_changed_field_and_never_the_password_hash() {
        let before = record(&["ops", "staff"], true);
        let mut after = record(&["analysts", "staff"], false);
        after.user.email = "a@example.com".into();
        after.user.password = "bcrypt_sha256$other-hash".into();
        let detail = user_changes(&before, &after);
        assert_eq!(
            detail,
            "email: alice@example.com -> a@example.com; is_active: true -> false; groups: +analysts -ops"
        );
        assert!(!detail.contains("hash") && !detail.contains("stamp"));
        assert_eq!(user_changes(&before, &before), "");
    }

    #[test]
    fn group_changes_name_the_group_and_its_permission_changes() {
        let group = |name: &str, perms: &[&str]| GroupRecord {
            group: Group {
                id: 3,
                name: name.into(),
            },
            permissions: perms.iter().map(|p| (*p).to_owned()).collect(),
        };
        let detail = group_changes(
            &group("ops", &["auth.view_user"]),
            &group("operators", &["auth.view_user", "auth.change_user"]),
        );
        assert_eq!(
            detail,
            "group operators (id 3); name: ops -> operators; permissions: +auth.change_user"
        );
        assert_eq!(
            group_summary(&group("ops", &["auth.view_user"])),
            "group ops (id 3); permissions: auth.view_user"
        );
    }
}
