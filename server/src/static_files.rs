//! Serves the web app: the bundle embedded at build time (see `build.rs`), or a directory
//! given with `--static-dir`. Client routes such as `/room/standup` get `index.html`.

use std::path::{Component, Path, PathBuf};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::header::{
    ACCEPT, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH,
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, HOST, HeaderMap, HeaderValue, IF_NONE_MATCH, VARY,
};
use hyper::{Method, Request, Response, StatusCode};

use tokio_util::io::ReaderStream;

use crate::security_headers;

/// Every response body: a whole one ([`full`]) or a stream (the admin view's events).
pub(crate) type Body = BoxBody<Bytes, std::convert::Infallible>;

/// A body of these bytes.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

/// One file of the web app as `build.rs` embedded it.
pub(crate) struct EmbeddedAsset {
    /// Relative to the bundle's root, `/`-separated.
    path: &'static str,
    raw: &'static [u8],
    /// Present when gzip makes it at least a tenth smaller.
    gzip: Option<&'static [u8]>,
    etag: &'static str,
}

static EMBEDDED: &[EmbeddedAsset] = include!(concat!(env!("OUT_DIR"), "/bundle.rs"));

/// Where the web app comes from.
pub(crate) enum StaticFiles {
    Directory(PathBuf),
    Embedded(&'static [EmbeddedAsset]),
    /// Neither: a build without `dist/` and no `--static-dir`.
    Unbuilt,
}

/// A file found for a request, ready to be sent.
struct Found {
    path: String,
    raw: Content,
    gzip: Option<Bytes>,
    etag: Option<&'static str>,
}

/// A file's bytes: in memory (embedded, or a page whose scripts the CSP hashes), or read from
/// disk as the client takes them, so that a slow reader holds a chunk, not the file.
enum Content {
    Whole(Bytes),
    OnDisk { file: tokio::fs::File, len: u64 },
}

/// How much of a file on disk is read at a time.
const DISK_CHUNK_BYTES: usize = 16 * 1024;

const UNBUILT: &str = "This noom-server was built without its web app.\n\
    Build the app and then the server (the app is embedded in it): \
    scripts/build.sh && cargo build --release -p noom-server\n\
    or serve a built app from a directory: noom-server --static-dir dist\n";

impl StaticFiles {
    /// `--static-dir` if given, else the embedded bundle.
    pub(crate) fn new(static_dir: Option<PathBuf>) -> Self {
        match static_dir {
            Some(dir) => Self::Directory(dir),
            None if EMBEDDED.is_empty() => Self::Unbuilt,
            None => Self::Embedded(EMBEDDED),
        }
    }

    /// Where the app is served from, for the start-up log.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Directory(dir) => dir.display().to_string(),
            Self::Embedded(assets) => format!("embedded ({} files)", assets.len()),
            Self::Unbuilt => "none: this build has no web app".to_owned(),
        }
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
        if let Self::Unbuilt = self {
            return plain(StatusCode::SERVICE_UNAVAILABLE, UNBUILT);
        }
        let found = match self.find(&relative).await {
            Some(found) => Some(found),
            None if wants_app_shell(path, req) => self.find(Path::new("index.html")).await,
            None => return plain(StatusCode::NOT_FOUND, "not found\n"),
        };
        match found {
            Some(found) => send(found, req),
            None => plain(
                StatusCode::NOT_FOUND,
                "Noom's web app is not built here: run `trunk build --release` or set --static-dir\n",
            ),
        }
    }

    async fn find(&self, relative: &Path) -> Option<Found> {
        match self {
            Self::Directory(root) => {
                let file = root.join(relative);
                if relative.as_os_str().is_empty() || !is_file(&file).await {
                    return None;
                }
                // A symlink may point anywhere: serve only what really lies under the root.
                let real = tokio::fs::canonicalize(&file).await.ok()?;
                let real_root = tokio::fs::canonicalize(root).await.ok()?;
                if !real.starts_with(real_root) {
                    return None;
                }
                let path = relative.to_string_lossy().into_owned();
                let raw = if path.ends_with(".html") {
                    Content::Whole(tokio::fs::read(&file).await.ok()?.into())
                } else {
                    let file = tokio::fs::File::open(&file).await.ok()?;
                    let len = file.metadata().await.ok()?.len();
                    Content::OnDisk { file, len }
                };
                Some(Found {
                    path,
                    raw,
                    gzip: None,
                    etag: None,
                })
            }
            Self::Embedded(assets) => {
                let wanted = relative.to_str()?;
                let asset = assets.iter().find(|asset| asset.path == wanted)?;
                Some(Found {
                    path: asset.path.to_owned(),
                    raw: Content::Whole(Bytes::from_static(asset.raw)),
                    gzip: asset.gzip.map(Bytes::from_static),
                    etag: Some(asset.etag),
                })
            }
            Self::Unbuilt => None,
        }
    }
}

