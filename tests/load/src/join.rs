//! `join`: N lobby clients, released at once, each joining room i / K. Measures the time until
//! every client has `joined` and knows each of its K - 1 room-mates (from `joined.peers` or
//! `peer_joined`), and counts the `rooms_changed` pushes each one received while in the lobby: the
//! server coalesces them, so a storm costs each lobby client a frame per tick, not per join.
//! `--watchers` lobby clients stay in the lobby throughout: they count every push, and the list
//! their pushes made must show every room of the storm, full.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use noom_shared::{PeerId, Rooms, ServerMessage};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;

use crate::Target;
use crate::client::{self, Conn, connect_many};
use crate::report::{Report, round};
use crate::stats::{Latencies, Usage};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Clients joining at once.
    #[arg(long, default_value_t = 2000)]
    clients: usize,
    /// Members per room.
    #[arg(long, default_value_t = 4)]
    room_size: usize,
    /// Seconds after which a client that is not fully joined counts as incomplete.
    #[arg(long, default_value_t = 30)]
    within: u64,
    /// Lobby clients that watch the room list throughout and never join.
    #[arg(long, default_value_t = 0)]
    watchers: usize,
}

/// How long watchers keep listening after the storm: a few room-list ticks.
const SETTLE: Duration = Duration::from_millis(500);

/// How one client's storm went.
struct Outcome {
    /// When it had `joined` and every room-mate; `None` if it never did.
    done_at: Option<Instant>,
    room_frames: u64,
    /// Room-mates announced that were not in its room.
    strangers: u64,
    /// Kept open until everyone is done, so no `peer_left` disturbs the others.
    _conn: Conn,
}

pub async fn run(target: &Target, args: &Args) -> anyhow::Result<Report> {
    let room_size = args.room_size.max(1);
    let mut opened = connect_many(&target.url, args.clients + args.watchers, target.batch).await?;
    anyhow::ensure!(
        opened.failures.is_empty(),
        "could not connect everyone: {}",
        opened.failures.join("; ")
    );
    let stop_watching = CancellationToken::new();
    let watchers: Vec<_> = opened
        .conns
        .split_off(args.clients)
        .into_iter()
        .map(|conn| tokio::spawn(watch(conn, stop_watching.clone())))
        .collect();
    let ids: Vec<PeerId> = opened.conns.iter().map(|c| c.peer.clone()).collect();
    let tag = client::run_tag();
    let go = CancellationToken::new();
    let mut tasks = JoinSet::new();
    for (index, conn) in opened.conns.into_iter().enumerate() {
        let room = index / room_size;
        let mates = ids[room * room_size..((room + 1) * room_size).min(ids.len())]
            .iter()
            .filter(|id| **id != conn.peer)
            .cloned()
            .collect();
        tasks.spawn(member(
            conn,
            format!("join-{tag}-{room}"),
            mates,
            go.clone(),
        ));
    }
    // Let every client settle in the lobby before the storm.
    sleep(Duration::from_millis(500)).await;
    let before = Usage::read(target.pid)?;
    let released = Instant::now();
    let deadline = released + Duration::from_secs(args.within);
    go.cancel();

    let mut outcomes = Vec::with_capacity(args.clients);
    while let Some(outcome) = tokio::time::timeout_at(deadline, tasks.join_next())
        .await
        .ok()
        .flatten()
    {
        outcomes.push(outcome?);
    }
    sleep(SETTLE).await;
    let after = Usage::read(target.pid)?;
    stop_watching.cancel();
    let mut watched = Vec::with_capacity(watchers.len());
    for watcher in watchers {
        watched.push(watcher.await?);
    }
    let expected: HashMap<String, u32> = (0..args.clients)
        .map(|index| format!("join-{tag}-{}", index / room_size))
        .fold(HashMap::new(), |mut rooms, name| {
            *rooms.entry(name).or_default() += 1;
            rooms
        });
    let stale_lists = watched
        .iter()
        .filter(|(_, last)| !shows(last, &tag, &expected))
        .count() as u64;
    let incomplete =
        (args.clients - outcomes.iter().filter(|o| o.done_at.is_some()).count()) as u64;
    let mut per_client = Latencies::new();
    for done_at in outcomes.iter().filter_map(|o| o.done_at) {
        per_client.record(done_at - released);
    }
    let frames: Vec<u64> = outcomes.iter().map(|o| o.room_frames).collect();
    let total_frames: u64 = frames.iter().sum();
    let strangers = outcomes.iter().map(|o| o.strangers).sum();

    let mut report = Report::new("join");
    report.add("clients", args.clients as u64, "");
    report.add("room_size", room_size as u64, "");
    report.add("rooms", args.clients.div_ceil(room_size) as u64, "");
    report.add("all_joined_ms", round(per_client.max_ms()), "ms");
    report.latencies("client_joined", &per_client);
    report.add("incomplete", incomplete, "");
    report.add("strangers", strangers, "");
    report.add("room_frames_total", total_frames, "");
    report.add(
        "room_frames_max_per_client",
        frames.iter().copied().max().unwrap_or(0),
        "",
    );
    report.add(
        "room_frames_mean_per_client",
        round(total_frames as f64 / frames.len().max(1) as f64),
        "",
    );
    if !watched.is_empty() {
        let counts: Vec<u64> = watched.iter().map(|(count, _)| *count).collect();
        report.add("watchers", counts.len() as u64, "");
        report.add(
            "watcher_frames_max",
            counts.iter().copied().max().unwrap_or(0),
            "",
        );
        report.add(
            "watcher_frames_mean",
            round(counts.iter().sum::<u64>() as f64 / counts.len() as f64),
            "",
        );
        report.add("watchers_with_a_stale_list", stale_lists, "");
    }
    report.server_usage(before, after, 0);
    report.expect_zero("watchers whose last room list is wrong", stale_lists);
    report.expect_zero("clients not fully joined in time", incomplete);
    report.expect_zero("peers announced to the wrong room", strangers);
    drop(outcomes);
    Ok(report)
}

