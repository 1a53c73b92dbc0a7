//! The admin view, on only with `--admin-token`: a page at `/admin` (embedded, plain HTML and
//! JavaScript) over a JSON API under `/admin/api/` that takes `Authorization: Bearer <token>`:
//! `GET state` (this node, its rooms and participants), `GET events` (Server-Sent Events),
//! and, unless `--admin-readonly`, `POST disconnect {"peer_id"}` and `POST close_room
//! {"room"}`. No cookies, so no CSRF; wrong tokens are limited per client address.

mod view;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream;
use http_body_util::{BodyExt, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, HeaderValue,
    WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, StatusCode};
use noom_shared::{PeerId, RoomName};
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};

pub(crate) use view::{AdminEvent, NodeView, ParticipantView, RoomView, Snapshot};

use crate::cluster::AdminAction;
use crate::config::{Config, Secret, SecretFileError};
use crate::http::{App, ClientAddr};
use crate::security_headers;
use crate::static_files::{Body, full, plain};

const PAGE: &str = include_str!("page.html");
/// Wrong tokens one client address may send per [`FAILURE_WINDOW`] before it gets 429.
const FAILURES_ALLOWED: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Client addresses whose failures are remembered; beyond this the oldest windows are
/// forgotten first (the map cannot grow without bound).
const FAILURES_TRACKED: usize = 4096;
/// Largest request body an action takes.
const MAX_ACTION_BYTES: usize = 4096;
/// A comment line keeps idle event streams open through proxies.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);

