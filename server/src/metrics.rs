//! Counters for Prometheus, kept in atomics so that counting takes no lock on the message path;
//! the gauges (rooms, participants, held seats, connections) are read from the switchboard when
//! `/metrics` is scraped. [`render`] writes the text exposition format; [`serve`] answers
//! scrapes on their own listener (`--metrics-listen`).

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use noom_shared::{ClientMessage, ErrorCode, ServerMessage};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::server::http_builder;
use crate::static_files::{Body, full, plain};
use crate::switchboard::Switchboard;

/// Answers `GET /metrics` on `listener` until `stop`.
pub(crate) async fn serve(
    listener: TcpListener,
    board: Arc<Switchboard>,
    timeout: std::time::Duration,
    stop: CancellationToken,
) {
    while let Some(Ok((stream, _))) = stop.run_until_cancelled(listener.accept()).await {
        let board = board.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let board = board.clone();
                async move { Ok::<_, std::convert::Infallible>(scrape(&req, &board)) }
            });
            let _ = http_builder(timeout)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn scrape<B>(req: &Request<B>, board: &Switchboard) -> Response<Body> {
    if req.uri().path() != "/metrics" || req.method() != Method::GET {
        return plain(StatusCode::NOT_FOUND, "metrics are at GET /metrics\n");
    }
    let text = render(&board.metrics(), &board.gauges());
    let mut response = Response::new(full(text));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Counts by a fixed set of label values, the last one standing for anything else.
struct Tally {
    names: &'static [&'static str],
    counts: Vec<AtomicU64>,
}

impl Tally {
    fn new(names: &'static [&'static str]) -> Self {
        Self {
            names,
            counts: (0..=names.len()).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn add(&self, name: &str, n: u64) {
        let index = self
            .names
            .iter()
            .position(|known| *known == name)
            .unwrap_or(self.names.len());
        self.counts[index].fetch_add(n, Relaxed);
    }

    fn lines(&self, out: &mut String, metric: &str, label: &str, other: &str) {
        let names = self.names.iter().copied().chain(std::iter::once(other));
        for (name, count) in names.zip(&self.counts) {
            let _ = writeln!(
                out,
                "{metric}{{{label}=\"{name}\"}} {}",
                count.load(Relaxed)
            );
        }
    }
}

const ERROR_CODES: [&str; ErrorCode::ALL.len()] = {
    let mut names = [""; ErrorCode::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = ErrorCode::ALL[i].as_str();
        i += 1;
    }
    names
};

/// Outcomes of `resume`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ResumeResult {
    Resumed,
    Refused,
}

/// Everything counted since the server started.
pub(crate) struct Metrics {
    received: Tally,
    sent: Tally,
    errors: Tally,
    rate_limited: AtomicU64,
    dropped_slow: AtomicU64,
    resumes: Tally,
    turn_credentials: AtomicU64,
    refused_connections: AtomicU64,
    sfu_frames_forwarded: AtomicU64,
    sfu_frames_over_budget: AtomicU64,
    sfu_datagrams_unclaimed: AtomicU64,
    sfu_connections_renewed: AtomicU64,
    sfu_downlink_cuts: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            received: Tally::new(ClientMessage::KINDS),
            sent: Tally::new(ServerMessage::KINDS),
            errors: Tally::new(&ERROR_CODES),
            rate_limited: AtomicU64::new(0),
            dropped_slow: AtomicU64::new(0),
            resumes: Tally::new(&["resumed", "refused"]),
            turn_credentials: AtomicU64::new(0),
            refused_connections: AtomicU64::new(0),
            sfu_frames_forwarded: AtomicU64::new(0),
            sfu_frames_over_budget: AtomicU64::new(0),
            sfu_datagrams_unclaimed: AtomicU64::new(0),
            sfu_connections_renewed: AtomicU64::new(0),
            sfu_downlink_cuts: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// A message from a client, by its type (`invalid` when it did not decode).
    pub(crate) fn received(&self, kind: &str) {
        self.received.add(kind, 1);
    }

    /// One message of `kind` queued for `recipients` connections.
    pub(crate) fn sent(&self, kind: &str, recipients: usize) {
        self.sent.add(kind, recipients as u64);
    }

    pub(crate) fn error(&self, code: ErrorCode) {
        self.errors.add(code.as_str(), 1);
    }

    pub(crate) fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Relaxed);
    }

    pub(crate) fn dropped_slow(&self) {
        self.dropped_slow.fetch_add(1, Relaxed);
    }

    pub(crate) fn resume(&self, result: ResumeResult) {
        let name = match result {
            ResumeResult::Resumed => "resumed",
            ResumeResult::Refused => "refused",
        };
        self.resumes.add(name, 1);
    }

    pub(crate) fn connection_refused(&self) {
        self.refused_connections.fetch_add(1, Relaxed);
    }

    pub(crate) fn turn_credential(&self) {
        self.turn_credentials.fetch_add(1, Relaxed);
    }

    /// What the SFU's media task did since it last said.
    pub(crate) fn sfu(&self, tally: crate::sfu::Tally) {
        self.sfu_frames_forwarded
            .fetch_add(tally.frames_forwarded, Relaxed);
        self.sfu_frames_over_budget
            .fetch_add(tally.frames_over_budget, Relaxed);
        self.sfu_datagrams_unclaimed
            .fetch_add(tally.datagrams_unclaimed, Relaxed);
        self.sfu_connections_renewed
            .fetch_add(tally.connections_renewed, Relaxed);
        self.sfu_downlink_cuts
            .fetch_add(tally.downlink_cuts, Relaxed);
    }
}

