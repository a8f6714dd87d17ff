//! The OpenAPI 3.1 description of the API, generated from the handlers' `#[utoipa::path]`
//! annotations and the types' schemas, then fitted to this instance: each operation moves
//! from its default path to the configured one ([`crate::config::Paths`]), and only the
//! endpoints the router registers ([`super::routes`]) stay in it (no sliding endpoints without
//! `sliding_tokens`, no sign-up without `allow_signup`). Protected operations name the
//! `bearer` security scheme, which follows `auth_header_name` and `auth_header_types`.

pub mod bodies;
pub mod responses;

use std::collections::BTreeMap;

use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, PathItem};

use super::Mounts;
use crate::config::Settings;

/// The name protected operations give their security scheme.
pub const SECURITY: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "keyward",
        description = "A JWT authentication and authorization server, wire-compatible with \
                       djangorestframework-simplejwt. Protected operations take an access token: \
                       sign in with the token endpoint, then paste the `access` token into \
                       Authorize."
    ),
    paths(
        super::token::obtain,
        super::token::refresh,
        super::token::verify,
        super::token::blacklist,
        super::sliding::obtain,
        super::sliding::refresh,
        super::signup::signup,
        super::me::me,
        super::me::change_password,
        super::sessions::mine,
        super::sessions::revoke_others,
        super::sessions::end_mine,
        super::sessions::theirs,
        super::sessions::revoke_all,
        super::sessions::end_theirs,
        super::users::list,
        super::users::create,
        super::users::retrieve,
        super::users::replace,
        super::users::patch,
        super::users::destroy,
        super::groups::list,
        super::groups::create,
        super::groups::retrieve,
        super::groups::replace,
        super::groups::patch,
        super::groups::destroy,
        super::permissions::list,
        super::permissions::create,
        super::permissions::retrieve,
        super::permissions::destroy,
        super::check::check,
        super::health::live,
        super::health::ready,
        super::docs::schema,
        super::docs::page,
    ),
    // The shared error answers (`responses`) name these bodies without registering them.
    components(schemas(bodies::Detail, bodies::FieldErrors)),
    tags(
        (name = "tokens", description = "simplejwt's token views"),
        (name = "account", description = "The signed-in user"),
        (name = "sessions", description = "Logins and their tokens"),
        (name = "admin", description = "Users, groups and permissions"),
        (name = "service", description = "Checks for proxies, load balancers and people")
    )
)]
struct ApiDoc;

/// The description of this instance's API: its configured paths and mounted endpoints.
pub fn describe(mounts: &Mounts, settings: &Settings) -> Document {
    let mut document = ApiDoc::openapi();
    let moved: BTreeMap<&str, &str> = mounts
        .paths
        .entries()
        .into_iter()
        .map(|entry| (entry.default, entry.path))
        .collect();
    let registered: Vec<String> = super::routes(mounts).into_iter().map(|r| r.path).collect();
    let annotated = std::mem::take(&mut document.paths.paths);
    for (default, item) in annotated {
        let Some(path) = moved.get(default.as_str()) else {
            continue;
        };
        if registered.iter().any(|r| r == path) {
            insert(&mut document, path, item);
        }
    }
    document
        .components
        .get_or_insert_with(Default::default)
        .add_security_scheme(SECURITY, security_scheme(settings));
    document
}

fn insert(document: &mut Document, path: &str, item: PathItem) {
    document.paths.paths.insert(path.to_owned(), item);
}

/// `Authorization: Bearer <token>` when that is what protected routes read; otherwise the
/// configured header, whose value is pasted whole (`JWT <token>`).
fn security_scheme(settings: &Settings) -> SecurityScheme {
    let bearer = settings
        .auth_header_name
        .eq_ignore_ascii_case("authorization")
        && settings
            .auth_header_types
            .first()
            .is_some_and(|t| t == "Bearer");
    if bearer {
        return SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token from the token endpoint."))
                .build(),
        );
    }
    let first = settings
        .auth_header_types
        .first()
        .map_or("Bearer", String::as_str);
    SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
        settings.auth_header_name.clone(),
        format!("`{first} <access token>`"),
    )))
}
