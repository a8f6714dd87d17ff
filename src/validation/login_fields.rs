//! The `login_fields` setting: which user fields the `username` of a sign-in may name (the
//! token endpoints, sliding obtain and the console alike), and the rule that follows from it:
//! while email addresses sign in, no two users share one (compared case-insensitively; empty
//! addresses are not shared addresses).

/// The names `login_fields` accepts.
pub const LOGIN_FIELD_NAMES: [&str; 2] = ["username", "email"];

/// The field error when another user already has the address.
pub const EMAIL_TAKEN: &str = "A user with that email address already exists.";

/// Which fields a sign-in's identifier is matched against. When both are on, a user whose
/// username is the identifier wins over a user whose email address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFields {
    pub username: bool,
    pub email: bool,
}

impl Default for LoginFields {
    /// Usernames only, as simplejwt's `USERNAME_FIELD = "username"`.
    fn default() -> Self {
        Self {
            username: true,
            email: false,
        }
    }
}

impl LoginFields {
    /// A non-empty list of distinct names among [`LOGIN_FIELD_NAMES`].
    pub fn parse(names: &[String]) -> Result<Self, String> {
        if names.is_empty() {
            return Err(format!(
                "login_fields must name at least one of {}",
                LOGIN_FIELD_NAMES.join(", ")
            ));
        }
        let mut fields = Self {
            username: false,
            email: false,
        };
        for name in names {
            let slot = match name.as_str() {
                "username" => &mut fields.username,
                "email" => &mut fields.email,
                _ => {
                    return Err(format!(
                        "login_fields: unknown field {name:?} (known: {})",
                        LOGIN_FIELD_NAMES.join(", ")
                    ));
                }
            };
            if *slot {
                return Err(format!("login_fields names {name:?} twice"));
            }
            *slot = true;
        }
        Ok(fields)
    }

    /// Whether email addresses must be unique (case-insensitively) among users.
    pub fn unique_emails(self) -> bool {
        self.email
    }
}

/// An email address as it is compared: lower case.
pub fn email_key(email: &str) -> String {
    email.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(names: &[&str]) -> Result<LoginFields, String> {
        LoginFields::parse(&names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn any_non_empty_subset_of_username_and_email_is_accepted() {
        let cases: [(&[&str], (bool, bool)); 4] = [
            (&["username"], (true, false)),
            (&["email"], (false, true)),
            (&["username", "email"], (true, true)),
            (&["email", "username"], (true, true)),
        ];
        for (names, (username, email)) in cases {
            assert_eq!(
                parse(names),
                Ok(LoginFields { username, email }),
                "{names:?}"
            );
        }
    }

    #[test]
    fn an_empty_list_an_unknown_name_or_a_repeat_is_refused_with_a_reason() {
        let cases: [(&[&str], &str); 4] = [
            (
                &[],
                "login_fields must name at least one of username, email",
            ),
            (&["mail"], "login_fields: unknown field \"mail\""),
            (&["Email"], "login_fields: unknown field \"Email\""),
            (&["email", "email"], "login_fields names \"email\" twice"),
        ];
        for (names, expected) in cases {
            let err = parse(names).err().unwrap_or_default();
            assert!(err.starts_with(expected), "{names:?}: {err}");
        }
    }
}
