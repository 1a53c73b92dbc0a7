//! A participant with no browser: a protocol client over a real WebSocket whose SFU connection is
//! str0m over real UDP on loopback. It answers every `sfu_offer`, sends a 60-byte Opus frame
//! (its nickname's first byte, repeated) every 20 ms on its audio m-line, and counts the frames
//! it gets from each other participant, by the m-line map of the latest offer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use noom_shared::{
    ClientMessage, Envelope, ErrorCode, Media, PeerId, ServerMessage, SfuAnswer, SfuOffer,
    SfuTrackKind,
};
use str0m::change::SdpOffer;
use str0m::format::Codec;
use str0m::media::{MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::TestClient;
use crate::client::{WAIT, join_message};

/// What a media peer has seen so far.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// From `joined`, then each `media_changed`.
    pub media: Vec<Media>,
    pub offers: usize,
    /// The latest offer's m-lines.
    pub tracks: Vec<noom_shared::SfuTrack>,
    /// Audio frames received, by sender (the m-line's participant in the latest offer).
    pub heard: HashMap<PeerId, usize>,
    /// The distinct first bytes of those frames, by sender: each sender's own byte only.
    pub bytes: HashMap<PeerId, Vec<u8>>,
    /// Frames on an m-line the latest offer does not give to another participant.
    pub misrouted: usize,
    pub errors: Vec<ErrorCode>,
    pub left: Vec<PeerId>,
    /// The SFU's media address, from the latest offer's candidate.
    pub server: Option<SocketAddr>,
}

pub struct MediaPeer {
    pub id: PeerId,
    seen: Arc<Mutex<Seen>>,
    commands: mpsc::UnboundedSender<ClientMessage>,
    task: JoinHandle<()>,
}

impl MediaPeer {
    /// Connects to `url`, joins `room` as `nickname`, and runs until dropped.
    pub async fn join(url: &str, room: &str, nickname: &str) -> Self {
        let mut client = TestClient::connect(url).await;
        let id = client.peer_id().clone();
        client.send(join_message(room, nickname)).await;
        let mut seen = Seen::default();
        loop {
            match client.recv().await {
                ServerMessage::Joined(joined) => {
                    seen.media.push(joined.media);
                    break;
                }
                ServerMessage::Error(error) => panic!("{nickname} could not join: {error:?}"),
                _ => {}
            }
        }
        let seen = Arc::new(Mutex::new(seen));
        let (commands, inbox) = mpsc::unbounded_channel();
        let byte = nickname.as_bytes()[0];
        let task = tokio::spawn(drive(client, seen.clone(), inbox, byte));
        Self {
            id,
            seen,
            commands,
            task,
        }
    }

    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn send(&self, message: ClientMessage) {
        let _ = self.commands.send(message);
    }

    /// Waits up to [`WAIT`] (times 3: media takes a DTLS handshake) until `done` holds.
    pub async fn until(&self, what: &str, done: impl Fn(&Seen) -> bool) -> Duration {
        self.until_within(what, WAIT * 3, done).await
    }

