//! A lean protocol client for load: one WebSocket per simulated user, typed messages from
//! `noom-shared`, small buffers so that 20,000 of them fit in this process too. Not the test
//! harness: no panics, no per-call timeouts, every failure is a counted `Err`.

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use noom_shared::{ClientMessage, Envelope, Join, Nickname, PeerId, RoomName, ServerMessage};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::http::Uri;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::stats::Latencies;

/// How long one connection may take (TCP, handshake, `welcome`) before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type Socket = WebSocketStream<TcpStream>;
pub type Sink = SplitSink<Socket, Message>;
pub type Stream = SplitStream<Socket>;

/// One connected, welcomed user.
pub struct Conn {
    pub peer: PeerId,
    pub sink: Sink,
    pub stream: Stream,
}

/// Connections opened by [`connect_many`], in order, with what it cost to open them.
pub struct Opened {
    pub conns: Vec<Conn>,
    /// Connect-to-`welcome` times.
    pub connect: Latencies,
    /// One line per connection that failed (the first few are shown).
    pub failures: Vec<String>,
}

/// Opens `count` connections, at most `batch` in flight at once, and returns them in order.
pub async fn connect_many(url: &str, count: usize, batch: usize) -> anyhow::Result<Opened> {
    let uri: Uri = url
        .parse()
        .with_context(|| format!("`{url}` is not a URL"))?;
    let host = uri.host().context("the URL has no host")?.to_owned();
    let addr = format!("{host}:{}", uri.port_u16().unwrap_or(80));
    let in_flight = std::sync::Arc::new(Semaphore::new(batch.max(1)));
    let mut tasks = JoinSet::new();
    for index in 0..count {
        let permit = in_flight.clone().acquire_owned().await?;
        let (url, addr) = (url.to_owned(), addr.clone());
        tasks.spawn(async move {
            let started = Instant::now();
            let result = timeout(CONNECT_TIMEOUT, connect(&url, &addr))
                .await
                .unwrap_or_else(|_| Err(anyhow!("timed out")));
            drop(permit);
            (index, result.map(|conn| (conn, started.elapsed())))
        });
    }
    let mut slots: Vec<Option<Conn>> = (0..count).map(|_| None).collect();
    let mut connect = Latencies::new();
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (index, result) = joined?;
        match result {
            Ok((conn, took)) => {
                connect.record(took);
                slots[index] = Some(conn);
            }
            Err(err) => failures.push(format!("connection {index}: {err:#}")),
        }
    }
    Ok(Opened {
        conns: slots.into_iter().flatten().collect(),
        connect,
        failures,
    })
}

/// Opens one WebSocket and reads its `welcome`.
async fn connect(url: &str, addr: &str) -> anyhow::Result<Conn> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let (socket, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config)).await?;
    let (sink, mut stream) = socket.split();
    match recv(&mut stream).await? {
        Some(Envelope {
            message: ServerMessage::Welcome(welcome),
            ..
        }) => Ok(Conn {
            peer: welcome.peer_id,
            sink,
            stream,
        }),
        other => bail!("expected welcome, got {other:?}"),
    }
}

/// Sends one message.
pub async fn send(sink: &mut Sink, message: ClientMessage) -> anyhow::Result<()> {
    sink.send(Message::text(Envelope::new(message).encode()))
        .await
        .map_err(Into::into)
}

/// The next protocol message, or `None` once the server has closed.
pub async fn recv(stream: &mut Stream) -> anyhow::Result<Option<Envelope<ServerMessage>>> {
    while let Some(frame) = stream.next().await {
        match frame? {
            Message::Text(text) => return Ok(Some(Envelope::decode(&text)?)),
            Message::Close(_) => return Ok(None),
            _ => {}
        }
    }
    Ok(None)
}

/// A `join` message, under a nickname no other client of this run has (a room refuses a
/// second member of the same name).
pub fn join(room: &str) -> anyhow::Result<ClientMessage> {
    static JOINS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = JOINS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(ClientMessage::Join(Join {
        room: RoomName::new(room)?,
        nickname: Nickname::new(&format!("load-{n}"))?,
        password: None,
    }))
}

/// Joins `room` and waits for `joined`, skipping anything else (room-list pushes, mostly).
pub async fn join_and_wait(conn: &mut Conn, room: &str) -> anyhow::Result<()> {
    send(&mut conn.sink, join(room)?).await?;
    loop {
        match recv(&mut conn.stream).await? {
            Some(Envelope {
                message: ServerMessage::Joined(_),
                ..
            }) => return Ok(()),
            Some(Envelope {
                message: ServerMessage::Error(err),
                ..
            }) => bail!("join refused: {}: {}", err.code, err.message),
            Some(_) => {}
            None => bail!("closed while joining"),
        }
    }
}

/// A prefix for room names that no other run shares, so runs can overlap.
pub fn run_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:x}{nanos:x}", std::process::id())
}
