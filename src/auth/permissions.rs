//! DRF's permission classes as types. A policy looks at the caller (if any) and the method;
//! [`super::Allowed`] runs it and answers as DRF does: 401 for an anonymous caller, 403 for an
//! authenticated one, 405 for a method a model permission does not know.

use std::marker::PhantomData;

use actix_web::http::Method;

use super::UserSnapshot;
use crate::error::ApiError;

/// What a policy decides on.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub user: Option<&'a UserSnapshot>,
    pub method: &'a Method,
}

impl Caller<'_> {
    /// `GET`, `HEAD` and `OPTIONS` (DRF's `SAFE_METHODS`).
    pub fn is_safe(&self) -> bool {
        matches!(*self.method, Method::GET | Method::HEAD | Method::OPTIONS)
    }

    fn has_perms(&self, codenames: &[&str]) -> bool {
        self.user
            .is_some_and(|u| codenames.iter().all(|c| u.has_perm(c)))
    }
}

pub const DEFAULT_DENIAL: &str = "You do not have permission to perform this action.";

/// A permission class.
pub trait Policy: 'static {
    /// `Ok(true)` to allow; `Err` for an answer other than 401/403 (a 405).
    fn allows(caller: &Caller<'_>) -> Result<bool, ApiError>;

    /// The 403 `detail` when an authenticated caller is refused.
    fn message() -> &'static str {
        DEFAULT_DENIAL
    }
}

/// Policies that only pass for an authenticated caller whose rights were checked: only they
/// let a handler build [`super::Acting`] for admin messages.
pub trait ChecksRights: Policy {}

/// Always allows.
pub struct AllowAny;
impl Policy for AllowAny {
    fn allows(_: &Caller<'_>) -> Result<bool, ApiError> {
        Ok(true)
    }
}

/// Any authenticated user.
pub struct IsAuthenticated;
impl Policy for IsAuthenticated {
    fn allows(caller: &Caller<'_>) -> Result<bool, ApiError> {
        Ok(caller.user.is_some())
    }
}

/// Staff users (`is_staff`; a superuser without the staff flag is refused, as in DRF).
pub struct IsAdminUser;
impl Policy for IsAdminUser {
    fn allows(caller: &Caller<'_>) -> Result<bool, ApiError> {
        Ok(caller.user.is_some_and(|u| u.is_staff))
    }
}
impl ChecksRights for IsAdminUser {}

/// Active superusers.
pub struct IsSuperUser;
impl Policy for IsSuperUser {
    fn allows(caller: &Caller<'_>) -> Result<bool, ApiError> {
        Ok(caller.user.is_some_and(|u| u.is_active && u.is_superuser))
    }
}
impl ChecksRights for IsSuperUser {}

/// Reads for everyone, writes for authenticated users.
pub struct IsAuthenticatedOrReadOnly;
impl Policy for IsAuthenticatedOrReadOnly {
    fn allows(caller: &Caller<'_>) -> Result<bool, ApiError> {
        Ok(caller.is_safe() || caller.user.is_some())
    }
}

/// A model that model permissions are about: `<app>.<verb>_<model>`.
pub trait Model: 'static {
    const APP: &'static str;
    const NAME: &'static str;
}

/// The permission a method needs on a model: GET/HEAD/OPTIONS view, POST add, PUT/PATCH
/// change, DELETE delete; any other method is a 405.
pub fn model_permission(method: &Method, app: &str, model: &str) -> Result<String, ApiError> {
    let verb = match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => "view",
        Method::POST => "add",
        Method::PUT | Method::PATCH => "change",
        Method::DELETE => "delete",
        _ => {
            return Err(ApiError::MethodNotAllowed {
                method: method.to_string(),
                allow: "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
            });
        }
    };
    Ok(format!("{app}.{verb}_{model}"))
}

/// DRF's `DjangoModelPermissions` (with `view` required for reads).
pub struct ModelPermissions<M>(PhantomData<M>);
impl<M: Model> Policy for ModelPermissions<M> {
    fn allows(caller: &Caller<'_>) -> Result<bool, ApiError> {
        if caller.user.is_none() {
            return Ok(false);
        }
        let needed = model_permission(caller.method, M::APP, M::NAME)?;
        Ok(caller.has_perms(&[&needed]))
    }
}
impl<M: Model> ChecksRights for ModelPermissions<M> {}

/// A fixed list of permissions, all required.
pub trait PermissionList: 'static {
    const CODENAMES: &'static [&'static str];
}

/// Requires every permission of `P`.
pub struct RequirePermissions<P>(PhantomData<P>);
impl<P: PermissionList> Policy for RequirePermissions<P> {
    fn allows(caller: &Caller<'_>) -> Result<bool, ApiError> {
        Ok(caller.has_perms(P::CODENAMES))
    }
}
impl<P: PermissionList> ChecksRights for RequirePermissions<P> {}

/// Declares a [`PermissionList`]: `permission_list!(pub ViewReports = ["reports.view_report"]);`
#[macro_export]
macro_rules! permission_list {
    ($vis:vis $name:ident = [$($codename:literal),+ $(,)?]) => {
        $vis struct $name;
        impl $crate::auth::PermissionList for $name {
            const CODENAMES: &'static [&'static str] = &[$($codename),+];
        }
    };
}

/// Both policies (DRF's `A & B`).
pub struct And<A, B>(PhantomData<(A, B)>);
impl<A: Policy, B: Policy> Policy for And<A, B> {
    fn allows(caller: &Caller<'_>) -> Result<bool, ApiError> {
        Ok(A::allows(caller)? && B::allows(caller)?)
    }
    fn message() -> &'static str {
        A::message()
    }
}
impl<A: ChecksRights, B: Policy> ChecksRights for And<A, B> {}

/// Either policy (DRF's `A | B`).
pub struct Or<A, B>(PhantomData<(A, B)>);
impl<A: Policy, B: Policy> Policy for Or<A, B> {
    fn allows(caller: &Caller<'_>) -> Result<bool, ApiError> {
        Ok(A::allows(caller)? || B::allows(caller)?)
    }
}

/// The opposite (DRF's `~A`).
pub struct Not<A>(PhantomData<A>);
impl<A: Policy> Policy for Not<A> {
    fn allows(caller: &Caller<'_>) -> Result<bool, ApiError> {
        Ok(!A::allows(caller)?)
    }
}