    /// Waits up to `deadline` until `done` holds; returns how long it took.
    pub async fn until_within(
        &self,
        what: &str,
        deadline: Duration,
        done: impl Fn(&Seen) -> bool,
    ) -> Duration {
        let start = Instant::now();
        while !done(&self.seen()) {
            assert!(
                start.elapsed() < deadline,
                "{}: timed out waiting for {what}; seen {:?}",
                self.id,
                self.seen()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        start.elapsed()
    }

    /// Frames heard from `other` so far.
    pub fn heard_from(&self, other: &MediaPeer) -> usize {
        self.seen().heard.get(&other.id).copied().unwrap_or(0)
    }
}

impl Drop for MediaPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The media side: one str0m connection and its UDP socket, while the room uses the SFU.
struct Connection {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
}

async fn drive(
    mut client: TestClient,
    seen: Arc<Mutex<Seen>>,
    mut inbox: mpsc::UnboundedReceiver<ClientMessage>,
    byte: u8,
) {
    let me = client.peer_id().clone();
    let mut connection: Option<Connection> = None;
    let mut buf = vec![0u8; 2000];
    let mut next_frame = Instant::now();
    let started = Instant::now();
    loop {
        let mut wake = Instant::now() + Duration::from_millis(20);
        if let Some(conn) = &mut connection {
            if Instant::now() >= next_frame {
                send_frame(conn, &seen, &me, byte, started);
                next_frame += Duration::from_millis(20);
            }
            wake = wake.min(poll(conn, &seen, &me).await).min(next_frame);
        }
        let wake = tokio::time::Instant::from_std(wake);
        let received = async {
            match &connection {
                Some(conn) => conn.socket.recv_from(&mut buf).await.ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            frame = client.socket.next() => {
                let Some(Ok(Message::Text(text))) = frame else { return };
                let Ok(envelope) = Envelope::<ServerMessage>::decode(&text) else { continue };
                let reply = heard(envelope.message, &mut connection, &seen).await;
                if let Some(reply) = reply {
                    let text = Envelope::with_id(reply, None).encode();
                    if client.socket.send(Message::text(text)).await.is_err() {
                        return;
                    }
                }
            }
            command = inbox.recv() => {
                let Some(command) = command else { return };
                client.send(command).await;
            }
            datagram = received => {
                if let (Some((len, source)), Some(conn)) = (datagram, &mut connection) {
                    if let Ok(contents) = buf[..len].try_into() {
                        let input = Input::Receive(Instant::now(), Receive {
                            proto: Protocol::Udp, source, destination: conn.local, contents,
                        });
                        let _ = conn.rtc.handle_input(input);
                    }
                }
            }
        }
    }
}

/// Handles one server message; returns what to send back.
async fn heard(
    message: ServerMessage,
    connection: &mut Option<Connection>,
    seen: &Mutex<Seen>,
) -> Option<ClientMessage> {
    let seen_now = |f: &dyn Fn(&mut Seen)| f(&mut seen.lock().unwrap_or_else(|p| p.into_inner()));
    match message {
        ServerMessage::SfuOffer(offer) => {
            if connection.is_none() {
                *connection = Some(open().await);
            }
            let conn = connection.as_mut()?;
            let answer = answer(conn, &offer)?;
            let tracks = offer.tracks.clone();
            let server = candidate_address(&offer.sdp);
            seen_now(&|s| {
                s.offers += 1;
                s.tracks = tracks.clone();
                s.server = server;
            });
            Some(ClientMessage::SfuAnswer(SfuAnswer { sdp: answer }))
        }
        // To the mesh, or to the SFU of another node (the room's media node moved): the old
        // connection is done with.
        ServerMessage::MediaChanged(changed) => {
            *connection = None;
            seen_now(&|s| s.media.push(changed.media));
            None
        }
        ServerMessage::Error(error) => {
            seen_now(&|s| s.errors.push(error.code));
            None
        }
        ServerMessage::PeerLeft(left) => {
            seen_now(&|s| s.left.push(left.peer_id.clone()));
            None
        }
        _ => None,
    }
}

async fn open() -> Connection {
    let socket = UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind a UDP port");
    let local = socket.local_addr().expect("its address");
    let mut rtc = Rtc::builder()
        .clear_codecs()
        .enable_opus(true, false)
        .enable_vp8(true)
        .build(Instant::now());
    if let Ok(candidate) = Candidate::host(local, "udp") {
        rtc.add_local_candidate(candidate);
    }
    Connection { rtc, socket, local }
}

fn answer(conn: &mut Connection, offer: &SfuOffer) -> Option<String> {
    let offer = SdpOffer::from_sdp_string(&offer.sdp).ok()?;
    let answer = conn.rtc.sdp_api().accept_offer(offer).ok()?;
    Some(answer.to_sdp_string())
}

/// Sends what the connection has to send; records media; returns when it next wants time.
async fn poll(conn: &mut Connection, seen: &Mutex<Seen>, me: &PeerId) -> Instant {
    let _ = conn.rtc.handle_input(Input::Timeout(Instant::now()));
    loop {
        match conn.rtc.poll_output() {
            Ok(Output::Timeout(at)) => return at,
            Ok(Output::Transmit(t)) => {
                let _ = conn.socket.send_to(&t.contents, t.destination).await;
            }
            Ok(Output::Event(Event::MediaData(data))) => {
                let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                match owner(&seen, data.mid).filter(|p| p != me) {
                    Some(sender) => {
                        *seen.heard.entry(sender.clone()).or_default() += 1;
                        let bytes = seen.bytes.entry(sender).or_default();
                        if let Some(first) = data.data.first().filter(|b| !bytes.contains(b)) {
                            bytes.push(*first);
                        }
                    }
                    None => seen.misrouted += 1,
                }
            }
            Ok(Output::Event(_)) => {}
            Err(_) => return Instant::now() + Duration::from_millis(20),
        }
    }
}

fn owner(seen: &Seen, mid: Mid) -> Option<PeerId> {
    let track = seen.tracks.iter().find(|t| t.mid == mid.to_string())?;
    Some(track.peer_id.clone())
}

fn send_frame(conn: &mut Connection, seen: &Mutex<Seen>, me: &PeerId, byte: u8, started: Instant) {
    if !conn.rtc.is_connected() {
        return;
    }
    let mid = {
        let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        let own = seen
            .tracks
            .iter()
            .find(|t| t.peer_id == *me && t.kind == SfuTrackKind::Audio);
        match own {
            Some(track) => Mid::from(track.mid.as_str()),
            None => return,
        }
    };
    let Some(writer) = conn.rtc.writer(mid) else {
        return;
    };
    let Some(pt) = writer
        .payload_params()
        .find(|p| p.spec().codec == Codec::Opus)
        .map(|p| p.pt())
    else {
        return;
    };
    let now = Instant::now();
    let time = MediaTime::from_millis(now.duration_since(started).as_millis() as u64);
    let _ = writer.write(pt, now, time, vec![byte; 60]);
}

/// The address of the first `a=candidate` line of `sdp`
/// (`a=candidate:<foundation> 1 udp <priority> <ip> <port> typ host`).
fn candidate_address(sdp: &str) -> Option<SocketAddr> {
    let line = sdp.lines().find(|l| l.starts_with("a=candidate:"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    format!("{}:{}", fields.get(4)?, fields.get(5)?)
        .parse()
        .ok()
}
