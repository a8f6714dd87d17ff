//! The user manager: every blocking piece of user work (diesel queries, bcrypt) on a
//! `SyncArbiter`, so the async executor never waits on them. It fills the user cache and
//! invalidates it after each of its writes.

use std::sync::Arc;

use actix::prelude::*;
use time::OffsetDateTime;

use crate::auth::throttle::{Throttle, ThrottlePolicy};
use crate::auth::{HashError, PasswordHasher, UserCache, UserSnapshot, random_token};
use crate::db::models::revocation::{self, Revocations};
use crate::db::models::user::{self, NewUser, User};
use crate::db::{DbConn, DbError, DbPool, stored_time};
use crate::error::FieldErrors;
use crate::validation::{EMAIL_TAKEN, LoginFields};

pub struct UserManager {
    pool: DbPool,
    pub(super) hasher: PasswordHasher,
    pub(super) dummy_hash: Arc<str>,
    pub(super) cache: Arc<UserCache>,
    pub(super) update_last_login: bool,
    pub(super) check_user_is_active: bool,
    /// What a sign-in's `username` may name; with `email`, addresses are unique.
    pub(super) login_fields: LoginFields,
    /// The sign-in throttle (`None` when `login_throttle` is off).
    pub(super) throttle: Option<Throttle>,
    /// Run at a lower CPU priority (the bcrypt threads), so request handling keeps the cores.
    background: bool,
}

/// What the user manager needs besides its pool and cache.
#[derive(Debug, Clone)]
pub struct UserPolicy {
    pub hasher: PasswordHasher,
    pub dummy_hash: Arc<str>,
    pub update_last_login: bool,
    pub check_user_is_active: bool,
    pub login_fields: LoginFields,
    pub throttle: Option<ThrottlePolicy>,
}

impl UserManager {
    pub fn new(pool: DbPool, cache: Arc<UserCache>, policy: UserPolicy) -> Self {
        Self {
            pool,
            hasher: policy.hasher,
            dummy_hash: policy.dummy_hash,
            cache,
            update_last_login: policy.update_last_login,
            check_user_is_active: policy.check_user_is_active,
            login_fields: policy.login_fields,
            throttle: policy.throttle.map(Throttle::new),
            background: false,
        }
    }

    /// The same manager on threads that yield the CPU to request handling (niceness about 10):
    /// logins use every idle cycle but never delay protected requests.
    pub fn in_background(mut self) -> Self {
        self.background = true;
        self
    }

    pub(super) fn conn(&self) -> Result<crate::db::PooledConn, UserError> {
        Ok(self.pool.get()?)
    }

    /// While email addresses sign in (`login_fields`), refuses one that a user other than
    /// `except` has (case-insensitively): `{"email": ["A user with that email address already
    /// exists."]}`. Call it inside the write that stores the address (it locks the address on
    /// PostgreSQL); an earlier call only answers sooner.
    pub(super) fn check_email_free(
        &self,
        conn: &mut DbConn,
        email: &str,
        except: Option<i64>,
    ) -> Result<(), UserError> {
        if self.login_fields.unique_emails() && user::email_taken(conn, email, except)? {
            return Err(field_error("email", EMAIL_TAKEN.to_owned()));
        }
        Ok(())
    }

    /// Reads a user's snapshot and caches it (unless a write raced the read).
    pub(super) fn load(
        &self,
        conn: &mut DbConn,
        row: User,
        generation: u64,
    ) -> Result<Arc<UserSnapshot>, UserError> {
        let memberships = user::memberships(conn, row.id)?;
        let snapshot = Arc::new(snapshot(row, memberships));
        self.cache.insert_loaded(generation, Arc::clone(&snapshot));
        Ok(snapshot)
    }
}

/// The user manager threads that only load users for the request path (cache misses), apart
/// from the threads doing bcrypt, so a burst of logins never delays a protected request.
#[derive(Clone)]
pub struct UserReader(pub Addr<UserManager>);

impl Actor for UserManager {
    type Context = SyncContext<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        if !self.background {
            return;
        }
        let lower = thread_priority::ThreadPriorityValue::try_from(23u8)
            .map_err(|e| e.to_string())
            .and_then(|v| {
                thread_priority::set_current_thread_priority(
                    thread_priority::ThreadPriority::Crossplatform(v),
                )
                .map_err(|e| e.to_string())
            });
        if let Err(err) = lower {
            tracing::debug!(error = %err, "could not lower the priority of a bcrypt thread");
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// Unknown user, wrong password or (when checked) inactive: one answer for all three.
    #[error("no active account found with the given credentials")]
    InvalidCredentials,
    /// Too many failed sign-ins: try again after this long (whatever the password).
    #[error("sign-in throttled for {0:?}")]
    Throttled(std::time::Duration),
    /// Per-field problems (taken username, wrong current password).
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("user not found")]
    NotFound,
    /// The acting admin may not do this (403 with this detail).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// A 400 naming one field.
pub fn field_error(field: &str, message: String) -> UserError {
    UserError::Invalid(FieldErrors::from([(field.to_owned(), vec![message])]))
}

/// Builds the request path's view of a user row.
pub fn snapshot(row: User, memberships: user::Memberships) -> UserSnapshot {
    UserSnapshot {
        id: row.id,
        username: row.username,
        email: row.email,
        first_name: row.first_name,
        last_name: row.last_name,
        is_active: row.is_active,
        is_staff: row.is_staff,
        is_superuser: row.is_superuser,
        security_stamp: row.security_stamp,
        date_joined: row.date_joined.assume_utc(),
        last_login: row.last_login.map(|t| t.assume_utc()),
        groups: memberships.groups,
        permissions: memberships.permissions,
        rendered: Default::default(),
    }
}

/// A new random security stamp.
pub fn new_stamp() -> String {
    random_token(16)
}

/// A user's current snapshot, from the database (the caller has already missed the cache).
#[derive(Message)]
#[rtype(result = "Result<Option<Arc<UserSnapshot>>, UserError>")]
pub struct LoadUser(pub i64);

impl Handler<LoadUser> for UserManager {
    type Result = Result<Option<Arc<UserSnapshot>>, UserError>;

