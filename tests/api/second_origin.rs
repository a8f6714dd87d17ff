//! A static site on a port of its own: a second origin for browser tests of CORS and the
//! cookie transport. It serves given files, then the files of a directory (a built single-page
//! app), and `index.html` for any other path, as single-page apps are served.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, RwLock};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// A running site, stopped on drop.
pub(crate) struct Site {
    pub(crate) port: u16,
    handle: ServerHandle,
    content: Arc<Content>,
}

impl Drop for Site {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::spawn(async move { handle.stop(false).await });
    }
}

impl Site {
    /// The site's origin when reached through `host` (`127.0.0.1` or `localhost`).
    pub(crate) fn origin(&self, host: &str) -> String {
        format!("http://{host}:{}", self.port)
    }

    /// Serves `body` at `path` from now on.
    pub(crate) fn put(&self, path: &str, kind: &'static str, body: String) {
        self.content
            .files
            .write()
            .unwrap_or_else(|e| panic!("{e}"))
            .insert(path.to_owned(), (kind, body.into_bytes()));
    }
}

struct Content {
    files: RwLock<HashMap<String, (&'static str, Vec<u8>)>>,
    root: Option<PathBuf>,
}

/// Serves `files` (path -> (content type, body)) and, under them, the directory `root`.
pub(crate) async fn serve(files: Vec<(&str, &'static str, String)>, root: Option<&Path>) -> Site {
    let content = Arc::new(Content {
        files: RwLock::new(
            files
                .into_iter()
                .map(|(path, kind, body)| (path.to_owned(), (kind, body.into_bytes())))
                .collect(),
        ),
        root: root.map(Path::to_path_buf),
    });
    let shared = Arc::clone(&content);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::from(Arc::clone(&shared)))
            .default_service(web::to(file))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap_or_else(|e| panic!("site: {e}"));
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Site {
        port,
        handle,
        content,
    }
}

async fn file(req: HttpRequest, content: web::Data<Content>) -> HttpResponse {
    let path = req.path();
    let given = content
        .files
        .read()
        .unwrap_or_else(|e| panic!("{e}"))
        .get(path)
        .cloned();
    if let Some((kind, body)) = given {
        return ok(kind, body);
    }
    let Some(root) = &content.root else {
        return HttpResponse::NotFound().finish();
    };
    let relative = Path::new(path.trim_start_matches('/'));
    let safe = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    let candidate = root.join(relative);
    if safe && candidate.is_file() {
        let body = std::fs::read(&candidate).unwrap_or_default();
        return ok(content_type(&candidate), body);
    }
    let index = std::fs::read(root.join("index.html")).unwrap_or_default();
    ok("text/html; charset=utf-8", index)
}

fn ok(kind: &'static str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(kind)
        .insert_header(("cache-control", "no-store"))
        .body(body)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}
