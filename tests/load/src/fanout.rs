//! `fanout`: R rooms of K members, every member sending `chat` at M per second. Each text
//! carries room, member, sequence number and send time; since one sender's messages reach a
//! receiver in order, a receiver can count each (sender, seq) as delivered, duplicated or
//! missing without keeping a set, and must end with every message of its room exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use noom_shared::{ChatSend, ChatText, ClientMessage, ServerMessage};
use tokio::task::JoinSet;
use tokio::time::{Instant, interval_at, sleep};
use tokio_util::sync::CancellationToken;

use crate::Target;
use crate::client::{self, Sink, Stream, connect_many, join_and_wait};
use crate::report::{Counters, Report, progress};
use crate::stats::{SharedLatencies, Usage, now_us};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rooms.
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    /// Members of each room.
    #[arg(long, default_value_t = 8)]
    members: usize,
    /// Chat messages per second from each member.
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    /// Seconds of chatting.
    #[arg(long, default_value_t = 10)]
    duration: u64,
}

/// How long to wait for messages still in flight once sending stops.
const DRAIN: Duration = Duration::from_secs(2);

/// What one member received.
#[derive(Debug, Default)]
struct Received {
    /// The next sequence number expected from each member of the room.
    next: Vec<u64>,
    duplicates: u64,
    /// Sequence numbers skipped (never to arrive, as a sender's messages stay in order).
    skipped: u64,
    misrouted: u64,
}

pub async fn run(target: &Target, args: &Args) -> anyhow::Result<Report> {
    let total = args.rooms * args.members;
    let opened = connect_many(&target.url, total, target.batch).await?;
    anyhow::ensure!(
        opened.failures.is_empty(),
        "could not connect everyone: {}",
        opened.failures.join("; ")
    );
    let tag = client::run_tag();
    let mut joins = JoinSet::new();
    for (index, mut conn) in opened.conns.into_iter().enumerate() {
        let room = format!("fanout-{tag}-{}", index / args.members);
        joins.spawn(async move {
            join_and_wait(&mut conn, &room)
                .await
                .map(|()| (index, conn))
        });
    }
    let mut conns = Vec::with_capacity(total);
    while let Some(joined) = joins.join_next().await {
        conns.push(joined??);
    }
    conns.sort_by_key(|(index, _)| *index);

    let counters = Arc::new(Counters::default());
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..total).map(|_| AtomicU64::new(0)).collect());
    let latencies = SharedLatencies::new();
    let period = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
    let start = Instant::now();
    let until = start + Duration::from_secs(args.duration);
    let stop = CancellationToken::new();
    progress("fanout", counters.clone(), stop.clone());

    let before = Usage::read(target.pid)?;
    let mut sending = JoinSet::new();
    let mut readers = Vec::with_capacity(total);
    for (index, conn) in conns {
        let (room, member) = (index / args.members, index % args.members);
        let offset = period.mul_f64(index as f64 / total as f64);
        let sender = Sender {
            room,
            member,
            index,
            sent: sent.clone(),
            counters: counters.clone(),
        };
        sending.spawn(sender.run(conn.sink, start + offset, period, until));
        let reader = Reader {
            room,
            latencies: latencies.clone(),
            counters: counters.clone(),
        };
        readers.push(tokio::spawn(reader.run(
            conn.stream,
            args.members,
            stop.clone(),
        )));
    }
    let mut sinks = Vec::with_capacity(total);
    while let Some(sink) = sending.join_next().await {
        sinks.push(sink?);
    }
    let sent_total = counters.sent();
    let expected = sent_total * args.members as u64;
    let drained_by = Instant::now() + DRAIN;
    while counters.received() < expected && Instant::now() < drained_by {
        sleep(Duration::from_millis(10)).await;
    }
    let after = Usage::read(target.pid)?;
    stop.cancel();

    let (mut duplicates, mut missing, mut misrouted) = (0, 0, 0);
    for (index, reader) in readers.into_iter().enumerate() {
        let received = reader.await?;
        let room = index / args.members;
        duplicates += received.duplicates;
        misrouted += received.misrouted;
        missing += received.skipped;
        for (member, next) in received.next.iter().enumerate() {
            let from_member = sent[room * args.members + member].load(Ordering::Relaxed);
            missing += from_member.saturating_sub(*next);
        }
    }
    let delivered = counters.received();
    let mut report = Report::new("fanout");
    report.add("rooms", args.rooms as u64, "");
    report.add("members", args.members as u64, "");
    report.add("sent", sent_total, "");
    report.add(
        "sent_rate",
        (sent_total as f64 / args.duration.max(1) as f64).round() as u64,
        "msg/s",
    );
    report.add("expected_deliveries", expected, "");
    report.add("delivered", delivered, "");
    report.add("missing", missing, "");
    report.add("duplicates", duplicates, "");
    report.add("misrouted", misrouted, "");
    report.latencies("latency", &latencies.snapshot());
    report.server_usage(before, after, delivered);
    report.expect_zero("chat deliveries missing", missing);
    report.expect_zero("chat deliveries duplicated", duplicates);
    report.expect_zero("chat messages from another room", misrouted);
    drop(sinks);
    Ok(report)
}

/// One member's sending side.
struct Sender {
    room: usize,
    member: usize,
    /// Index into the shared per-member sent counts.
    index: usize,
    sent: Arc<Vec<AtomicU64>>,
    counters: Arc<Counters>,
}

impl Sender {
    /// Sends one chat every `period` from `first` until `until`; returns the sink.
    async fn run(self, mut sink: Sink, first: Instant, period: Duration, until: Instant) -> Sink {
        let mut ticks = interval_at(first, period);
        for seq in 0.. {
            if ticks.tick().await >= until {
                break;
            }
            let text = format!("{} {} {seq} {}", self.room, self.member, now_us());
            let Ok(text) = ChatText::new(&text) else {
                break;
            };
            if client::send(&mut sink, ClientMessage::Chat(ChatSend { text }))
                .await
                .is_err()
            {
                break;
            }
            self.sent[self.index].fetch_add(1, Ordering::Relaxed);
            self.counters.sent.fetch_add(1, Ordering::Relaxed);
        }
        sink
    }
}

/// One member's receiving side.
struct Reader {
    room: usize,
    latencies: SharedLatencies,
    counters: Arc<Counters>,
}

impl Reader {
    async fn run(self, mut stream: Stream, members: usize, stop: CancellationToken) -> Received {
        let mut received = Received {
            next: vec![0; members],
            ..Received::default()
        };
        while let Some(Ok(Some(envelope))) =
            stop.run_until_cancelled(client::recv(&mut stream)).await
        {
            let ServerMessage::Chat(chat) = envelope.message else {
                continue;
            };
            let fields: Vec<u64> = chat
                .text
                .split(' ')
                .filter_map(|field| field.parse().ok())
                .collect();
            let [room, member, seq, sent_at] = fields[..] else {
                received.misrouted += 1;
                continue;
            };
            let Some(next) = received.next.get_mut(member as usize) else {
                received.misrouted += 1;
                continue;
            };
            if room as usize != self.room {
                received.misrouted += 1;
            } else if seq < *next {
                received.duplicates += 1;
            } else {
                received.skipped += seq - *next;
                *next = seq + 1;
                self.latencies.since(sent_at);
                self.counters.received.fetch_add(1, Ordering::Relaxed);
            }
        }
        received
    }
}
