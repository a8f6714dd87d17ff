//! What an import changes, decided from what the source holds and what keyward holds, before
//! anything is written. Pure functions: the same plan is printed by `--dry-run` and applied
//! by a real run.

use std::collections::{BTreeSet, HashMap};

use super::source::{DjangoPermission, DjangoUser};
use crate::auth::HashFormat;
use crate::db::models::import::{Link, UserFields};
use crate::db::models::user::User;

/// What to do with a user keyward already holds under the same id with another username, or
/// under another id with the same username.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnConflict {
    /// Refuse to run, listing the conflicts (the default).
    Refuse,
    /// Leave keyward's user alone and skip the Django user (its links and tokens too).
    Skip,
    /// Django's user wins: the row with its id takes its values; a keyward user holding its
    /// username under another id is deleted.
    Overwrite,
}

/// A Django user that collides with a keyward user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub django_id: i64,
    pub username: String,
    /// The keyward user in the way: its id and username.
    pub keyward_id: i64,
    pub keyward_username: String,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Django user {} {:?} vs keyward user {} {:?}",
            self.django_id, self.username, self.keyward_id, self.keyward_username
        )
    }
}

/// The conflicts of a batch of Django users with keyward's users of the same ids or usernames.
/// A keyward row with the Django user's id and another username is no conflict when it joined
/// at the same instant (to the microsecond): it is that account, imported before and renamed in
/// Django since, and is updated.
pub fn conflicts(batch: &[DjangoUser], by_id: &[User], by_name: &[User]) -> Vec<Conflict> {
    let ids: HashMap<i64, &User> = by_id.iter().map(|u| (u.id, u)).collect();
    let names: HashMap<&str, &User> = by_name.iter().map(|u| (u.username.as_str(), u)).collect();
    let mut found = Vec::new();
    for user in batch {
        let joined = crate::db::stored_time(user.date_joined.assume_utc());
        let other = match (ids.get(&user.id), names.get(user.username.as_str())) {
            (Some(k), _) if k.username != user.username && k.date_joined != joined => Some(*k),
            (_, Some(k)) if k.id != user.id => Some(*k),
            _ => None,
        };
        if let Some(k) = other {
            found.push(Conflict {
                django_id: user.id,
                username: user.username.clone(),
                keyward_id: k.id,
                keyward_username: k.username.clone(),
            });
        }
    }
    found
}

/// The password stored for a Django hash: as it is, unless it is a legacy format keyward is
/// not told to accept, in which case the user is imported without a usable password.
pub fn stored_password(hash: &str, allow_legacy: bool) -> (String, HashFormat) {
    let format = HashFormat::of(hash);
    if format.is_legacy() && !allow_legacy {
        return (REFUSED_LEGACY.to_owned(), format);
    }
    (hash.to_owned(), format)
}

/// The unusable password given in place of a refused legacy hash (Django's unusable
/// passwords start with `!`; this one is the same on every run, so a re-run changes nothing).
pub const REFUSED_LEGACY: &str = "!refused-legacy-hash";

pub fn fields(user: &DjangoUser, password: String) -> UserFields {
    UserFields {
        username: user.username.clone(),
        email: user.email.clone(),
        password,
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        is_active: user.is_active,
        is_staff: user.is_staff,
        is_superuser: user.is_superuser,
        date_joined: crate::db::stored_time(user.date_joined.assume_utc()),
        last_login: user
            .last_login
            .map(|t| crate::db::stored_time(t.assume_utc())),
    }
}

/// A user's fate in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserStep {
    Create(UserFields),
    Update(UserFields),
    Unchanged,
}

/// Compares a Django user's fields with keyward's row of the same id.
pub fn user_step(wanted: UserFields, existing: Option<&User>) -> UserStep {
    match existing {
        None => UserStep::Create(wanted),
        Some(row) if UserFields::of(row) == wanted => UserStep::Unchanged,
        Some(_) => UserStep::Update(wanted),
    }
}

/// Links to add and to remove so that keyward's links of some users (or groups) are the
/// source's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkPlan {
    pub add: Vec<Link>,
    pub remove: Vec<Link>,
}

pub fn links(wanted: &[Link], existing: &[Link]) -> LinkPlan {
    let wanted: BTreeSet<Link> = wanted.iter().copied().collect();
    let existing: BTreeSet<Link> = existing.iter().copied().collect();
    LinkPlan {
        add: wanted.difference(&existing).copied().collect(),
        remove: existing.difference(&wanted).copied().collect(),
    }
}

