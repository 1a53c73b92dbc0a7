//! HTTP on the one port: `/ws` (WebSocket upgrade), `/healthz`, and the web app.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use hyper::body::Incoming;
use hyper::header::{
    CONNECTION, CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue, ORIGIN,
    SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::debug;

use crate::Config;
use crate::admin::{self, AdminAccess};
use crate::admission::{Admissions, Held};
use crate::cluster::Cluster;
use crate::conn;
use crate::hosts::OwnNames;
use crate::security_headers;
use crate::static_files::{Body, StaticFiles, full, plain};
use crate::switchboard::Switchboard;

/// Where a request came from, and whether over TLS (a request extension).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) tls: bool,
    /// Whether `addr` is what a trusted proxy said, not the connection's peer.
    pub(crate) forwarded: bool,
}

impl ClientAddr {
    /// The client's address as `header` (`--trust-proxy-header`) gives it, when set and
    /// present: the header's last entry, which the proxy added. Earlier entries came from the
    /// client and could be anything.
    pub(crate) fn behind(self, header: Option<&HeaderName>, headers: &HeaderMap) -> Self {
        let forwarded = header
            .and_then(|name| headers.get_all(name).iter().next_back())
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|entry| parse_forwarded_address(entry.trim()));
        match forwarded {
            Some(ip) => Self {
                addr: std::net::SocketAddr::new(ip, 0),
                forwarded: true,
                ..self
            },
            None => self,
        }
    }
}

/// `192.0.2.1`, `192.0.2.1:5060`, `2001:db8::1` or `[2001:db8::1]:5060`.
fn parse_forwarded_address(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

/// What every HTTP connection shares.
pub(crate) struct App {
    /// The connection caps, for clients behind a trusted proxy.
    pub(crate) admissions: Arc<Admissions>,
    pub(crate) config: Arc<Config>,
    pub(crate) board: Arc<Switchboard>,
    pub(crate) files: StaticFiles,
    /// The names requests may be for.
    pub(crate) names: OwnNames,
    /// The admin view's access, when `--admin-token` turns it on.
    pub(crate) admin: Option<AdminAccess>,
    /// This node's cluster, for the admin view of every node.
    pub(crate) cluster: Option<Arc<Cluster>>,
    pub(crate) shutdown: CancellationToken,
    /// WebSocket connections, so that shutdown can wait for their close frames.
    pub(crate) sockets: TaskTracker,
}

pub(crate) async fn route(
    app: Arc<App>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let host = req.headers().get(HOST).and_then(|v| v.to_str().ok());
    let ours = host.is_some_and(|host| app.names.accepts(host));
    let mut response = match req.uri().path() {
        // Load balancers check health by address or by any name.
        "/healthz" if app.board.in_step() => plain(StatusCode::OK, "ok\n"),
        "/healthz" => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "out of step with the cluster\n",
        ),
        _ if !ours => misdirected(host),
        "/ws" => upgrade(app, req),
        path if path == "/admin" || path.starts_with("/admin/") => admin::route(&app, req).await,
        _ => app.files.respond(&req).await,
    };
    security_headers::add_common(response.headers_mut());
    Ok(response)
}