/// One client: waits in the lobby (counting room-list pushes), joins when `go` fires, and is
/// done once it has `joined` and has heard of every one of `mates`.
async fn member(
    conn: Conn,
    room: String,
    mates: HashSet<PeerId>,
    go: CancellationToken,
) -> Outcome {
    let mut outcome = Outcome {
        done_at: None,
        room_frames: 0,
        strangers: 0,
        _conn: conn,
    };
    let conn = &mut outcome._conn;
    let mut asked = false;
    let mut joined = false;
    let mut known = HashSet::new();
    loop {
        if joined && known.len() == mates.len() {
            outcome.done_at = Some(Instant::now());
            return outcome;
        }
        let envelope = tokio::select! {
            () = go.cancelled(), if !asked => {
                asked = true;
                let Ok(join) = client::join(&room) else { return outcome };
                if client::send(&mut conn.sink, join).await.is_err() {
                    return outcome;
                }
                continue;
            }
            envelope = client::recv(&mut conn.stream) => envelope,
        };
        let Ok(Some(envelope)) = envelope else {
            return outcome;
        };
        let peers = match envelope.message {
            ServerMessage::RoomsChanged(_) => {
                outcome.room_frames += 1;
                continue;
            }
            ServerMessage::Joined(done) => {
                joined = true;
                done.peers.into_iter().map(|p| p.peer_id).collect()
            }
            ServerMessage::PeerJoined(peer) => vec![peer.peer_id],
            ServerMessage::Error(_) => return outcome,
            _ => continue,
        };
        for peer in peers {
            if mates.contains(&peer) {
                known.insert(peer);
            } else {
                outcome.strangers += 1;
            }
        }
    }
}

/// A lobby client that only listens: returns how many room-list pushes it got, and the list
/// they made (of the rooms that changed since it connected).
async fn watch(mut conn: Conn, stop: CancellationToken) -> (u64, Option<Rooms>) {
    let (mut count, mut seen) = (0, Rooms::default());
    while let Some(Ok(Some(envelope))) = stop
        .run_until_cancelled(client::recv(&mut conn.stream))
        .await
    {
        if let ServerMessage::RoomsChanged(changes) = envelope.message {
            count += 1;
            seen.apply(&changes);
        }
    }
    (count, (count > 0).then_some(seen))
}

/// Whether `list` shows exactly the rooms of this run (`join-<tag>-…`) with their final counts.
fn shows(list: &Option<Rooms>, tag: &str, expected: &HashMap<String, u32>) -> bool {
    let prefix = format!("join-{tag}-");
    let ours: HashMap<String, u32> = list
        .iter()
        .flat_map(|list| &list.rooms)
        .filter(|room| room.name.starts_with(&prefix))
        .map(|room| (room.name.to_string(), room.participants))
        .collect();
    ours == *expected
}