fn send<B>(found: Found, req: &Request<B>) -> Response<Body> {
    let fresh = found
        .etag
        .is_some_and(|etag| matches_etag(req.headers(), etag));
    let has_gzip = found.gzip.is_some();
    let use_gzip = has_gzip && accepts_gzip(req.headers());
    let policy = match &found.raw {
        Content::Whole(raw) if found.path.ends_with(".html") => {
            let host = req.headers().get(HOST).and_then(|v| v.to_str().ok());
            security_headers::content_security_policy(raw, host)
        }
        _ => None,
    };
    let mut length = None;
    let body = if fresh || req.method() == Method::HEAD {
        full(Bytes::new())
    } else if use_gzip {
        full(found.gzip.unwrap_or_default())
    } else {
        match found.raw {
            Content::Whole(raw) => full(raw),
            Content::OnDisk { file, len } => {
                length = Some(len);
                streamed(file)
            }
        }
    };
    let mut response = Response::new(body);
    if fresh {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(content_type(&found.path)),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static(cache_control(&found.path)),
    );
    if let Some(etag) = found.etag {
        headers.insert(ETAG, HeaderValue::from_static(etag));
    }
    if has_gzip {
        headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if use_gzip && !fresh {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if let Some(length) = length {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    if let Some(policy) = policy {
        headers.insert(CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// `file` as a body, read a chunk at a time as the client takes it. A read error ends the body
/// early, which the client sees as a response shorter than its `Content-Length`.
fn streamed(file: tokio::fs::File) -> Body {
    let chunks = ReaderStream::with_capacity(file, DISK_CHUNK_BYTES)
        .take_while(|chunk| std::future::ready(chunk.is_ok()))
        .filter_map(|chunk| std::future::ready(chunk.ok().map(|bytes| Ok(Frame::data(bytes)))));
    BodyExt::boxed(StreamBody::new(chunks))
}

/// The request path as a relative path with no `..` and no dotfile (`.git`, `.env`), or
/// `None` if it tries either.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let relative = Path::new(path.trim_start_matches('/'));
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(name) if !name.to_string_lossy().starts_with('.')))
        .then(|| relative.to_path_buf())
        .filter(|_| !path.contains('\\'))
}

/// A missing path is a client route (give the app) when it has no file extension or the
/// browser navigates to it (asks for HTML); a missing asset is a plain 404.
fn wants_app_shell<B>(path: &str, req: &Request<B>) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    let navigates = header_text(req.headers(), ACCEPT).contains("text/html");
    !last.contains('.') || navigates
}

fn header_text(headers: &HeaderMap, name: hyper::header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Whether `Accept-Encoding` allows gzip (`gzip` or `*`, without `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    header_text(headers, ACCEPT_ENCODING)
        .split(',')
        .any(|offer| {
            let mut parts = offer.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    header_text(headers, IF_NONE_MATCH)
        .split(',')
        .any(|tag| matches!(tag.trim(), "*") || tag.trim() == etag)
}

/// Trunk names assets `name-<hex hash>` (`_bg` for the WASM): such a file never changes,
/// so browsers may keep it a year. `index.html` names the current ones, so it is revalidated.
fn cache_control(path: &str) -> &'static str {
    if path.ends_with(".html") {
        "no-cache"
    } else if is_fingerprinted(path) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    }
}

fn is_fingerprinted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    name.rsplit_once('-').is_some_and(|(_, tail)| {
        let hash: String = tail.chars().take_while(char::is_ascii_hexdigit).collect();
        // Trunk writes a 64-bit hash in hex without leading zeros: up to 16 digits.
        (10..=16).contains(&hash.len())
            && matches!(tail[hash.len()..].chars().next(), Some('.' | '_'))
    })
}

async fn is_file(path: &Path) -> bool {
    tokio::fs::metadata(path).await.is_ok_and(|m| m.is_file())
}

fn content_type(path: &str) -> &'static str {
    match path
        .rsplit_once('.')
        .map(|(_, ext)| ext)
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
    let mut response = Response::new(full(Bytes::from_static(text.as_bytes())));
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
        assert_eq!(safe_relative("/.git/config"), None);
        assert_eq!(safe_relative("/assets/.env"), None);
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

    #[test]
    fn only_trunk_fingerprinted_assets_are_immutable() {
        for hashed in [
            "noom-client-9050e9041dede2a7.js",
            "noom-client-9050e9041dede2a7_bg.wasm",
            "style-11e682fe219cacc6.css",
            "noom-client-406b7b70697dcca_bg.wasm",
        ] {
            assert_eq!(cache_control(hashed), "public, max-age=31536000, immutable");
        }
        assert_eq!(cache_control("index.html"), "no-cache");
        assert_eq!(cache_control("favicon.ico"), "public, max-age=3600");
        assert_eq!(cache_control("app-1a2b.js"), "public, max-age=3600");
    }

    #[test]
    fn gzip_only_when_offered() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
            accepts_gzip(&headers)
        };
        assert!(with("gzip, deflate, br, zstd"));
        assert!(with("br;q=1.0, gzip;q=0.5"));
        assert!(with("*"));
        assert!(!with("br"));
        assert!(!with("gzip;q=0"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn a_build_without_the_app_says_how_to_build_it() {
        let page = StaticFiles::Unbuilt.respond(&Request::new(())).await;
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = http_body_util::BodyExt::collect(page.into_body())
            .await
            .unwrap()
            .to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("scripts/build.sh"));
    }
}