/// A request for a name that is not ours (see `hosts.rs`), in words for whoever set it up.
fn misdirected(host: Option<&str>) -> Response<Body> {
    let text = match host {
        Some(host) => format!(
            "This Noom does not answer to the name {host}. If it should, start it with \
             --public-host {}\n",
            host.rsplit_once(':').map_or(host, |(name, _)| name)
        ),
        None => "A Host header is needed.\n".to_owned(),
    };
    let mut response = Response::new(full(text));
    *response.status_mut() = StatusCode::MISDIRECTED_REQUEST;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn upgrade(app: Arc<App>, mut req: Request<Incoming>) -> Response<Body> {
    let headers = req.headers();
    let key = match websocket_key(req.method(), headers) {
        Ok(key) => key,
        Err(reason) => return plain(StatusCode::BAD_REQUEST, reason),
    };
    let tls = req
        .extensions()
        .get::<ClientAddr>()
        .is_some_and(|client| client.tls);
    if !origin_allowed(headers, &app.config.allowed_origins, tls) {
        debug!(origin = ?headers.get(ORIGIN), "refused WebSocket from another origin");
        return plain(
            StatusCode::FORBIDDEN,
            "this origin may not open Noom's WebSocket\n",
        );
    }
    if app.shutdown.is_cancelled() {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "server shutting down\n");
    }
    let accept = derive_accept_key(key.as_bytes());
    let client = req.extensions().get::<ClientAddr>().copied();
    let client_ip = client.map(|client| client.addr.ip());
    // Behind a trusted proxy the connection counts in the total; the client, as the proxy
    // names it, has its own place against the per-address cap, and its own rate limit.
    let behind_proxy = match client.filter(|client| client.forwarded) {
        Some(client) => match app.admissions.admit_behind_proxy(client.addr.ip()) {
            Some(place) => Some(place),
            None => {
                return plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many connections from your address\n",
                );
            }
        },
        None => None,
    };
    // The connection's place goes with the WebSocket, which outlives this request.
    let held = req.extensions_mut().remove::<Held>();
    let address_limiter = match &behind_proxy {
        Some(place) => place.limiter(),
        None => held.as_ref().and_then(Held::limiter),
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let task_app = app.clone();
    app.sockets.spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                // Split here rather than in `serve`: a socket passed whole would keep its
                // space in the connection's task for the connection's life (0.25 KiB each).
                let halves = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(websocket_config(&task_app.config)),
                )
                .await
                .split();
                conn::serve(
                    halves,
                    task_app.board.clone(),
                    task_app.config.clone(),
                    task_app.shutdown.clone(),
                    client_ip,
                    address_limiter,
                )
                .await;
                drop((held, behind_proxy));
            }
            Err(err) => debug!(cause = %err, "WebSocket upgrade failed"),
        }
    });
    let mut response = Response::new(full(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

/// How much tungstenite reads from the socket at once. It zeroes this much for every
/// connection as soon as it first reads, so it is most of what an idle connection costs: 512
/// bytes hold a whole ICE candidate or chat frame, and the buffer grows for the rare large frame
/// (an SDP offer) only while it is read. 4 KiB here cost 10.2 KiB per idle connection, 512
/// bytes 6.4 KiB (`noom-load idle`, docs/benchmarks.md); tungstenite's default is 128 KiB.
const READ_BUFFER_BYTES: usize = 512;

/// The WebSocket settings: a small read buffer (see [`READ_BUFFER_BYTES`]), frames written
/// straight through, and the message size limit.
fn websocket_config(config: &Config) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(Some(config.max_frame_bytes))
        // A larger frame is refused at its header, so an unfinished frame holds at most this
        // much per connection (the client still gets its error and close 1009: `limits.rs`).
        .max_frame_size(Some(config.max_frame_bytes))
}

fn websocket_key<'h>(method: &Method, headers: &'h HeaderMap) -> Result<&'h str, &'static str> {
    let has_token = |name, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value
                .to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    if method != Method::GET
        || !has_token(UPGRADE, "websocket")
        || !has_token(CONNECTION, "upgrade")
    {
        return Err("this is Noom's WebSocket endpoint: connect with a WebSocket client\n");
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .and_then(|v| v.to_str().ok())
        != Some("13")
    {
        return Err("unsupported WebSocket version\n");
    }
    headers
        .get(SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .ok_or("missing Sec-WebSocket-Key\n")
}

/// A browser page may open the socket only from this server's own origin or an allowed one.
/// Programs that send no `Origin` (tools, other servers) are not browsers and are let in.
/// No Origin (not a browser), an origin in `allowed`, or this server's own: `http(s)://` and
/// the `Host` asked for (`https://` only when the request came over TLS).
fn origin_allowed(headers: &HeaderMap, allowed: &[String], tls: bool) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return headers.get(ORIGIN).is_none();
    };
    if allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let scheme_fits = if tls {
        scheme.eq_ignore_ascii_case("https")
    } else {
        // Plain HTTP here may sit behind a TLS-terminating proxy.
        scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
    };
    scheme_fits
        && headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|host| host.eq_ignore_ascii_case(authority))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn a_trusted_proxy_header_names_the_client_by_its_last_entry() {
        let peer = ClientAddr {
            addr: "10.0.0.2:41000".parse().unwrap(),
            tls: false,
            forwarded: false,
        };
        let xff: HeaderName = "x-forwarded-for".parse().unwrap();
        let ip = |pairs: &[(&'static str, &'static str)], trusted: Option<&HeaderName>| {
            let client = peer.behind(trusted, &headers(pairs));
            (client.addr.ip().to_string(), client.forwarded)
        };
        let spoofed = [("x-forwarded-for", "1.1.1.1, 203.0.113.9")];
        assert_eq!(ip(&spoofed, Some(&xff)), ("203.0.113.9".into(), true));
        assert_eq!(
            ip(&spoofed, None),
            ("10.0.0.2".into(), false),
            "untrusted: ignored"
        );
        let v6 = [("x-forwarded-for", "[2001:db8::7]:5060")];
        assert_eq!(ip(&v6, Some(&xff)).0, "2001:db8::7");
        let junk = [("x-forwarded-for", "unknown")];
        assert_eq!(ip(&junk, Some(&xff)), ("10.0.0.2".into(), false));
        assert_eq!(ip(&[], Some(&xff)), ("10.0.0.2".into(), false));
    }

    #[test]
    fn same_origin_allowed_and_others_refused() {
        let same = headers(&[
            ("host", "meet.example:8080"),
            ("origin", "http://meet.example:8080"),
        ]);
        assert!(origin_allowed(&same, &[], false));
        assert!(
            !origin_allowed(&same, &[], true),
            "http:// page, https:// socket"
        );
        let odd_scheme = headers(&[
            ("host", "meet.example:8080"),
            ("origin", "chrome-extension://meet.example:8080"),
        ]);
        assert!(!origin_allowed(&odd_scheme, &[], false));
        let other = headers(&[
            ("host", "meet.example:8080"),
            ("origin", "https://evil.example"),
        ]);
        assert!(!origin_allowed(&other, &[], false));
        assert!(origin_allowed(
            &other,
            &["https://evil.example/".to_owned()],
            false
        ));
        assert!(origin_allowed(&headers(&[("host", "h")]), &[], false));
        assert!(!origin_allowed(
            &headers(&[("host", "h"), ("origin", "null")]),
            &[],
            false
        ));
    }

    #[test]
    fn upgrade_needs_the_websocket_headers() {
        let good = headers(&[
            ("upgrade", "websocket"),
            ("connection", "keep-alive, Upgrade"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]);
        assert_eq!(
            websocket_key(&Method::GET, &good),
            Ok("dGhlIHNhbXBsZSBub25jZQ==")
        );
        assert!(websocket_key(&Method::POST, &good).is_err());
        assert!(websocket_key(&Method::GET, &headers(&[("upgrade", "websocket")])).is_err());
    }
}
