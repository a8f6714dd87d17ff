//! Where each endpoint is served: the `[paths]` table (`KEYWARD_PATHS__<NAME>` in the
//! environment). The defaults are keyward's usual paths; an old project's own spellings
//! (`/gettoken/`, `/refreshtoken/`, ...) work by setting them here.
//!
//! A path starts with `/`; one that ends with `/` is also served without it, as the defaults
//! are. A path with parameters keeps its default's (`{id}`, `{sid}`), each as a whole segment.
//! No two endpoints may share a path, and no API path may lie under the console's.

use serde::Deserialize;

/// One endpoint's path setting, as [`Paths::entries`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathEntry<'a> {
    /// The setting's name in `[paths]`.
    pub name: &'static str,
    /// The configured path.
    pub path: &'a str,
    /// keyward's default path.
    pub default: &'static str,
}

macro_rules! paths {
    ($($(#[$doc:meta])* $name:ident = $default:literal,)*) => {
        /// The path of every endpoint (`[paths]`).
        #[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Paths {
            $($(#[$doc])* pub $name: String,)*
        }

        impl Default for Paths {
            fn default() -> Self {
                Self { $($name: $default.into(),)* }
            }
        }

        impl Paths {
            /// Every path setting, in declaration order.
            pub fn entries(&self) -> Vec<PathEntry<'_>> {
                vec![$(PathEntry {
                    name: stringify!($name),
                    path: &self.$name,
                    default: $default,
                },)*]
            }
        }
    };
}

paths! {
    /// simplejwt's `TokenObtainPairView` (sign-in).
    token_obtain = "/api/token/",
    /// `TokenRefreshView`; the refresh cookie is limited to it and to `token_blacklist`.
    token_refresh = "/api/token/refresh/",
    /// `TokenVerifyView`.
    token_verify = "/api/token/verify/",
    /// `TokenBlacklistView` (logout).
    token_blacklist = "/api/token/blacklist/",
    /// `TokenObtainSlidingView` (with `sliding_tokens`).
    token_sliding = "/api/token/sliding/",
    /// `TokenRefreshSlidingView` (with `sliding_tokens`).
    token_sliding_refresh = "/api/token/sliding/refresh/",
    /// Sign-up (with `allow_signup`).
    signup = "/api/signup/",
    /// The signed-in user.
    me = "/api/me/",
    /// The signed-in user's password change.
    me_password = "/api/me/password/",
    /// The signed-in user's sessions.
    me_sessions = "/api/me/sessions/",
    /// Ends the signed-in user's other sessions.
    me_sessions_revoke_others = "/api/me/sessions/revoke-others/",
    /// One session of the signed-in user.
    me_session = "/api/me/sessions/{sid}/",
    /// The users (admin API).
    users = "/api/users/",
    /// One user; `Location` of a created user.
    user = "/api/users/{id}/",
    /// A user's sessions.
    user_sessions = "/api/users/{id}/sessions/",
    /// Ends every session of a user.
    user_sessions_revoke_all = "/api/users/{id}/sessions/revoke-all/",
    /// One session of a user.
    user_session = "/api/users/{id}/sessions/{sid}/",
    /// The groups.
    groups = "/api/groups/",
    /// One group.
    group = "/api/groups/{id}/",
    /// The permissions.
    permissions = "/api/permissions/",
    /// One permission.
    permission = "/api/permissions/{id}/",
    /// The check for reverse proxies (`auth_request`, `forward_auth`).
    auth_check = "/api/auth/check",
    /// Liveness.
    health = "/health",
    /// Readiness.
    health_ready = "/health/ready",
    /// The OpenAPI 3.1 description.
    schema = "/api/schema/",
    /// The browsable API (Swagger UI); its files are served beneath it, so it ends with `/`.
    docs = "/api/docs/",
    /// Where the console is mounted; its pages are under it.
    console = "/admin",
}

impl Paths {
    /// The console's mount without a trailing slash (`/admin`).
    pub fn console_root(&self) -> &str {
        self.console.trim_end_matches('/')
    }

    /// `path` with its `{param}` segments filled from `values`.
    pub fn fill(path: &str, values: &[(&str, &str)]) -> String {
        values.iter().fold(path.to_owned(), |path, (name, value)| {
            path.replace(&format!("{{{name}}}"), value)
        })
    }

    /// The paths set to other than their defaults, as `name = path`.
    pub fn moved(&self) -> Vec<String> {
        self.entries()
            .into_iter()
            .filter(|e| e.path != e.default)
            .map(|e| format!("{} = {}", e.name, e.path))
            .collect()
    }

    /// Each path well formed, with its default's parameters; no two the same; none under
    /// the console. One line naming the setting otherwise.
    pub fn validate(&self) -> Result<(), String> {
        let entries = self.entries();
        for entry in &entries {
            check_one(entry)?;
        }
        if !self.docs.ends_with('/') {
            return Err(format!(
                "paths.docs must end with '/' (the page's files are served beneath it), got {:?}",
                self.docs
            ));
        }
        let console = self.console_root();
        if console.is_empty() {
            return Err(format!(
                "paths.console must name a path of its own, such as \"/admin\", got {:?}",
                self.console
            ));
        }
        for (i, a) in entries.iter().enumerate() {
            for b in &entries[i + 1..] {
                if shape(a.path) == shape(b.path) {
                    return Err(format!(
                        "paths.{} and paths.{} are the same path ({:?} and {:?}): each \
                         endpoint needs its own",
                        a.name, b.name, a.path, b.path
                    ));
                }
            }
            let under = a.path == console || a.path.starts_with(&format!("{console}/"));
            if a.name != "console" && under {
                return Err(format!(
                    "paths.{} ({:?}) is under the console's path (paths.console = {:?}): \
                     move one of them",
                    a.name, a.path, self.console
                ));
            }
        }
        Ok(())
    }
}

/// A path as the router tells it apart: without its trailing slash, parameters unnamed.
fn shape(path: &str) -> String {
    path.trim_end_matches('/')
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The `{param}` segments of a path, in order.
fn params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|s| s.starts_with('{') && s.ends_with('}'))
        .collect()
}

fn check_one(entry: &PathEntry<'_>) -> Result<(), String> {
    let PathEntry {
        name,
        path,
        default,
    } = *entry;
    let bad = |why: &str| {
        Err(format!(
            "paths.{name} {why}, got {path:?} (default {default:?})"
        ))
    };
    if !path.starts_with('/') {
        return bad("must start with '/'");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/-._~{}".contains(c);
    if !path.chars().all(allowed) {
        return bad("may hold only letters, digits, '/', '-', '.', '_', '~' and {parameters}");
    }
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let empty = |(i, s): (usize, &&str)| (s.is_empty() && i != last) || matches!(*s, "." | "..");
    if segments.iter().enumerate().any(empty) {
        return bad("must not hold an empty, '.' or '..' segment");
    }
    let whole = |s: &str| {
        s.len() > 2
            && s.starts_with('{')
            && s.ends_with('}')
            && !s[1..s.len() - 1].contains(['{', '}'])
    };
    if segments.iter().any(|s| s.contains(['{', '}']) && !whole(s)) {
        return bad("may hold a parameter only as a whole segment, such as /{id}/");
    }
    let (mut have, mut want) = (params(path), params(default));
    have.sort_unstable();
    want.sort_unstable();
    if have != want {
        let want = if want.is_empty() {
            "no parameters".to_owned()
        } else {
            format!("the parameters {} (once each)", want.join(", "))
        };
        return bad(&format!("must hold {want}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(Paths::default().validate(), Ok(()));
        assert!(Paths::default().moved().is_empty());
    }

    #[test]
    fn an_old_projects_spellings_are_valid() {
        let paths = Paths {
            token_obtain: "/gettoken/".into(),
            token_verify: "/verifytoken/".into(),
            token_refresh: "/refreshtoken/".into(),
            ..Paths::default()
        };
        assert_eq!(paths.validate(), Ok(()));
        assert_eq!(paths.moved().len(), 3);
    }

    #[test]
    fn bad_paths_are_refused_with_the_setting_named() {
        type Case = (&'static str, fn(&mut Paths), &'static str);
        let cases: &[Case] = &[
            (
                "no slash",
                |p| p.token_obtain = "gettoken/".into(),
                "paths.token_obtain must start with '/'",
            ),
            (
                "empty",
                |p| p.me = String::new(),
                "paths.me must start with '/'",
            ),
            (
                "query",
                |p| p.me = "/me/?x=1".into(),
                "paths.me may hold only",
            ),
            (
                "space",
                |p| p.me = "/my self/".into(),
                "paths.me may hold only",
            ),
            (
                "double slash",
                |p| p.me = "/api//me/".into(),
                "empty, '.' or '..'",
            ),
            (
                "trailing double slash",
                |p| p.me = "/api/me//".into(),
                "empty, '.' or '..'",
            ),
            (
                "climb",
                |p| p.me = "/api/../me/".into(),
                "empty, '.' or '..'",
            ),
            (
                "missing id",
                |p| p.user = "/api/users/one/".into(),
                "paths.user must hold the parameters {id}",
            ),
            (
                "renamed id",
                |p| p.user = "/api/users/{pk}/".into(),
                "paths.user must hold the parameters {id}",
            ),
            (
                "extra param",
                |p| p.me = "/api/{me}/".into(),
                "paths.me must hold no parameters",
            ),
            (
                "part segment",
                |p| p.user = "/api/users/u{id}/".into(),
                "as a whole segment",
            ),
            (
                "twice",
                |p| p.token_verify = "/api/token/".into(),
                "paths.token_obtain and paths.token_verify are the same path",
            ),
            (
                "twice without slash",
                |p| p.token_verify = "/api/token".into(),
                "are the same path",
            ),
            (
                "same shape",
                |p| p.group = "/api/users/{id}/".into(),
                "paths.user and paths.group are the same path",
            ),
            (
                "under console",
                |p| p.me = "/admin/me/".into(),
                "paths.me (\"/admin/me/\") is under the console's path",
            ),
            (
                "console at root",
                |p| p.console = "/".into(),
                "paths.console must name a path of its own",
            ),
            (
                "console on api",
                |p| p.console = "/api/me".into(),
                "are the same path",
            ),
        ];
        for (case, change, expected) in cases {
            let mut paths = Paths::default();
            change(&mut paths);
            let Err(error) = paths.validate() else {
                panic!("{case}: accepted");
            };
            assert!(error.contains(expected), "{case}: {error}");
        }
    }

    #[test]
    fn a_console_path_with_a_trailing_slash_is_its_root() {
        let paths = Paths {
            console: "/staff/".into(),
            ..Paths::default()
        };
        assert_eq!(paths.validate(), Ok(()));
        assert_eq!(paths.console_root(), "/staff");
    }

    #[test]
    fn parameters_are_filled() {
        let path = Paths::fill(
            "/api/users/{id}/sessions/{sid}/",
            &[("id", "7"), ("sid", "x")],
        );
        assert_eq!(path, "/api/users/7/sessions/x/");
    }
}
