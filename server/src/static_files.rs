//! Serves the built web app. Client routes such as `/room/standup` get `index.html`.

use std::path::{Component, Path, PathBuf};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

pub(crate) type Body = Full<Bytes>;

pub(crate) struct StaticFiles {
    root: PathBuf,
}

impl StaticFiles {
    pub(crate) fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub(crate) async fn respond<B>(&self, req: &Request<B>) -> Response<Body> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "only GET and HEAD are served here\n",
            );
        }
        let path = req.uri().path();
        let Some(relative) = safe_relative(path) else {
            return plain(StatusCode::BAD_REQUEST, "bad path\n");
        };
        let file = self.root.join(&relative);
        let target = if relative.as_os_str().is_empty() || !is_file(&file).await {
            if !wants_app_shell(path, req) {
                return plain(StatusCode::NOT_FOUND, "not found\n");
            }
            self.root.join("index.html")
        } else {
            file
        };
        match tokio::fs::read(&target).await {
            Ok(bytes) => {
                let body = if req.method() == Method::HEAD {
                    Bytes::new()
                } else {
                    Bytes::from(bytes)
                };
                let mut response = Response::new(Full::new(body));
                let headers = response.headers_mut();
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static(content_type(&target)),
                );
                let cache = if target.extension().is_some_and(|e| e == "html") {
                    "no-cache"
                } else {
                    "public, max-age=3600"
                };
                headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
                response
            }
            Err(_) => plain(
                StatusCode::NOT_FOUND,
                "Noom's web app is not built here: run `trunk build --release` or set --static-dir\n",
            ),
        }
    }
}

/// The request path as a relative path with no `..`, or `None` if it tries to escape.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let relative = Path::new(path.trim_start_matches('/'));
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| relative.to_path_buf())
        .filter(|_| !path.contains('\\'))
}

/// A missing path is a client route (give the app) when it has no file extension or the
/// browser navigates to it (asks for HTML); a missing asset is a plain 404.
fn wants_app_shell<B>(path: &str, req: &Request<B>) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    let navigates = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    !last.contains('.') || navigates
}

async fn is_file(path: &Path) -> bool {
    tokio::fs::metadata(path).await.is_ok_and(|m| m.is_file())
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "webmanifest" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape_the_root() {
        assert_eq!(
            safe_relative("/index.html"),
            Some(PathBuf::from("index.html"))
        );
        assert_eq!(safe_relative("/"), Some(PathBuf::new()));
        assert_eq!(safe_relative("/../etc/passwd"), None);
        assert_eq!(safe_relative("/a/../../b"), None);
        assert_eq!(safe_relative("/a\\..\\b"), None);
    }

    #[test]
    fn routes_get_the_app_and_assets_do_not() {
        let plain_req = Request::new(());
        assert!(wants_app_shell("/room/standup", &plain_req));
        assert!(!wants_app_shell("/missing.js", &plain_req));
        let nav = Request::builder()
            .header(ACCEPT, "text/html,*/*")
            .body(())
            .unwrap();
        assert!(wants_app_shell("/room/v1.2", &nav));
    }
}