/// What the switchboard knows at scrape time.
#[derive(Debug, Default, Clone)]
pub(crate) struct Gauges {
    pub(crate) connections: usize,
    /// Participants of each room (every room of the cluster, in cluster mode).
    pub(crate) room_sizes: Vec<usize>,
    pub(crate) seats_held: usize,
    /// `None` without Redis.
    pub(crate) redis_up: Option<bool>,
}

/// Upper bounds of the room-size histogram's buckets.
const ROOM_SIZE_BUCKETS: [usize; 10] = [1, 2, 3, 4, 6, 8, 12, 16, 32, 64];

/// The Prometheus text format of `metrics` and `gauges`.
pub(crate) fn render(metrics: &Metrics, gauges: &Gauges) -> String {
    let mut out = String::with_capacity(4096);
    let out = &mut out;
    header(out, "noom_build_info", "gauge", "The running version.");
    let _ = writeln!(
        out,
        "noom_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    let participants: usize = gauges.room_sizes.iter().sum();
    let rooms = gauges.room_sizes.len();
    for (name, help, value) in [
        (
            "noom_connections",
            "Open WebSocket connections on this node.",
            gauges.connections,
        ),
        ("noom_rooms", "Rooms with at least one participant.", rooms),
        ("noom_participants", "People in rooms.", participants),
        (
            "noom_seats_held",
            "Seats of lost connections kept for resuming.",
            gauges.seats_held,
        ),
    ] {
        single(out, name, "gauge", help, value as u64);
    }
    if let Some(up) = gauges.redis_up {
        let help = "1 while this node is in step with Redis.";
        single(out, "noom_redis_up", "gauge", help, u64::from(up));
    }
    header(
        out,
        "noom_room_size",
        "histogram",
        "The current rooms by number of participants.",
    );
    for bound in ROOM_SIZE_BUCKETS {
        let within = gauges.room_sizes.iter().filter(|&&n| n <= bound).count();
        let _ = writeln!(out, "noom_room_size_bucket{{le=\"{bound}\"}} {within}");
    }
    let _ = writeln!(out, "noom_room_size_bucket{{le=\"+Inf\"}} {rooms}");
    let _ = writeln!(
        out,
        "noom_room_size_sum {participants}\nnoom_room_size_count {rooms}"
    );

    for (name, help, tally, label, other) in [
        (
            "noom_messages_received_total",
            "Messages from clients, by type.",
            &metrics.received,
            "type",
            "invalid",
        ),
        (
            "noom_messages_sent_total",
            "Messages queued for clients, by type (one per recipient).",
            &metrics.sent,
            "type",
            "other",
        ),
        (
            "noom_errors_total",
            "Errors sent to clients, by code.",
            &metrics.errors,
            "code",
            "other",
        ),
        (
            "noom_resumes_total",
            "Resume attempts, by result.",
            &metrics.resumes,
            "result",
            "other",
        ),
    ] {
        header(out, name, "counter", help);
        tally.lines(out, name, label, other);
    }
    for (name, help, count) in [
        (
            "noom_rate_limited_total",
            "Messages dropped by the per-connection rate limit.",
            &metrics.rate_limited,
        ),
        (
            "noom_dropped_slow_total",
            "Connections dropped because their send queue was full.",
            &metrics.dropped_slow,
        ),
        (
            "noom_turn_credentials_total",
            "TURN credentials minted.",
            &metrics.turn_credentials,
        ),
        (
            "noom_connections_refused_total",
            "Connections closed on arrival: over a connection cap.",
            &metrics.refused_connections,
        ),
        (
            "noom_sfu_frames_forwarded_total",
            "Media frames the SFU sent on to a subscriber (one per subscriber).",
            &metrics.sfu_frames_forwarded,
        ),
        (
            "noom_sfu_frames_over_budget_total",
            "Media frames the SFU did not forward: their publisher was over --sfu-max-kbps.",
            &metrics.sfu_frames_over_budget,
        ),
        (
            "noom_sfu_datagrams_unclaimed_total",
            "Datagrams on the SFU's port that no participant's connection took.",
            &metrics.sfu_datagrams_unclaimed,
        ),
        (
            "noom_sfu_connections_renewed_total",
            "SFU connections replaced because the m-lines of people who left had grown them.",
            &metrics.sfu_connections_renewed,
        ),
        (
            "noom_sfu_downlink_cuts_total",
            "Times a participant's video was capped lower for losing over 10 % on its downlink.",
            &metrics.sfu_downlink_cuts,
        ),
    ] {
        single(out, name, "counter", help, count.load(Relaxed));
    }
    std::mem::take(out)
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A metric with one value and no labels.
fn single(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_under_their_labels() {
        let metrics = Metrics::default();
        metrics.received("chat");
        metrics.received("chat");
        metrics.received("nonsense");
        metrics.sent("peer_joined", 3);
        metrics.error(ErrorCode::RoomFull);
        metrics.resume(ResumeResult::Refused);
        let gauges = Gauges {
            connections: 5,
            room_sizes: vec![1, 3, 8],
            seats_held: 2,
            redis_up: None,
        };
        let text = render(&metrics, &gauges);
        for line in [
            "noom_messages_received_total{type=\"chat\"} 2",
            "noom_messages_received_total{type=\"invalid\"} 1",
            "noom_messages_sent_total{type=\"peer_joined\"} 3",
            "noom_errors_total{code=\"room_full\"} 1",
            "noom_resumes_total{result=\"refused\"} 1",
            "noom_connections 5",
            "noom_rooms 3",
            "noom_participants 12",
            "noom_room_size_bucket{le=\"2\"} 1",
            "noom_room_size_bucket{le=\"8\"} 3",
            "noom_room_size_count 3",
            "noom_seats_held 2",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(!text.contains("noom_redis_up"), "no Redis, no Redis gauge");
    }
}