    fn handle(&mut self, msg: LoadUser, _: &mut Self::Context) -> Self::Result {
        if let Some(hit) = self.cache.get(msg.0) {
            return Ok(Some(hit));
        }
        let mut conn = self.conn()?;
        let generation = self.cache.generation();
        match user::find(&mut conn, msg.0)? {
            Some(row) => self.load(&mut conn, row, generation).map(Some),
            None => Ok(None),
        }
    }
}

/// Creates an ordinary account (signup). Input is already validated for shape and policy.
#[derive(Message)]
#[rtype(result = "Result<Arc<UserSnapshot>, UserError>")]
pub struct RegisterUser {
    pub username: String,
    pub email: String,
    pub password: String,
    pub now: OffsetDateTime,
}

pub const USERNAME_TAKEN: &str = "A user with that username already exists.";

impl Handler<RegisterUser> for UserManager {
    type Result = Result<Arc<UserSnapshot>, UserError>;

    fn handle(&mut self, msg: RegisterUser, _: &mut Self::Context) -> Self::Result {
        let taken = || {
            UserError::Invalid(FieldErrors::from([(
                "username".to_owned(),
                vec![USERNAME_TAKEN.to_owned()],
            )]))
        };
        let mut conn = self.conn()?;
        let mut errors = FieldErrors::new();
        if user::username_taken(&mut conn, &msg.username)? {
            errors.insert("username".to_owned(), vec![USERNAME_TAKEN.to_owned()]);
        }
        match self.check_email_free(&mut conn, &msg.email, None) {
            Err(UserError::Invalid(email)) => errors.extend(email),
            other => other?,
        }
        if !errors.is_empty() {
            return Err(UserError::Invalid(errors));
        }
        let hash = self.hasher.hash(&msg.password)?;
        let stamp = new_stamp();
        let new = NewUser {
            username: &msg.username,
            email: &msg.email,
            password: &hash,
            first_name: "",
            last_name: "",
            is_active: true,
            is_staff: false,
            is_superuser: false,
            date_joined: stored_time(msg.now),
            security_stamp: &stamp,
        };
        let row = conn.write(|conn| {
            self.check_email_free(conn, &msg.email, None)?;
            user::insert(conn, &new).map_err(|e| match e {
                DbError::Conflict(_) => taken(),
                other => other.into(),
            })
        })?;
        self.load(&mut conn, row, self.cache.generation())
    }
}

/// Changes a password after checking the current one. In the same transaction the security
/// stamp is renewed and every live refresh token of the user is blacklisted; those tokens are
/// returned so the blacklist actor can learn them.
#[derive(Message)]
#[rtype(result = "Result<(Arc<UserSnapshot>, Revocations), UserError>")]
pub struct ChangePassword {
    pub user_id: i64,
    pub current_password: String,
    pub new_password: String,
    pub now: OffsetDateTime,
}

pub const WRONG_CURRENT_PASSWORD: &str =
    "Your old password was entered incorrectly. Please enter it again.";

impl Handler<ChangePassword> for UserManager {
    type Result = Result<(Arc<UserSnapshot>, Revocations), UserError>;

    fn handle(&mut self, msg: ChangePassword, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.conn()?;
        let row = user::find(&mut conn, msg.user_id)?.ok_or(UserError::NotFound)?;
        if !self.hasher.verify(&msg.current_password, &row.password) {
            return Err(UserError::Invalid(FieldErrors::from([(
                "current_password".to_owned(),
                vec![WRONG_CURRENT_PASSWORD.to_owned()],
            )])));
        }
        let hash = self.hasher.hash(&msg.new_password)?;
        let stamp = new_stamp();
        let now = stored_time(msg.now);
        let revoked = conn.write(|conn| {
            user::set_password(conn, row.id, &hash, &stamp)?;
            revocation::revoke_all_for_user(conn, row.id, Some(row.id), now)
        })?;
        self.cache.invalidate(row.id);
        let row = user::find(&mut conn, msg.user_id)?.ok_or(UserError::NotFound)?;
        let snapshot = self.load(&mut conn, row, self.cache.generation())?;
        Ok((snapshot, revoked))
    }
}
