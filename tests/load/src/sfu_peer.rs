//! One simulated SFU participant: a WebSocket for signaling and a str0m connection over its own
//! UDP socket, as a browser would have. It answers every `sfu_offer`, sends a 60-byte Opus-sized
//! audio frame every 20 ms unless muted and, if it publishes, paced synthetic VP8 frames in one
//! or more simulcast layers (a keyframe of a layer when asked). With a tile size it tells the
//! server, as a browser's grid would, that it shows every camera that large (`sfu_view`). Each
//! video frame carries its layer, sender, number and send time, so a receiver can time it, spot
//! gaps and tell whose it is and which layer it got.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use noom_shared::{
    ClientMessage, Envelope, ServerMessage, SfuAnswer, SfuTile, SfuTrack, SfuTrackKind, SfuView,
};
use str0m::change::SdpOffer;
use str0m::format::Codec;
use str0m::media::{MediaData, MediaTime, Mid, Rid};
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
    /// Video frames received in the window, by the index of their layer.
    pub frames_by_layer: [AtomicU64; 3],
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

/// One picture size a publisher's camera is sent in.
#[derive(Debug, Clone, Copy)]
pub struct VideoLayer {
    /// Its rid; `None`: the camera is sent in this one layer, without simulcast.
    pub rid: Option<&'static str>,
    pub width: u16,
    pub height: u16,
    pub frame_bytes: usize,
}

/// How one participant behaves.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Its number in the run, carried in its frames.
    pub index: u32,
    pub publishes: bool,
    /// Its microphone is on (a muted one sends nothing).
    pub speaks: bool,
    /// The other members of its room that publish.
    pub publishers_heard: usize,
    pub fps: u32,
    /// Its camera's layers, smallest first (at most three).
    pub layers: Vec<VideoLayer>,
    /// The size it shows every other camera at; `None`: it does not say (the largest layer).
    pub tile: Option<(u32, u32)>,
    /// The address its UDP socket binds (and its ICE candidate names).
    pub ip: IpAddr,
}

/// A VP8 frame's first byte: its lowest bit is clear on a keyframe only (RFC 7741 4.3).
const VP8_KEYFRAME: u8 = 0x00;
const VP8_DELTA: u8 = 0x01;
/// A VP8 keyframe's header (RFC 6386 9.1): the frame tag, the start code, width and height;
/// the SFU reads each layer's picture size from it.
const VP8_HEADER_BYTES: usize = 10;
/// The VP8 header, then layer, sender, number, send time.
const HEADER_BYTES: usize = VP8_HEADER_BYTES + 1 + 4 + 4 + 8;
const AUDIO_EVERY: Duration = Duration::from_millis(20);

