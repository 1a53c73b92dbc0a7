//! One simulated SFU participant: a WebSocket for signaling and a str0m connection over its own
//! UDP socket, as a browser would have. It answers every `sfu_offer`, sends a 60-byte Opus-sized
//! audio frame every 20 ms unless muted and, if it publishes, paced synthetic VP8 frames (a
//! keyframe when asked). Each video frame carries its sender, its number and its send time, so a receiver
//! can time it, spot gaps and tell whose it is.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use noom_shared::{ClientMessage, Envelope, ServerMessage, SfuAnswer, SfuTrack, SfuTrackKind};
use str0m::change::SdpOffer;
use str0m::format::Codec;
use str0m::media::{MediaData, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use crate::client::{self, Conn};
use crate::report::Counters;
use crate::stats::{SharedLatencies, now_us};

/// What every participant of a run adds to.
#[derive(Default)]
pub struct Shared {
    /// Video frames sent and received (the progress line shows them).
    pub frames: Arc<Counters>,
    /// Set while the measured window is open: only then are frames timed and counted.
    pub measuring: AtomicBool,
    pub video_frames_sent: AtomicU64,
    pub video_frames_received: AtomicU64,
    /// Media payload received, audio and video, in bytes.
    pub bytes_received: AtomicU64,
    /// Video frames missing from each sender's numbering, as each receiver saw it.
    pub video_frames_lost: AtomicU64,
    pub keyframe_requests: AtomicU64,
    pub errors: AtomicU64,
    /// Participants that have a frame from every publisher of their room (or, with last-N,
    /// from as many as `sfu_cameras` says it gets).
    pub ready: AtomicU64,
    /// The fewest and the most cameras one participant got frames from in the window.
    pub cameras_min: AtomicU64,
    pub cameras_max: AtomicU64,
    /// Send to receive, per video frame.
    pub latencies: SharedLatencies,
    /// Join sent to a first frame from every publisher, per participant.
    pub first_frames: SharedLatencies,
}

/// How one participant behaves.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Its number in the run, carried in its frames.
    pub index: u32,
    pub publishes: bool,
    /// Its microphone is on (a muted one sends nothing).
    pub speaks: bool,
    /// The other members of its room that publish.
    pub publishers_heard: usize,
    pub fps: u32,
    pub frame_bytes: usize,
    /// The address its UDP socket binds (and its ICE candidate names).
    pub ip: IpAddr,
}

/// A VP8 frame's first byte: its lowest bit is clear on a keyframe only (RFC 7741 4.3).
const VP8_KEYFRAME: u8 = 0x00;
const VP8_DELTA: u8 = 0x01;
/// Tag, sender, number, send time.
const HEADER_BYTES: usize = 1 + 4 + 4 + 8;
const AUDIO_EVERY: Duration = Duration::from_millis(20);

/// Joins `room` and runs until `stop`; the frames it missed are added to `shared` at the end.
pub async fn run(
    mut conn: Conn,
    room: String,
    plan: Plan,
    shared: Arc<Shared>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let socket = UdpSocket::bind(SocketAddr::new(plan.ip, 0)).await?;
    let local = socket.local_addr()?;
    let joined_us = now_us();
    client::send(&mut conn.sink, client::join(&room)?).await?;
    let mut peer = Peer {
        plan,
        rtc: None,
        tracks: Vec::new(),
        local,
        shared: shared.clone(),
        heard_from: HashSet::new(),
        joined_us,
        numbering: HashMap::new(),
        keyframe_due: true,
        sent: 0,
        started: Instant::now(),
        cameras_expected: plan.publishers_heard,
        ready: false,
    };
    // Nobody to hear from: ready at once.
    peer.check_ready();
    let frame_every = Duration::from_secs(1) / plan.fps.max(1);
    // Cameras and microphones are not in step with one another: each participant's frames
    // start at its own point in the period (spread by the golden ratio), or every publisher
    // would send at the same instant and the bursts would measure the queue, not the SFU.
    let phase = (f64::from(plan.index) * 0.618_034).fract();
    let mut next_audio = Instant::now() + AUDIO_EVERY.mul_f64(phase);
    let mut next_video = Instant::now() + frame_every.mul_f64(phase);
    let mut rtc_wake = Instant::now();
    let mut buf = vec![0u8; 2000];
    loop {
        let wake = rtc_wake.min(next_audio).min(if plan.publishes {
            next_video
        } else {
            next_audio
        });
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep_until(wake.into()) => {}
            message = client::recv(&mut conn.stream) => {
                let Some(envelope) = message? else {
                    anyhow::bail!("the server closed the connection");
                };
                if let Some(reply) = peer.heard(envelope) {
                    client::send(&mut conn.sink, reply).await?;
                }
            }
            received = socket.recv_from(&mut buf) => {
                let (len, source) = received?;
                peer.receive(source, &buf[..len]);
            }
        }
        let now = Instant::now();
        if plan.speaks && now >= next_audio {
            peer.send_audio(now);
            next_audio += AUDIO_EVERY;
        }
        if plan.publishes && now >= next_video {
            peer.send_video(now);
            next_video += frame_every;
        }
        rtc_wake = peer.drive(&socket, now);
    }
    shared
        .video_frames_lost
        .fetch_add(peer.frames_missing(), Relaxed);
    let cameras = peer.numbering.len() as u64;
    shared.cameras_min.fetch_min(cameras, Relaxed);
    shared.cameras_max.fetch_max(cameras, Relaxed);
    Ok(())
}

