//! `relay`: P pairs, each alone in its own room, sending each other `signal` at a total of R
//! messages per second. Each signal carries its send time and pair number, so the receiver
//! can tell a delivery (from its partner, for its pair) from a misrouted one and time it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use noom_shared::{ClientMessage, PeerId, ServerMessage, SignalData, SignalTo};
use serde_json::Value;
use tokio::task::JoinSet;
use tokio::time::{Instant, interval_at, sleep};
use tokio_util::sync::CancellationToken;

use crate::Target;
use crate::client::{self, Conn, Sink, Stream, connect_many, join_and_wait};
use crate::report::{Counters, Report, progress};
use crate::stats::{SharedLatencies, Usage, now_us};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pairs of peers, each pair in its own room.
    #[arg(long, default_value_t = 500)]
    pairs: usize,
    /// Signals per second, all senders together (each peer sends rate / (2 x pairs)).
    #[arg(long, default_value_t = 10_000)]
    rate: u32,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10)]
    duration: u64,
}

/// How long to wait for messages still in flight once sending stops.
const DRAIN: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
struct Tally {
    misrouted: AtomicU64,
    errors: AtomicU64,
}

pub async fn run(target: &Target, args: &Args) -> anyhow::Result<Report> {
    let opened = connect_many(&target.url, args.pairs * 2, target.batch).await?;
    anyhow::ensure!(
        opened.failures.is_empty(),
        "could not connect everyone: {}",
        opened.failures.join("; ")
    );
    let conns = join_pairs(opened.conns).await?;

    let counters = Arc::new(Counters::default());
    let tally = Arc::new(Tally::default());
    let latencies = SharedLatencies::new();
    let senders = conns.len() as u32;
    let period = Duration::from_secs_f64(f64::from(senders) / f64::from(args.rate.max(1)));
    let start = Instant::now();
    let until = start + Duration::from_secs(args.duration);
    let stop = CancellationToken::new();
    progress("relay", counters.clone(), stop.clone());

    let before = Usage::read(target.pid)?;
    let mut sending = JoinSet::new();
    let mut readers = Vec::new();
    for (index, (conn, partner)) in conns.into_iter().enumerate() {
        let pair = index / 2;
        // Spread the senders evenly over one period, so the load is smooth rather than bursts.
        let offset = period.mul_f64(index as f64 / f64::from(senders));
        let sender = Sender {
            to: partner.clone(),
            pair,
            counters: counters.clone(),
        };
        sending.spawn(sender.run(conn.sink, start + offset, period, until));
        readers.push(tokio::spawn(read(
            conn.stream,
            partner,
            pair,
            latencies.clone(),
            counters.clone(),
            tally.clone(),
        )));
    }
    let mut sinks = Vec::new();
    while let Some(sink) = sending.join_next().await {
        sinks.push(sink?);
    }
    let drained_by = Instant::now() + DRAIN;
    while counters.received() + tally.misrouted.load(Ordering::Relaxed) < counters.sent()
        && Instant::now() < drained_by
    {
        sleep(Duration::from_millis(10)).await;
    }
    let after = Usage::read(target.pid)?;
    stop.cancel();
    readers.iter().for_each(|reader| reader.abort());

    let (sent, delivered) = (counters.sent(), counters.received());
    let misrouted = tally.misrouted.load(Ordering::Relaxed);
    let lost = sent.saturating_sub(delivered + misrouted);
    let mut report = Report::new("relay");
    report.add("pairs", args.pairs as u64, "");
    report.add("target_rate", args.rate, "msg/s");
    report.add("sent", sent, "");
    report.add(
        "achieved_rate",
        (sent as f64 / args.duration.max(1) as f64).round() as u64,
        "msg/s",
    );
    report.add("delivered", delivered, "");
    report.add("lost", lost, "");
    report.add("misrouted", misrouted, "");
    report.add("errors", tally.errors.load(Ordering::Relaxed), "");
    report.latencies("latency", &latencies.snapshot());
    report.server_usage(before, after, delivered);
    report.expect_zero("signals lost", lost);
    report.expect_zero("signals misrouted", misrouted);
    report.expect_zero(
        "errors from the server",
        tally.errors.load(Ordering::Relaxed),
    );
    drop(sinks);
    Ok(report)
}

/// Puts connections 2i and 2i+1 in room i; returns each connection with its partner's id.
async fn join_pairs(conns: Vec<Conn>) -> anyhow::Result<Vec<(Conn, PeerId)>> {
    let tag = client::run_tag();
    let mut joins = JoinSet::new();
    let mut conns = conns.into_iter();
    let mut pair = 0;
    while let (Some(mut a), Some(mut b)) = (conns.next(), conns.next()) {
        let room = format!("relay-{tag}-{pair}");
        pair += 1;
        joins.spawn(async move {
            join_and_wait(&mut a, &room).await?;
            join_and_wait(&mut b, &room).await?;
            let (a_id, b_id) = (a.peer.clone(), b.peer.clone());
            anyhow::Ok((pair, [(a, b_id), (b, a_id)]))
        });
    }
    let mut pairs = Vec::new();
    while let Some(joined) = joins.join_next().await {
        pairs.push(joined?.context("joining the pairs' rooms")?);
    }
    pairs.sort_by_key(|(pair, _)| *pair);
    Ok(pairs.into_iter().flat_map(|(_, both)| both).collect())
}

/// One peer's sending side.
struct Sender {
    to: PeerId,
    pair: usize,
    counters: Arc<Counters>,
}

impl Sender {
    /// Sends one signal every `period` from `first` until `until`; returns the sink.
    async fn run(self, mut sink: Sink, first: Instant, period: Duration, until: Instant) -> Sink {
        let mut ticks = interval_at(first, period);
        loop {
            if ticks.tick().await >= until {
                return sink;
            }
            let data = format!(r#"{{"t":{},"p":{}}}"#, now_us(), self.pair);
            let Ok(data) = SignalData::from_json(&data) else {
                return sink;
            };
            let signal = ClientMessage::Signal(SignalTo {
                to: self.to.clone(),
                data,
            });
            if client::send(&mut sink, signal).await.is_err() {
                return sink;
            }
            self.counters.sent.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Reads signals until the socket ends, sorting each into delivered or misrouted.
async fn read(
    mut stream: Stream,
    partner: PeerId,
    pair: usize,
    latencies: SharedLatencies,
    counters: Arc<Counters>,
    tally: Arc<Tally>,
) {
    while let Ok(Some(envelope)) = client::recv(&mut stream).await {
        match envelope.message {
            ServerMessage::Signal(signal) => {
                let data: Value = serde_json::from_str(signal.data.as_json()).unwrap_or_default();
                let sent_at = data["t"].as_u64();
                match sent_at {
                    Some(sent_at) if signal.from == partner && data["p"] == pair => {
                        latencies.since(sent_at);
                        counters.received.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        tally.misrouted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            ServerMessage::Error(_) => {
                tally.errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}