/// keyward's codename for a Django permission: `app_label.codename`, except that the
/// permissions Django creates for a custom user model (`accounts.view_user`, ...) are
/// keyward's own `auth.*_user` ones, keyward's users being that model.
pub fn codename(permission: &DjangoPermission, user_model: Option<(&str, &str)>) -> String {
    if let Some((app, model)) = user_model
        && permission.app_label == app
        && permission.model == model
    {
        for verb in ["add", "change", "delete", "view"] {
            if permission.codename == format!("{verb}_{model}") {
                return format!("auth.{verb}_user");
            }
        }
    }
    format!("{}.{}", permission.app_label, permission.codename)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn django(id: i64, name: &str) -> DjangoUser {
        DjangoUser {
            id,
            username: name.into(),
            email: String::new(),
            password: "!".into(),
            first_name: String::new(),
            last_name: String::new(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
            date_joined: time::macros::datetime!(2024-01-01 0:00),
            last_login: None,
        }
    }

    fn keyward(id: i64, name: &str) -> User {
        User {
            id,
            username: name.into(),
            email: String::new(),
            password: "!".into(),
            first_name: String::new(),
            last_name: String::new(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
            date_joined: time::macros::datetime!(2024-01-01 0:00),
            last_login: None,
            security_stamp: "s".into(),
        }
    }

    #[test]
    fn a_conflict_is_a_shared_id_or_a_shared_name_but_not_both() {
        let batch = [django(1, "ann"), django(2, "bob"), django(3, "cy")];
        let mut other = keyward(2, "other");
        other.date_joined = time::macros::datetime!(2025-03-01 12:00);
        let by_id = [keyward(1, "ann"), other];
        let by_name = [keyward(1, "ann"), keyward(9, "cy")];
        let found = conflicts(&batch, &by_id, &by_name);
        let pairs: Vec<(i64, i64)> = found.iter().map(|c| (c.django_id, c.keyward_id)).collect();
        assert_eq!(pairs, vec![(2, 2), (3, 9)]);
    }

    #[test]
    fn an_account_renamed_in_django_since_the_last_import_is_no_conflict() {
        let renamed = [django(1, "ann.smith")];
        let imported = [keyward(1, "ann")];
        assert!(conflicts(&renamed, &imported, &[]).is_empty());
        let mut other = keyward(1, "ann");
        other.date_joined = time::macros::datetime!(2025-03-01 12:00);
        assert_eq!(conflicts(&renamed, &[other], &[]).len(), 1);
    }

    #[test]
    fn legacy_hashes_are_refused_unless_allowed() {
        assert_eq!(stored_password("md5$s$0", false).0, REFUSED_LEGACY);
        assert_eq!(stored_password("md5$s$0", true).0, "md5$s$0");
        assert_eq!(
            stored_password("pbkdf2_sha256$1$s$h", false).0,
            "pbkdf2_sha256$1$s$h"
        );
        assert_eq!(stored_password("!unusable", false).0, "!unusable");
    }

    #[test]
    fn links_are_made_equal() {
        let plan = links(&[(1, 1), (1, 2)], &[(1, 2), (1, 3)]);
        assert_eq!(plan.add, vec![(1, 1)]);
        assert_eq!(plan.remove, vec![(1, 3)]);
    }

    #[test]
    fn a_custom_user_models_permissions_are_keywards_user_permissions() {
        let p = |app: &str, model: &str, code: &str| DjangoPermission {
            id: 1,
            app_label: app.into(),
            model: model.into(),
            codename: code.into(),
            name: String::new(),
        };
        let custom = Some(("accounts", "member"));
        assert_eq!(
            codename(&p("accounts", "member", "view_member"), custom),
            "auth.view_user"
        );
        assert_eq!(
            codename(&p("accounts", "member", "ban_member"), custom),
            "accounts.ban_member"
        );
        assert_eq!(
            codename(&p("auth", "user", "view_user"), None),
            "auth.view_user"
        );
        assert_eq!(
            codename(&p("shop", "order", "refund"), custom),
            "shop.refund"
        );
    }

    #[test]
    fn an_identical_row_is_unchanged() {
        let row = keyward(1, "ann");
        let wanted = fields(&django(1, "ann"), "!".into());
        assert_eq!(user_step(wanted.clone(), Some(&row)), UserStep::Unchanged);
        let mut renamed = wanted.clone();
        renamed.email = "a@example.com".into();
        assert!(matches!(
            user_step(renamed, Some(&row)),
            UserStep::Update(_)
        ));
        assert!(matches!(user_step(wanted, None), UserStep::Create(_)));
    }
}