struct Peer {
    plan: Plan,
    rtc: Option<Rtc>,
    /// What each m-line carries, from the latest offer.
    tracks: Vec<SfuTrack>,
    local: SocketAddr,
    shared: Arc<Shared>,
    heard_from: HashSet<u32>,
    /// When it sent its join ([`now_us`]).
    joined_us: u64,
    /// Per sender, over the measured window: lowest and highest frame number, frames seen.
    numbering: HashMap<u32, (u32, u32, u64)>,
    keyframe_due: bool,
    sent: u32,
    started: Instant,
    /// The cameras it should get: every publisher's, or fewer with last-N.
    cameras_expected: usize,
    ready: bool,
}

impl Peer {
    /// A server message; returns the answer to send, if any.
    fn heard(&mut self, envelope: Envelope<ServerMessage>) -> Option<ClientMessage> {
        match envelope.message {
            ServerMessage::SfuOffer(offer) => {
                let rtc = self.rtc.get_or_insert_with(|| new_connection(self.local));
                let sdp = SdpOffer::from_sdp_string(&offer.sdp).ok()?;
                let answer = rtc.sdp_api().accept_offer(sdp).ok()?;
                self.tracks = offer.tracks;
                Some(ClientMessage::SfuAnswer(SfuAnswer {
                    sdp: answer.to_sdp_string(),
                }))
            }
            // A new connection for the offer that follows (the server renews or moves it).
            ServerMessage::MediaChanged(_) => {
                self.rtc = None;
                None
            }
            // Last-N: it gets this many cameras, not every publisher's.
            ServerMessage::SfuCameras(cameras) => {
                if let Some(only) = cameras.only {
                    self.cameras_expected = self.plan.publishers_heard.min(only.len());
                    self.check_ready();
                }
                None
            }
            ServerMessage::Error(_) => {
                self.shared.errors.fetch_add(1, Relaxed);
                None
            }
            _ => None,
        }
    }

