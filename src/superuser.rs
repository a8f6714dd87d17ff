//! Creating superusers: the `createsuperuser` command and the first-start default account.

use time::OffsetDateTime;

use crate::actors::user_manager::new_stamp;
use crate::auth::{PasswordHasher, random_token};
use crate::db::models::user::{self, NewUser};
use crate::db::{DbConn, DbError, stored_time};
use crate::prepare::PrepareError;

/// The default account's name.
pub const DEFAULT_USERNAME: &str = "admin";

/// A superuser just created, with the password to show once.
pub struct Created {
    pub username: String,
    pub password: String,
}

/// Creates a superuser (active, staff, superuser).
pub fn create(
    conn: &mut DbConn,
    hasher: &PasswordHasher,
    username: &str,
    email: &str,
    password: &str,
    now: OffsetDateTime,
) -> Result<user::User, PrepareError> {
    let hash = hasher.hash(password)?;
    let stamp = new_stamp();
    let new = NewUser {
        username,
        email,
        password: &hash,
        first_name: "",
        last_name: "",
        is_active: true,
        is_staff: true,
        is_superuser: true,
        date_joined: stored_time(now),
        security_stamp: &stamp,
    };
    Ok(user::insert(conn, &new)?)
}

/// Creates `admin` with a random password when there is no superuser and no user of that name.
pub fn ensure_default(
    conn: &mut DbConn,
    hasher: &PasswordHasher,
    now: OffsetDateTime,
) -> Result<Option<Created>, PrepareError> {
    if user::superuser_exists(conn)? {
        return Ok(None);
    }
    if user::username_taken(conn, DEFAULT_USERNAME)? {
        tracing::warn!(
            "no superuser exists and the name 'admin' is taken: run `keyward createsuperuser`"
        );
        return Ok(None);
    }
    let password = random_token(15);
    match create(conn, hasher, DEFAULT_USERNAME, "", &password, now) {
        Ok(_) => Ok(Some(Created {
            username: DEFAULT_USERNAME.to_owned(),
            password,
        })),
        // Another instance created it at the same moment.
        Err(PrepareError::Database(DbError::Conflict(_))) => Ok(None),
        Err(other) => Err(other),
    }
}
