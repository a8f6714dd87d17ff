//! Resources that answer like DRF views: the allowed methods, `OPTIONS` metadata, and a JSON
//! 405 with `Allow` for every other method. As in DRF, `OPTIONS` authenticates and checks
//! permissions first: each resource names the extractor its reads use, and `OPTIONS` runs it.

use std::rc::Rc;

use actix_web::http::Method;
use actix_web::http::header::ALLOW;
use actix_web::{FromRequest, HttpRequest, HttpResponse, Resource, web};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::metrics::RouteLabel;

/// What `OPTIONS` describes.
#[derive(Debug)]
pub struct Meta {
    pub name: &'static str,
    pub description: &'static str,
    /// Writable fields: (name, label).
    pub fields: &'static [(&'static str, &'static str)],
    pub allow: &'static str,
}

/// The guard of a resource anyone may use: `OPTIONS` reads no credentials (simplejwt's token
/// views have no authentication classes).
pub type Anyone = ();

/// Where an area's `config` puts its endpoints: the application's [`web::ServiceConfig`], or
/// a list of [`Route`]s (what the OpenAPI description and its test read), so both come from
/// the same registrations.
pub trait Routes {
    /// Registers `path` (and the same path without its trailing slash) with the routes
    /// `routes` adds, `OPTIONS`, and a 405 for other methods. `G` is the extractor that guards
    /// the resource's reads (`AuthUser`, `Allowed<P>`, or [`Anyone`]): `OPTIONS` answers only
    /// when it passes, with the 401 or 403 a `GET` would get otherwise.
    fn serve<G: FromRequest + 'static>(
        &mut self,
        path: &str,
        meta: &'static Meta,
        routes: impl Fn(Resource) -> Resource,
    );
}

/// Each spelling is its own single-pattern resource: the router matches static paths by
/// comparison, with no regex on the hot path. Both spellings are counted under `path` in the
/// request metrics.
impl Routes for web::ServiceConfig {
    fn serve<G: FromRequest + 'static>(
        &mut self,
        path: &str,
        meta: &'static Meta,
        routes: impl Fn(Resource) -> Resource,
    ) {
        let label = Rc::new(RouteLabel::new(path));
        self.service(resource::<G>(
            routes(web::resource(path)),
            meta,
            Rc::clone(&label),
        ));
        let bare = path.trim_end_matches('/');
        if bare != path && !bare.is_empty() {
            self.service(resource::<G>(routes(web::resource(bare)), meta, label));
        }
    }
}

/// An endpoint as registered: its path (as configured) and what `OPTIONS` says of it.
#[derive(Debug, Clone)]
pub struct Route {
    pub path: String,
    pub meta: &'static Meta,
}

impl Route {
    /// The methods the endpoint answers, from its `Allow` (`OPTIONS` included).
    pub fn methods(&self) -> impl Iterator<Item = &'static str> {
        self.meta.allow.split(',').map(str::trim)
    }
}

impl Routes for Vec<Route> {
    fn serve<G: FromRequest + 'static>(
        &mut self,
        path: &str,
        meta: &'static Meta,
        _: impl Fn(Resource) -> Resource,
    ) {
        self.push(Route {
            path: path.to_owned(),
            meta,
        });
    }
}

/// `resource` (its own routes first: they are tried in order) with a guarded `OPTIONS` and a
/// 405 default, labelled for the metrics.
fn resource<G: FromRequest + 'static>(
    resource: Resource,
    meta: &'static Meta,
    label: Rc<RouteLabel>,
) -> Resource {
    resource
        .app_data(label)
        .route(
            web::route()
                .method(Method::OPTIONS)
                .to(move |_: G| options(meta)),
        )
        .default_service(web::to(move |req: HttpRequest| {
            not_allowed(req, meta.allow)
        }))
}

async fn not_allowed(req: HttpRequest, allow: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow,
    })
}

async fn options(meta: &'static Meta) -> HttpResponse {
    let mut body = Map::new();
    body.insert("name".into(), json!(meta.name));
    body.insert("description".into(), json!(meta.description));
    body.insert("renders".into(), json!(["application/json"]));
    body.insert(
        "parses".into(),
        json!([
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data"
        ]),
    );
    if meta.allow.contains("POST") && !meta.fields.is_empty() {
        let fields: Map<String, Value> = meta
            .fields
            .iter()
            .map(|(name, label)| {
                (
                    (*name).to_owned(),
                    json!({"type": "string", "required": true, "read_only": false, "label": label}),
                )
            })
            .collect();
        body.insert("actions".into(), json!({ "POST": fields }));
    }
    HttpResponse::Ok()
        .insert_header((ALLOW, meta.allow))
        .json(body)
}