/// Who may use the admin view, and how.
pub(crate) struct AdminAccess {
    token: Secret,
    readonly: bool,
    show_ip: bool,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl AdminAccess {
    /// The access the configuration asks for; `None` keeps `/admin` a 404.
    pub(crate) fn from_config(config: &Config) -> Result<Option<Self>, SecretFileError> {
        let token = match (&config.admin_token, &config.admin_token_file) {
            (Some(token), _) => token.clone(),
            (None, Some(path)) => Secret::from_file(path)?,
            (None, None) => return Ok(None),
        };
        Ok(Some(Self {
            token,
            readonly: config.admin_readonly,
            show_ip: config.admin_show_ip,
            failures: Mutex::new(HashMap::new()),
        }))
    }

    fn authorized(&self, req: &Request<Incoming>) -> bool {
        let given = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        same_bytes(given.as_bytes(), self.token.expose().as_bytes())
    }

    /// Whether `ip` used up its wrong tokens for now.
    fn locked_out(&self, ip: Option<IpAddr>, now: Instant) -> bool {
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        ip.and_then(|ip| failures.get(&ip))
            .is_some_and(|(count, since)| {
                *count >= FAILURES_ALLOWED && now.duration_since(*since) < FAILURE_WINDOW
            })
    }

    fn failed(&self, ip: Option<IpAddr>, now: Instant) {
        let Some(ip) = ip else { return };
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() >= FAILURES_TRACKED {
            failures.retain(|_, (_, since)| now.duration_since(*since) < FAILURE_WINDOW);
            if failures.len() >= FAILURES_TRACKED {
                failures.clear();
            }
        }
        let entry = failures.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= FAILURE_WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
    }
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn same_bytes(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

/// Everything under `/admin`.
pub(crate) async fn route(app: &App, req: Request<Incoming>) -> Response<Body> {
    let Some(admin) = &app.admin else {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    };
    let path = req.uri().path().to_owned();
    if path == "/admin" || path == "/admin/" {
        let mut page = Response::new(full(PAGE));
        page.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        page.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let host = req.headers().get(HOST).and_then(|v| v.to_str().ok());
        if let Some(policy) = security_headers::content_security_policy(PAGE.as_bytes(), host) {
            page.headers_mut().insert(CONTENT_SECURITY_POLICY, policy);
        }
        return page;
    }
    let ip = req
        .extensions()
        .get::<ClientAddr>()
        .map(|client| client.addr.ip());
    let now = Instant::now();
    if admin.locked_out(ip, now) {
        return plain(
            StatusCode::TOO_MANY_REQUESTS,
            "too many wrong tokens: wait a minute\n",
        );
    }
    if !admin.authorized(&req) {
        // Only a token that was tried counts as a guess.
        if req.headers().contains_key(AUTHORIZATION) {
            admin.failed(ip, now);
        }
        let mut refused = plain(StatusCode::UNAUTHORIZED, "a valid admin token is needed\n");
        refused
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return refused;
    }
    let action = matches!(
        path.as_str(),
        "/admin/api/disconnect" | "/admin/api/close_room"
    );
    match (req.method().clone(), path.as_str()) {
        (Method::GET, "/admin/api/state") => json(&snapshot(app, admin).await),
        (Method::GET, "/admin/api/events") => event_stream(app.board.subscribe()),
        (Method::POST, _) if action && admin.readonly => {
            plain(StatusCode::FORBIDDEN, "this admin view is read-only\n")
        }
        (Method::POST, "/admin/api/disconnect") => match read_json::<Disconnect>(req).await {
            Some(Disconnect { peer_id }) => {
                let here = usize::from(app.board.remove(&peer_id));
                act(app, here, AdminAction::Disconnect { peer_id }).await
            }
            None => plain(StatusCode::BAD_REQUEST, "send {\"peer_id\": \"...\"}\n"),
        },
        (Method::POST, "/admin/api/close_room") => match read_json::<CloseRoom>(req).await {
            Some(CloseRoom { room }) => {
                let here = app.board.close_room(&room);
                act(app, here, AdminAction::CloseRoom { room }).await
            }
            None => plain(StatusCode::BAD_REQUEST, "send {\"room\": \"...\"}\n"),
        },
        _ => plain(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// Every node's view: this node's alone, or each cluster node's from Redis (this node's
/// alone if Redis cannot be read now).
async fn snapshot(app: &App, admin: &AdminAccess) -> Snapshot {
    let (rooms, own) = app.board.snapshot(admin.show_ip);
    let nodes = match &app.cluster {
        Some(cluster) => cluster
            .node_views(own.clone())
            .await
            .unwrap_or_else(|_| vec![own]),
        None => vec![own],
    };
    let nodes = nodes
        .into_iter()
        .map(|mut node| {
            if !admin.show_ip {
                node.participants.iter_mut().for_each(|p| p.ip = None);
            }
            node
        })
        .collect();
    Snapshot {
        nodes,
        rooms,
        readonly: admin.readonly,
    }
}

/// The answer to an action carried out for `here` connections of this node; in a cluster the
/// other nodes are asked to do the same for theirs. Alone, nothing done is a 404.
async fn act(app: &App, here: usize, action: AdminAction) -> Response<Body> {
    match &app.cluster {
        Some(cluster) => {
            let forwarded = cluster.forward(&action).await.is_ok();
            json(&serde_json::json!({ "disconnected": here, "forwarded": forwarded }))
        }
        None if here == 0 => plain(StatusCode::NOT_FOUND, "no such connection\n"),
        None => json(&serde_json::json!({ "disconnected": here })),
    }
}

#[derive(Deserialize)]
struct Disconnect {
    peer_id: PeerId,
}

#[derive(Deserialize)]
struct CloseRoom {
    room: RoomName,
}

async fn read_json<T: for<'de> Deserialize<'de>>(req: Request<Incoming>) -> Option<T> {
    let body = Limited::new(req.into_body(), MAX_ACTION_BYTES)
        .collect()
        .await
        .ok()?
        .to_bytes();
    serde_json::from_slice(&body).ok()
}

fn json(value: &impl serde::Serialize) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(full(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Server-Sent Events: one `data:` line of JSON per event, a comment now and then to keep the
/// stream open, and an `event: lagged` when this listener fell behind and missed some.
fn event_stream(events: broadcast::Receiver<AdminEvent>) -> Response<Body> {
    let mut keep_alive = tokio::time::interval(KEEP_ALIVE_EVERY);
    keep_alive.reset();
    let frames = stream::unfold(
        (events, keep_alive),
        |(mut events, mut keep_alive)| async move {
            let text = tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => format!("data: {}\n\n", serde_json::to_string(&event).ok()?),
                    Err(RecvError::Lagged(missed)) => format!("event: lagged\ndata: {missed}\n\n"),
                    Err(RecvError::Closed) => return None,
                },
                _ = keep_alive.tick() => ":\n\n".to_owned(),
            };
            Some((
                Ok::<_, Infallible>(Frame::data(Bytes::from(text))),
                (events, keep_alive),
            ))
        },
    );
    let mut response = Response::new(StreamBody::new(frames).boxed());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_bytes(b"s3cret", b"s3cret"));
        assert!(!same_bytes(b"s3cres", b"s3cret"));
        assert!(!same_bytes(b"s3cre", b"s3cret"));
        assert!(!same_bytes(b"", b"s3cret"));
    }

    #[test]
    fn wrong_tokens_lock_an_address_out_for_a_while() {
        let access = AdminAccess {
            token: Secret::new("t".into()),
            readonly: false,
            show_ip: false,
            failures: Mutex::new(HashMap::new()),
        };
        let (ip, other) = (
            Some("192.0.2.1".parse().unwrap()),
            Some("192.0.2.2".parse().unwrap()),
        );
        let start = Instant::now();
        for _ in 0..FAILURES_ALLOWED {
            assert!(!access.locked_out(ip, start));
            access.failed(ip, start);
        }
        assert!(access.locked_out(ip, start));
        assert!(!access.locked_out(other, start), "only that address");
        assert!(
            !access.locked_out(ip, start + FAILURE_WINDOW),
            "for a minute"
        );
    }
}