    fn receive(&mut self, source: SocketAddr, datagram: &[u8]) {
        let (Some(rtc), Ok(contents)) = (&mut self.rtc, datagram.try_into()) else {
            return;
        };
        let input = Input::Receive(
            Instant::now(),
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.local,
                contents,
            },
        );
        let _ = rtc.handle_input(input);
    }

    fn send_audio(&mut self, now: Instant) {
        self.write_own(SfuTrackKind::Audio, Codec::Opus, now, vec![0xAA; 60]);
    }

    fn send_video(&mut self, now: Instant) {
        let keyframe = self.keyframe_due;
        // A keyframe is a few times a delta frame's size, as an encoder's would be.
        let bytes = self.plan.frame_bytes * if keyframe { 3 } else { 1 };
        let mut frame = Vec::with_capacity(bytes.max(HEADER_BYTES));
        frame.push(if keyframe { VP8_KEYFRAME } else { VP8_DELTA });
        frame.extend_from_slice(&self.plan.index.to_be_bytes());
        frame.extend_from_slice(&self.sent.to_be_bytes());
        frame.extend_from_slice(&now_us().to_be_bytes());
        frame.resize(bytes.max(HEADER_BYTES), 0x55);
        if self.write_own(SfuTrackKind::Camera, Codec::Vp8, now, frame) {
            self.keyframe_due = false;
            self.sent = self.sent.wrapping_add(1);
            self.shared.frames.sent.fetch_add(1, Relaxed);
            if self.shared.measuring.load(Relaxed) {
                self.shared.video_frames_sent.fetch_add(1, Relaxed);
            }
        }
    }

    /// Writes `frame` on its own `kind` line once connected; false before.
    fn write_own(
        &mut self,
        kind: SfuTrackKind,
        codec: Codec,
        now: Instant,
        frame: Vec<u8>,
    ) -> bool {
        let Some(mid) = self.own_line(kind) else {
            return false;
        };
        let Some(rtc) = self.rtc.as_mut().filter(|rtc| rtc.is_connected()) else {
            return false;
        };
        let Some(writer) = rtc.writer(mid) else {
            return false;
        };
        let Some(pt) = writer
            .payload_params()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt())
        else {
            return false;
        };
        let time = MediaTime::from_micros(now.duration_since(self.started).as_micros() as u64);
        writer.write(pt, now, time, frame).is_ok()
    }

    /// Its own m-line of `kind` (the server lists it under its own peer id, first).
    fn own_line(&self, kind: SfuTrackKind) -> Option<Mid> {
        let own = self.tracks.first()?.peer_id.clone();
        self.tracks
            .iter()
            .find(|t| t.peer_id == own && t.kind == kind)
            .map(|t| Mid::from(t.mid.as_str()))
    }

    /// Sends what the connection has to send and takes in what it received; returns when it
    /// next wants time.
    fn drive(&mut self, socket: &UdpSocket, now: Instant) -> Instant {
        let idle = now + Duration::from_millis(20);
        let Some(rtc) = &mut self.rtc else {
            return idle;
        };
        if rtc.handle_input(Input::Timeout(now)).is_err() {
            return idle;
        }
        let mut media = Vec::new();
        let wake = loop {
            match rtc.poll_output() {
                Ok(Output::Timeout(at)) => break at,
                Ok(Output::Transmit(transmit)) => {
                    // A full socket buffer loses the packet, as the network may.
                    let _ = socket.try_send_to(&transmit.contents, transmit.destination);
                }
                Ok(Output::Event(Event::MediaData(data))) => media.push(data),
                Ok(Output::Event(Event::KeyframeRequest(_))) => {
                    self.keyframe_due = true;
                    self.shared.keyframe_requests.fetch_add(1, Relaxed);
                }
                Ok(Output::Event(_)) => {}
                Err(_) => break idle,
            }
        };
        for data in media {
            self.took(&data);
        }
        wake
    }

    fn took(&mut self, data: &MediaData) {
        let shared = Arc::clone(&self.shared);
        shared
            .bytes_received
            .fetch_add(data.data.len() as u64, Relaxed);
        let mid = data.mid.to_string();
        let Some(track) = self.tracks.iter().find(|t| t.mid == mid) else {
            return;
        };
        if track.kind != SfuTrackKind::Camera || data.data.len() < HEADER_BYTES {
            return;
        }
        let field = |at: usize, n: usize| &data.data[at..at + n];
        let sender = u32::from_be_bytes(field(1, 4).try_into().unwrap_or_default());
        let number = u32::from_be_bytes(field(5, 4).try_into().unwrap_or_default());
        let sent_us = u64::from_be_bytes(field(9, 8).try_into().unwrap_or_default());
        shared.frames.received.fetch_add(1, Relaxed);
        if self.heard_from.insert(sender) {
            self.check_ready();
        }
        if !shared.measuring.load(Relaxed) {
            return;
        }
        shared.video_frames_received.fetch_add(1, Relaxed);
        shared.latencies.since(sent_us);
        let seen = self.numbering.entry(sender).or_insert((number, number, 0));
        seen.0 = seen.0.min(number);
        seen.1 = seen.1.max(number);
        seen.2 += 1;
    }

    /// Counts it ready, once, when it has a frame from every camera it should get.
    fn check_ready(&mut self) {
        if !self.ready && self.heard_from.len() >= self.cameras_expected {
            self.ready = true;
            self.shared.first_frames.since(self.joined_us);
            self.shared.ready.fetch_add(1, Relaxed);
        }
    }

    /// Frames missing from each sender's numbers over the measured window.
    fn frames_missing(&self) -> u64 {
        self.numbering
            .values()
            .map(|(low, high, seen)| u64::from(high - low + 1).saturating_sub(*seen))
            .sum()
    }
}

fn new_connection(local: SocketAddr) -> Rtc {
    let mut rtc = Rtc::builder()
        .clear_codecs()
        .enable_opus(true, false)
        .enable_vp8(true)
        .build(Instant::now());
    if let Ok(candidate) = Candidate::host(local, "udp") {
        rtc.add_local_candidate(candidate);
    }
    rtc
}
