//! The attacks that issue 13 measured, replayed against the real `noom-server` binary on
//! loopback while a normal call goes on from addresses of its own. Each checks that the
//! server's memory stays within the budget the attack meets, that the call joins and its chat
//! stays quick (p95 under 100 ms), and that nothing panicked. Distinct 127.x.y.z sources stand
//! in for distinct machines; the scenarios run one at a time so that each measures itself.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use noom_shared::*;
use noom_tests::TestClient;
use noom_tests::binary::{ServerProcess, empty_dir, rss_kib, server_executable};
use noom_tests::client::{join_message, raw_socket_from};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message;

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long each attack goes on while the normal call is timed.
const ATTACK_FOR: Duration = Duration::from_secs(4);
/// The normal call's chat latency, at the 95th percentile, during any attack.
const P95_WITHIN: Duration = Duration::from_millis(100);
/// The server's default `--send-queue-bytes`.
const QUEUE_BUDGET_KIB: u64 = 1024;
/// The server's default `--max-frame-bytes`.
const FRAME_LIMIT: usize = 64 * 1024;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn start(name: &str) -> ServerProcess {
    start_with(name, &[])
}

fn start_with(name: &str, args: &[&str]) -> ServerProcess {
    let dir = empty_dir(name);
    let mut all = vec!["--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    ServerProcess::start(&server_executable(), &dir, &all)
}

fn encoded(message: ClientMessage) -> Message {
    Message::text(Envelope::new(message).encode())
}

/// Two people on addresses of their own join a room and chat for `lasting`, a message every
/// 50 ms, each timed from send to arrival. Each call has a room of its own: the last call's
/// people may still hold their seats (and so their nicknames) there.
async fn normal_call(server: SocketAddr, lasting: Duration) -> Call {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let room = format!(
        "normal-{}",
        CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let started = Instant::now();
    let mut ana = TestClient::connect_from(server, ip("127.0.0.200")).await;
    ana.join(&room, "Ana").await;
    let mut ben = TestClient::connect_from(server, ip("127.0.0.201")).await;
    ben.join(&room, "Ben").await;
    let joined_in = started.elapsed();
    let mut latencies = Vec::new();
    while started.elapsed() < lasting {
        let text = format!("normal {}", latencies.len());
        let sent = Instant::now();
        ana.send(ClientMessage::Chat(ChatSend {
            text: ChatText::new(&text).unwrap(),
        }))
        .await;
        loop {
            if let ServerMessage::Chat(chat) = ben.recv().await
                && chat.text.as_str() == text
            {
                break;
            }
        }
        latencies.push(sent.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    Call {
        joined_in,
        latencies,
    }
}

struct Call {
    joined_in: Duration,
    /// Sorted.
    latencies: Vec<Duration>,
}

impl Call {
    fn percentile(&self, p: usize) -> Duration {
        self.latencies[(self.latencies.len() * p / 100).min(self.latencies.len() - 1)]
    }
}

/// `work`'s output and the server's highest resident memory (KiB) while it ran.
async fn peak_memory_during<T>(pid: u32, work: impl Future<Output = T>) -> (T, u64) {
    let mut peak = rss_kib(pid).unwrap_or(0);
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return (out, peak.max(rss_kib(pid).unwrap_or(0))),
            _ = ticks.tick() => peak = peak.max(rss_kib(pid).unwrap_or(0)),
        }
    }
}

/// Runs `attack` beside a normal call and checks both the call and the memory the attack
/// made the server hold, at most `budget_kib` above what it held before.
async fn under_attack<T>(
    server: &ServerProcess,
    name: &str,
    budget_kib: u64,
    attack: impl Future<Output = T>,
) -> T {
    let before = rss_kib(server.pid()).unwrap();
    let call = normal_call(server.addr, ATTACK_FOR);
    let ((call, attacked), peak) =
        peak_memory_during(server.pid(), async { tokio::join!(call, attack) }).await;
    let grew = peak.saturating_sub(before);
    println!(
        "{name}: server RSS {before} KiB -> peak {peak} KiB (+{grew} KiB, budget {budget_kib} KiB); \
         normal call joined in {:?}, chat p50 {:?} p95 {:?} max {:?} over {} messages",
        call.joined_in,
        call.percentile(50),
        call.percentile(95),
        call.latencies.last().unwrap(),
        call.latencies.len(),
    );
    assert!(grew <= budget_kib, "{name}: the server grew {grew} KiB");
    assert!(
        call.percentile(95) < P95_WITHIN,
        "{name}: chat p95 {:?}",
        call.percentile(95)
    );
    assert!(
        !server.log().contains("panicked"),
        "{name}:\n{}",
        server.log()
    );
    attacked
}

/// How many connections the server has dropped for not reading.
fn slow_drops(server: &ServerProcess) -> usize {
    server.log().matches("dropping slow connection").count()
}

/// `rooms` connections from 127.0.0.1 (a local proxy's address, so not capped), each alone in
/// a room of its own.
async fn open_rooms(server: SocketAddr, rooms: usize) -> Vec<TestClient> {
    let mut holders = Vec::with_capacity(rooms);
    for batch in (0..rooms).collect::<Vec<_>>().chunks(100) {
        let joined = futures_util::future::join_all(batch.iter().map(|&n| async move {
            let mut holder = TestClient::connect_from(server, ip("127.0.0.1")).await;
            holder.join(&format!("room-{n:04}"), "Holder").await;
            holder
        }));
        holders.extend(joined.await);
    }
    holders
}

/// From `source`, asks for the room list `burst` times at once and then `per_second`, for
/// `lasting`: within the rate limit, so the server must answer every request. A reader takes
/// what comes and returns how many frames it got; a non-reader leaves it all to the server.
async fn ask_for_rooms(
    server: SocketAddr,
    source: IpAddr,
    burst: usize,
    per_second: u32,
    lasting: Duration,
    read: bool,
) -> usize {
    let (mut sink, mut stream) = raw_socket_from(server, source).await.split();
    let started = Instant::now();
    let frames = Arc::new(AtomicUsize::new(0));
    let counted = frames.clone();
    // A non-reader keeps its socket open, unread, to the end.
    let reader = tokio::spawn(async move {
        while read && let Some(Ok(_)) = stream.next().await {
            counted.fetch_add(1, Ordering::Relaxed);
        }
        std::future::pending::<()>().await;
    });
    let list = || encoded(ClientMessage::ListRooms(Empty {}));
    for _ in 0..burst {
        if sink.feed(list()).await.is_err() {
            break;
        }
    }
    let _ = sink.flush().await;
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / per_second);
    while started.elapsed() < lasting {
        ticks.tick().await;
        if sink.send(list()).await.is_err() {
            break;
        }
    }
    reader.abort();
    frames.load(Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_list_cannot_amplify_a_request_into_memory_or_cpu() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let server = start("attack-room-list");
    let addr = server.addr;
    let _holders = open_rooms(addr, 1000).await;

    // Eight machines reading the 1,000-room list as fast as their rate limit allows.
    let readers =
        (1..=8).map(|n| ask_for_rooms(addr, ip(&format!("127.0.1.{n}")), 10, 45, ATTACK_FOR, true));
    let answered: usize = under_attack(
        &server,
        "list_rooms flood, 8 reading machines",
        8 * QUEUE_BUDGET_KIB,
        futures_util::future::join_all(readers),
    )
    .await
    .into_iter()
    .sum();
    println!("the readers got {answered} room lists");
    assert!(answered > 8 * 100, "the flood was answered ({answered})");

    // Eight that ask 200 times each and never read: each holds at most its queue's budget.
    let hoarders = (1..=8).map(|n| {
        ask_for_rooms(
            addr,
            ip(&format!("127.0.2.{n}")),
            200,
            45,
            ATTACK_FOR,
            false,
        )
    });
    under_attack(
        &server,
        "list_rooms by 8 machines that never read",
        8 * QUEUE_BUDGET_KIB * 2,
        futures_util::future::join_all(hoarders),
    )
    .await;
    assert_eq!(
        slow_drops(&server),
        8,
        "each hoarder met its budget and was dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_that_never_read_cost_at_most_their_queue_budget() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let server = start("attack-non-readers");
    let addr = server.addr;
    // Four members of one room that stop reading once they are in.
    let mut hoarders = Vec::new();
    for n in 1..=4 {
        let mut hoarder = TestClient::connect_from(addr, ip(&format!("127.0.3.{n}"))).await;
        hoarder.join("flood", &format!("Hoarder {n}")).await;
        hoarders.push(hoarder);
    }
    let targets: Vec<PeerId> = hoarders.iter().map(|h| h.peer_id().clone()).collect();
    // Four more, from machines of their own, send them signals of nearly the frame limit as
    // fast as their rate limits allow: more than the kernel's socket buffers take.
    let senders = (5..=8).map(|n| send_signals(addr, ip(&format!("127.0.3.{n}")), &targets));
    let sent: usize = under_attack(
        &server,
        "64 KiB signals to 4 members that never read",
        4 * QUEUE_BUDGET_KIB * 2,
        futures_util::future::join_all(senders),
    )
    .await
    .into_iter()
    .sum();
    println!(
        "the senders sent {sent} signals of {} KiB",
        FRAME_LIMIT / 1024
    );
    assert_eq!(
        slow_drops(&server),
        4,
        "each hoarder met its budget and was dropped"
    );
    drop(hoarders);
}

/// Joins the room `flood` from `source` and sends signals of nearly the frame limit to
/// `targets` in turn, a burst and then at its rate limit, for [`ATTACK_FOR`]; returns how many.
async fn send_signals(server: SocketAddr, source: IpAddr, targets: &[PeerId]) -> usize {
    let (mut sink, mut stream) = raw_socket_from(server, source).await.split();
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    let name = format!("Sender {source}");
    sink.send(encoded(join_message("flood", &name)))
        .await
        .unwrap();
    let blob = "x".repeat(FRAME_LIMIT - 200);
    let started = Instant::now();
    let mut sent = 0;
    while started.elapsed() < ATTACK_FOR {
        let data = SignalData::from_json(&format!(r#"{{"blob":"{blob}"}}"#)).unwrap();
        let to = targets[sent % targets.len()].clone();
        if sink
            .send(encoded(ClientMessage::Signal(SignalTo { to, data })))
            .await
            .is_err()
        {
            break;
        }
        sent += 1;
        if sent >= 150 {
            tokio::time::sleep(Duration::from_millis(22)).await;
        }
    }
    drain.abort();
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_frames_hold_at_most_the_frame_limit_each() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let server = start("attack-unfinished-frames");
    let addr = server.addr;
    // Half declare a frame of the limit, half one of four times it; each sends all of its
    // frame but the last 4 KiB, and waits.
    const CONNECTIONS: usize = 200;
    let held = async {
        let mut held = Vec::with_capacity(CONNECTIONS);
        for n in 0..CONNECTIONS {
            let declared = if n % 2 == 0 {
                FRAME_LIMIT
            } else {
                4 * FRAME_LIMIT - 1
            };
            let mut socket = raw_socket_from(addr, ip("127.0.4.1")).await;
            let MaybeTlsStream::Plain(tcp) = socket.get_mut() else {
                unreachable!("plain TCP")
            };
            let mut frame = vec![0x81, 0x80 | 127]; // a masked text frame, 64-bit length
            frame.extend_from_slice(&(declared as u64).to_be_bytes());
            frame.extend_from_slice(&[1, 2, 3, 4]);
            frame.resize(frame.len() + declared - 4096, b'x');
            // The larger ones may be refused while they are written.
            let _ = tcp.write_all(&frame).await;
            held.push(socket);
        }
        tokio::time::sleep(ATTACK_FOR / 2).await;
        held
    };
    // What the 100 frames within the limit may hold, with room for a buffer that doubled.
    let budget = (CONNECTIONS / 2 * FRAME_LIMIT * 2 / 1024) as u64;
    let held = under_attack(&server, "200 unfinished frames", budget, held).await;
    let mut refused = 0;
    for mut socket in held.into_iter().skip(1).step_by(2) {
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(message)) = socket.next().await {
                if matches!(message, Message::Close(_)) {
                    return;
                }
            }
        });
        refused += usize::from(closed.await.is_ok());
    }
    assert_eq!(
        refused,
        CONNECTIONS / 2,
        "every frame over the limit is refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_from_one_machine_leaves_room_for_everyone_else() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let server = start("attack-connection-flood");
    let addr = server.addr;
    const ATTEMPTS: usize = 2_000;
    let flood = async {
        let mut opened = Vec::with_capacity(ATTEMPTS);
        for _ in 0..ATTEMPTS {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(SocketAddr::new(ip("127.0.5.1"), 0)).unwrap();
            if let Ok(tcp) = socket.connect(addr).await {
                opened.push(tcp);
            }
        }
        // Those over the per-address cap (200) are closed at once, before any byte is read.
        let mut closed = 0;
        for tcp in &mut opened {
            let mut byte = [0u8; 1];
            let read = tokio::time::timeout(Duration::from_millis(20), tcp.read(&mut byte)).await;
            if matches!(read, Ok(Ok(0) | Err(_))) {
                closed += 1;
            }
        }
        closed
    };
    let closed = under_attack(
        &server,
        "2,000 connections from one machine",
        8 * 1024,
        flood,
    )
    .await;
    println!("{closed} of {ATTEMPTS} connections were closed at once");
    assert!(closed >= ATTEMPTS - 200, "only {closed} closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_readers_of_a_large_file_hold_a_chunk_each_not_the_file() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let app = empty_dir("attack-static-app");
    std::fs::write(app.join("index.html"), "<!doctype html><title>Noom</title>").unwrap();
    const FILE_BYTES: usize = 16 * 1024 * 1024;
    std::fs::write(app.join("big-1a2b.wasm"), vec![7u8; FILE_BYTES]).unwrap();
    let app = app.to_string_lossy().into_owned();
    let server = start_with("attack-static", &["--static-dir", &app]);
    let addr = server.addr;
    // Twenty downloads of a file far larger than the kernel's socket buffers, never read.
    const READERS: usize = 20;
    let stalled = async {
        let mut held = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(SocketAddr::new(ip("127.0.6.1"), 0)).unwrap();
            let mut tcp = socket.connect(addr).await.unwrap();
            let request = format!("GET /big-1a2b.wasm HTTP/1.1\r\nHost: {addr}\r\n\r\n");
            tcp.write_all(request.as_bytes()).await.unwrap();
            held.push(tcp);
        }
        tokio::time::sleep(ATTACK_FOR / 2).await;
        held
    };
    // Each holds a chunk (16 KiB), hyper's buffer (at most 64 KiB) and its share of the
    // threads that read files (measured: about 0.2 MiB in all); the whole file each would be
    // 320 MiB.
    let held = under_attack(
        &server,
        "20 stalled downloads of a 16 MiB file",
        8 * 1024,
        stalled,
    )
    .await;
    drop(held);
}
