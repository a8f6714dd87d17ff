//! What happened: the kinds of security events, each with a stable snake_case name (stored in
//! the `kind` column and used in filters, so never renamed) and a label for the console.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A sign-in (token endpoints or console) succeeded.
    LoginSucceeded,
    /// A sign-in was refused: unknown user, wrong password, inactive, or not staff (console).
    LoginFailed,
    /// A sign-in was refused by the throttle, before its password was checked.
    LoginLocked,
    /// A refresh token that was already used (rotated) was presented again.
    RefreshReuse,
    /// A session ended (sign-out, expiry, revocation).
    SessionEnded,
    /// All sessions of a user were revoked at once.
    SessionsRevoked,
    /// A password was changed by its user or set by an administrator.
    PasswordChanged,
    UserCreated,
    UserChanged,
    UserDeleted,
    GroupCreated,
    GroupChanged,
    GroupDeleted,
    PermissionCreated,
    PermissionChanged,
    PermissionDeleted,
    /// Outstanding refresh tokens revoked from the console.
    TokensRevoked,
    /// A revocation lifted from the console.
    TokenUnrevoked,
}

impl EventKind {
    /// Every kind, in the order the console lists them.
    pub const ALL: [Self; 18] = [
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::LoginLocked,
        Self::RefreshReuse,
        Self::SessionEnded,
        Self::SessionsRevoked,
        Self::PasswordChanged,
        Self::UserCreated,
        Self::UserChanged,
        Self::UserDeleted,
        Self::GroupCreated,
        Self::GroupChanged,
        Self::GroupDeleted,
        Self::PermissionCreated,
        Self::PermissionChanged,
        Self::PermissionDeleted,
        Self::TokensRevoked,
        Self::TokenUnrevoked,
    ];

    /// Kinds the dashboard shows as incidents.
    pub const INCIDENTS: [Self; 2] = [Self::RefreshReuse, Self::LoginLocked];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::LoginLocked => "login_locked",
            Self::RefreshReuse => "refresh_reuse",
            Self::SessionEnded => "session_ended",
            Self::SessionsRevoked => "sessions_revoked",
            Self::PasswordChanged => "password_changed",
            Self::UserCreated => "user_created",
            Self::UserChanged => "user_changed",
            Self::UserDeleted => "user_deleted",
            Self::GroupCreated => "group_created",
            Self::GroupChanged => "group_changed",
            Self::GroupDeleted => "group_deleted",
            Self::PermissionCreated => "permission_created",
            Self::PermissionChanged => "permission_changed",
            Self::PermissionDeleted => "permission_deleted",
            Self::TokensRevoked => "tokens_revoked",
            Self::TokenUnrevoked => "token_unrevoked",
        }
    }

    /// The kind of a stored name.
    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == stored)
    }

    /// How the console names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "Sign-in",
            Self::LoginFailed => "Failed sign-in",
            Self::LoginLocked => "Sign-in refused (locked)",
            Self::RefreshReuse => "Refresh token reused",
            Self::SessionEnded => "Session ended",
            Self::SessionsRevoked => "All sessions revoked",
            Self::PasswordChanged => "Password changed",
            Self::UserCreated => "User created",
            Self::UserChanged => "User changed",
            Self::UserDeleted => "User deleted",
            Self::GroupCreated => "Group created",
            Self::GroupChanged => "Group changed",
            Self::GroupDeleted => "Group deleted",
            Self::PermissionCreated => "Permission created",
            Self::PermissionChanged => "Permission changed",
            Self::PermissionDeleted => "Permission deleted",
            Self::TokensRevoked => "Tokens revoked",
            Self::TokenUnrevoked => "Revocation lifted",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn every_kind_has_a_distinct_snake_case_name_that_parses_back() {
        let mut seen = std::collections::BTreeSet::new();
        for kind in EventKind::ALL {
            let name = kind.as_str();
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
            assert!(seen.insert(name), "{name} twice");
            assert_eq!(EventKind::parse(name), Some(kind));
            assert!(!kind.label().is_empty());
        }
        assert_eq!(EventKind::parse("Login_Succeeded"), None);
        assert_eq!(EventKind::parse(""), None);
    }
}
