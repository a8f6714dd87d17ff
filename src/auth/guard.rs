//! `Allowed<P>`: authenticate (as [`super::AuthUser`] does, but anonymous callers pass through),
//! then apply policy `P`. Authorization shows in a handler's signature.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::permissions::{Caller, ChecksRights, IsAdminUser, IsSuperUser, Policy};
use super::{AuthUser, UserSnapshot, authenticate};
use crate::error::ApiError;

/// A request that policy `P` allowed; holds the caller when one authenticated.
pub struct Allowed<P> {
    caller: Option<AuthUser>,
    _policy: PhantomData<P>,
}

impl<P> Allowed<P> {
    pub fn caller(&self) -> Option<&AuthUser> {
        self.caller.as_ref()
    }
}

impl<P: ChecksRights> Allowed<P> {
    /// The admin acting, for messages that change users, groups or permissions.
    pub fn acting(&self) -> Result<Acting, ApiError> {
        self.caller
            .as_ref()
            .map(|c| Acting {
                user: Arc::clone(&c.user),
            })
            .ok_or(ApiError::NotAuthenticated)
    }
}

impl<P: Policy> FromRequest for Allowed<P> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let caller = authenticate(&req).await?;
            let verdict = P::allows(&Caller {
                user: caller.as_ref().map(|c| &*c.user),
                method: req.method(),
            })?;
            match (verdict, &caller) {
                (true, _) => Ok(Self {
                    caller,
                    _policy: PhantomData,
                }),
                (false, None) => Err(ApiError::NotAuthenticated),
                (false, Some(_)) => Err(ApiError::PermissionDenied(P::message().to_owned())),
            }
        })
    }
}

/// A staff caller (DRF's `IsAdminUser`).
pub type StaffUser = Allowed<IsAdminUser>;
/// An active superuser.
pub type SuperUser = Allowed<IsSuperUser>;

/// Who performs an admin action. Only a rights-checking extractor can make one, so a handler
/// that forgets the check does not compile.
#[derive(Debug, Clone)]
pub struct Acting {
    user: Arc<UserSnapshot>,
}

impl Acting {
    /// An active staff member signed in to the console (the console's session check).
    pub(crate) fn staff(user: Arc<UserSnapshot>) -> Option<Self> {
        (user.is_active && user.is_staff).then_some(Self { user })
    }

    pub fn user(&self) -> &UserSnapshot {
        &self.user
    }

    pub fn is_superuser(&self) -> bool {
        self.user.is_active && self.user.is_superuser
    }
}