/// Datagrams taken at most between two runs of a participant's connection.
const DATAGRAMS_PER_DRIVE: usize = 64;

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
    let (speaks, publishes, fps, index) = (plan.speaks, plan.publishes, plan.fps, plan.index);
    let mut peer = Peer {
        rtc: None,
        tracks: Vec::new(),
        local,
        shared: shared.clone(),
        heard_from: HashSet::new(),
        joined_us,
        numbering: HashMap::new(),
        keyframe_due: [true; 3],
        sent: 0,
        started: Instant::now(),
        cameras_expected: plan.publishers_heard,
        ready: false,
        plan,
    };
    // Nobody to hear from: ready at once.
    peer.check_ready();
    let frame_every = Duration::from_secs(1) / fps.max(1);
    // Cameras and microphones are not in step with one another: each participant's frames
    // start at its own point in the period (spread by the golden ratio), or every publisher
    // would send at the same instant and the bursts would measure the queue, not the SFU.
    let phase = (f64::from(index) * 0.618_034).fract();
    let mut next_audio = Instant::now() + AUDIO_EVERY.mul_f64(phase);
    let mut next_video = Instant::now() + frame_every.mul_f64(phase);
    let mut rtc_wake = Instant::now();
    let mut buf = vec![0u8; 2000];
    loop {
        // A muted participant's audio time never moves on: it must not wake it (it did, and
        // 40 muted participants spun on both cores).
        let mut wake = rtc_wake;
        if speaks {
            wake = wake.min(next_audio);
        }
        if publishes {
            wake = wake.min(next_video);
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep_until(wake.into()) => {}
            message = client::recv(&mut conn.stream) => {
                let Some(envelope) = message? else {
                    anyhow::bail!("the server closed the connection");
                };
                for reply in peer.heard(envelope) {
                    client::send(&mut conn.sink, reply).await?;
                }
            }
            received = socket.recv_from(&mut buf) => {
                let (len, source) = received?;
                peer.receive(source, &buf[..len]);
                // What else has arrived is taken before the connection runs once for all of
                // it: each run is a pass over every stream of a connection with a hundred
                // m-lines, and once per datagram that pass was most of the tool's work.
                for _ in 0..DATAGRAMS_PER_DRIVE {
                    let Ok((len, source)) = socket.try_recv_from(&mut buf) else { break };
                    peer.receive(source, &buf[..len]);
                }
            }
        }
        let now = Instant::now();
        if speaks && now >= next_audio {
            peer.send_audio(now);
            next_audio += AUDIO_EVERY;
        }
        if publishes && now >= next_video {
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
    /// What each m-line carries: from the latest offer, and `sfu_slots` since.
    tracks: Vec<SfuTrack>,
    local: SocketAddr,
    shared: Arc<Shared>,
    heard_from: HashSet<u32>,
    /// When it sent its join ([`now_us`]).
    joined_us: u64,
    /// Per sender, over the measured window: lowest and highest frame number, frames seen.
    numbering: HashMap<u32, (u32, u32, u64)>,
    /// Per layer of its camera: the next frame is a keyframe.
    keyframe_due: [bool; 3],
    sent: u32,
    started: Instant,
    /// The cameras it should get: every publisher's, or fewer with last-N.
    cameras_expected: usize,
    ready: bool,
}

impl Peer {
    /// A server message; returns what to send back: an answer, and how large it shows the
    /// cameras the answer brings.
    fn heard(&mut self, envelope: Envelope<ServerMessage>) -> Vec<ClientMessage> {
        match envelope.message {
            ServerMessage::SfuOffer(offer) => {
                let rtc = self.rtc.get_or_insert_with(|| new_connection(self.local));
                let Some(answer) = SdpOffer::from_sdp_string(&offer.sdp)
                    .ok()
                    .and_then(|sdp| rtc.sdp_api().accept_offer(sdp).ok())
                else {
                    return Vec::new();
                };
                self.tracks = offer.tracks;
                let mut replies = vec![ClientMessage::SfuAnswer(SfuAnswer {
                    sdp: answer.to_sdp_string(),
                })];
                replies.extend(self.view().map(ClientMessage::SfuView));
                replies
            }
            // A new connection for the offer that follows (the server renews or moves it).
            ServerMessage::MediaChanged(_) => {
                self.rtc = None;
                Vec::new()
            }
            // Its slots changed hands.
            ServerMessage::SfuSlots(slots) => {
                if let Some(own) = self.tracks.first().map(|t| t.peer_id.clone()) {
                    self.tracks = slots.applied_to(&own, &self.tracks);
                }
                Vec::new()
            }
            // Last-N: it gets this many cameras, not every publisher's.
            ServerMessage::SfuCameras(cameras) => {
                if let Some(only) = cameras.only {
                    self.cameras_expected = self.plan.publishers_heard.min(only.len());
                    self.check_ready();
                }
                Vec::new()
            }
            ServerMessage::Error(_) => {
                self.shared.errors.fetch_add(1, Relaxed);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Every other member's camera at the plan's tile size, if it has one: the members are
    /// those whose audio lines the offer names (cameras come on slots, told later).
    fn view(&self) -> Option<SfuView> {
        let (width, height) = self.plan.tile?;
        let own = &self.tracks.first()?.peer_id;
        let tiles = self
            .tracks
            .iter()
            .filter(|t| t.peer_id != *own && t.kind == SfuTrackKind::Audio)
            .map(|t| SfuTile {
                peer_id: t.peer_id.clone(),
                kind: SfuTrackKind::Camera,
                width,
                height,
            })
            .collect();
        Some(SfuView {
            tiles,
            pinned: None,
        })
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
        self.write_own(SfuTrackKind::Audio, Codec::Opus, now, vec![0xAA; 60], None);
    }

    /// One picture, in each of its camera's layers; every layer carries the same number.
    fn send_video(&mut self, now: Instant) {
        let mut sent = false;
        for index in 0..self.plan.layers.len() {
            let layer = self.plan.layers[index];
            let keyframe = self.keyframe_due[index];
            let frame = self.frame(index, layer, keyframe);
            if self.write_own(SfuTrackKind::Camera, Codec::Vp8, now, frame, layer.rid) {
                self.keyframe_due[index] = false;
                sent = true;
            }
        }
        if sent {
            self.sent = self.sent.wrapping_add(1);
            self.shared.frames.sent.fetch_add(1, Relaxed);
            if self.shared.measuring.load(Relaxed) {
                self.shared.video_frames_sent.fetch_add(1, Relaxed);
            }
        }
    }

    /// A frame of the camera's `index`th layer: a VP8 header (with the picture size, which
    /// a keyframe's tells the SFU), then what the receiver reads.
    fn frame(&self, index: usize, layer: VideoLayer, keyframe: bool) -> Vec<u8> {
        // A keyframe is a few times a delta frame's size, as an encoder's would be.
        let bytes = (layer.frame_bytes * if keyframe { 3 } else { 1 }).max(HEADER_BYTES);
        let mut frame = Vec::with_capacity(bytes);
        frame.push(if keyframe { VP8_KEYFRAME } else { VP8_DELTA });
        frame.extend_from_slice(&[0, 0, 0x9d, 0x01, 0x2a]);
        frame.extend_from_slice(&layer.width.to_le_bytes());
        frame.extend_from_slice(&layer.height.to_le_bytes());
        frame.push(index as u8);
        frame.extend_from_slice(&self.plan.index.to_be_bytes());
        frame.extend_from_slice(&self.sent.to_be_bytes());
        frame.extend_from_slice(&now_us().to_be_bytes());
        frame.resize(bytes, 0x55);
        frame
    }

    /// Writes `frame` on its own `kind` line (as layer `rid`) once connected; false before.
    fn write_own(
        &mut self,
        kind: SfuTrackKind,
        codec: Codec,
        now: Instant,
        frame: Vec<u8>,
        rid: Option<&str>,
    ) -> bool {
        let Some(mid) = self.own_line(kind) else {
            return false;
        };
        let Some(rtc) = self.rtc.as_mut().filter(|rtc| rtc.is_connected()) else {
            return false;
        };
        let Some(mut writer) = rtc.writer(mid) else {
            return false;
        };
        if let Some(rid) = rid {
            writer = writer.rid(Rid::from(rid));
        }
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
                Ok(Output::Event(Event::KeyframeRequest(request))) => {
                    let asked = self
                        .plan
                        .layers
                        .iter()
                        .position(|layer| layer.rid.map(Rid::from) == request.rid);
                    // A request without a rid the layers do not know: every layer.
                    match asked {
                        Some(index) => self.keyframe_due[index] = true,
                        None => self.keyframe_due = [true; 3],
                    }
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
        let field = |at: usize, n: usize| &data.data[VP8_HEADER_BYTES + at..][..n];
        let layer = usize::from(field(0, 1)[0]);
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
        if let Some(count) = shared.frames_by_layer.get(layer) {
            count.fetch_add(1, Relaxed);
        }
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
