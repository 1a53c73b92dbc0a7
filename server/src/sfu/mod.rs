//! The Selective Forwarding Unit: in a room beyond `--mesh-max` members, each participant has
//! one WebRTC connection, to the server, which forwards every publisher's audio, camera and
//! screen to the room's other members.
//!
//! ```text
//! hub (who is in an SFU room, ───────────────▶ media task ◀──UDP (one port)──▶ browsers
//!      sfu_answer, sfu_restart, sfu_pause)     │ Forwarder: one str0m Rtc per member
//! switchboard ◀──── sfu_offer, errors ─────────┘
//! ```
//! The media task owns every `Rtc` and is the only one to touch them; the signaling path only
//! sends it commands on an unbounded channel (each is one of a connection's rate-limited
//! messages, or a join or leave), so it never waits on media. See docs/protocol.md for the
//! offer/answer exchange.

mod allocation;
mod budget;
mod forwarder;
mod last_n;
mod line;
mod member;
mod sdp;
mod simulcast;
mod slots;
#[cfg(test)]
mod tests;
mod viewing;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use noom_shared::{PeerId, RoomName, ServerMessage};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::{Instant as TokioInstant, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::hub::{MediaChange, SfuRequest};
use forwarder::{Forwarder, Limits, Outbox, refusal};

/// What the signaling side asks of the media task.
#[derive(Debug)]
pub(crate) enum Command {
    /// The member now uses the SFU, in this room.
    Enter(PeerId, RoomName),
    /// The member left its SFU room, or its room went back to the mesh.
    Exit(PeerId),
    Answer(PeerId, String),
    Restart(PeerId),
    /// `sfu_pause`: stop (true) or resume the video sent to the member.
    Pause(PeerId, bool),
    /// `sfu_view`: how large the member shows the others' videos.
    View(PeerId, noom_shared::SfuView),
}

impl From<MediaChange> for Command {
    fn from(change: MediaChange) -> Self {
        match change {
            MediaChange::Enter(peer, room) => Self::Enter(peer, room),
            MediaChange::Exit(peer) => Self::Exit(peer),
            MediaChange::Request(peer, SfuRequest::Answer { sdp }) => Self::Answer(peer, sdp),
            MediaChange::Request(peer, SfuRequest::Restart) => Self::Restart(peer),
            MediaChange::Request(peer, SfuRequest::Pause { video }) => Self::Pause(peer, video),
            MediaChange::Request(peer, SfuRequest::View(view)) => Self::View(peer, view),
        }
    }
}

/// The part of a member's `sfu_answer` (in its JSON frame) that does not grow with the room:
/// its own three m-lines. Chromium's is 3.4 KB.
const ANSWER_BASE_BYTES: usize = 6 * 1024;
/// What each other member of the room adds to it at most: its audio m-line, and a camera and a
/// screen slot (when last-N is the room and everyone presents). Chromium's three add 2.4 KB.
const ANSWER_BYTES_PER_MEMBER: usize = 3 * 1024;

/// The `--max-frame-bytes` that an `sfu_answer` in a room of `room_size` fits in.
pub(crate) fn frame_bytes_for_answers(room_size: u32) -> usize {
    let others = usize::try_from(room_size.saturating_sub(1)).unwrap_or(usize::MAX);
    ANSWER_BASE_BYTES.saturating_add(others.saturating_mul(ANSWER_BYTES_PER_MEMBER))
}

/// What the media task counts for `/metrics`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) frames_forwarded: u64,
    pub(crate) frames_over_budget: u64,
    pub(crate) datagrams_unclaimed: u64,
    /// Connections replaced because people who left had grown them (see `Forwarder`).
    pub(crate) connections_renewed: u64,
    /// Times a member's downlink cap was cut for losing video (see `allocation.rs`).
    pub(crate) downlink_cuts: u64,
}

/// How the media task reaches participants: by seat, through the switchboard.
pub(crate) type Tell = Arc<dyn Fn(&PeerId, ServerMessage) + Send + Sync>;

/// The signaling side's handle on the media task.
#[derive(Debug, Clone)]
pub(crate) struct Sfu {
    commands: mpsc::UnboundedSender<Command>,
}

impl Sfu {
    /// Binds the media port at `bind` and starts the media task. `--sfu-public-ip` is
    /// advertised in the ICE candidate instead of the bound address (needed when binding
    /// 0.0.0.0 or behind NAT).
    pub(crate) async fn start(
        bind: SocketAddr,
        config: &crate::config::Config,
        tell: Tell,
        metrics: Arc<crate::metrics::Metrics>,
        stop: CancellationToken,
    ) -> io::Result<(Self, SocketAddr)> {
        let socket = media_socket(bind)?;
        let bound = socket.local_addr()?;
        let ip = config.sfu_public_ip.unwrap_or(bound.ip());
        if ip.is_unspecified() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "--sfu-udp binds every address: give --sfu-public-ip, the address browsers reach",
            ));
        }
        let candidate = SocketAddr::new(ip, bound.port());
        info!(%bound, %candidate, "SFU media port");
        let (commands, inbox) = mpsc::unbounded_channel();
        let forwarder = Forwarder::new(candidate, Limits::from(config));
        let talk = Talk { tell, metrics };
        tokio::spawn(run(socket, forwarder, inbox, talk, stop));
        Ok((Self { commands }, bound))
    }

    pub(crate) fn send(&self, command: Command) {
        // Fails only once the media task has stopped, with the server.
        let _ = self.commands.send(command);
    }
}

/// The largest datagram read: WebRTC keeps packets under the path MTU, about 1,200 bytes.
const MAX_DATAGRAM: usize = 2_000;

/// Where the media task's words go: messages to participants, counts to `/metrics`.
struct Talk {
    tell: Tell,
    metrics: Arc<crate::metrics::Metrics>,
}

/// The media task: datagrams in, commands in, the forwarder's timers; packets and messages out.
async fn run(
    socket: UdpSocket,
    mut forwarder: Forwarder,
    mut inbox: mpsc::UnboundedReceiver<Command>,
    talk: Talk,
    stop: CancellationToken,
) {
    let tell = &talk.tell;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut out = Outbox::default();
    let mut next = Instant::now();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = sleep_until(TokioInstant::from_std(next)) => {}
            command = inbox.recv() => match command {
                Some(command) => obey(&mut forwarder, command, tell),
                None => return,
            },
            received = socket.recv_from(&mut buf) => match received {
                Ok((len, source)) => {
                    take(&mut forwarder, source, &buf[..len]);
                    // Whatever else has arrived is taken before the forwarder runs once for
                    // all of it: running it per datagram falls behind a few video streams.
                    for _ in 0..DATAGRAMS_PER_ROUND {
                        let Ok((len, source)) = socket.try_recv_from(&mut buf) else { break };
                        take(&mut forwarder, source, &buf[..len]);
                    }
                }
                // ICMP errors surface here on some systems; the socket stays usable.
                Err(err) => debug!(cause = %err, "SFU receive failed"),
            },
        }
        next = forwarder.poll(Instant::now(), &mut out);
        for transmit in out.transmits.drain(..) {
            // UDP drops are normal: a full socket buffer loses the packet, as the network may.
            let _ = socket.try_send_to(&transmit.contents, transmit.destination);
        }
        for (peer, message) in out.messages.drain(..) {
            tell(&peer, message);
        }
        let tally = std::mem::take(&mut forwarder.tally);
        if tally != Tally::default() {
            talk.metrics.sfu(tally);
        }
    }
}

/// The media port's kernel buffers: bursts of video from many publishers queue here while the
/// forwarder works, instead of being dropped (Linux caps them at `net.core.rmem_max` and
/// `wmem_max`).
const SOCKET_BUFFER_BYTES: usize = 4 * 1024 * 1024;

fn media_socket(bind: SocketAddr) -> io::Result<UdpSocket> {
    let domain = socket2::Domain::for_address(bind);
    let socket = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
    // Best effort: a smaller buffer still works, it just drops sooner under load.
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER_BYTES);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER_BYTES);
    socket.set_nonblocking(true)?;
    socket.bind(&bind.into())?;
    UdpSocket::from_std(socket.into())
}

/// Datagrams taken at most between two runs of the forwarder.
const DATAGRAMS_PER_ROUND: usize = 64;

fn take(forwarder: &mut Forwarder, source: SocketAddr, datagram: &[u8]) {
    if !forwarder.receive(Instant::now(), source, datagram) {
        forwarder.tally.datagrams_unclaimed += 1;
        debug!(%source, "datagram for no SFU participant");
    }
}

fn obey(forwarder: &mut Forwarder, command: Command, tell: &Tell) {
    let now = Instant::now();
    let refused = match command {
        Command::Enter(peer, room) => {
            forwarder.enter(peer, room, now);
            None
        }
        Command::Exit(peer) => {
            forwarder.exit(&peer);
            None
        }
        Command::Answer(peer, sdp) => forwarder.answer(&peer, &sdp, now).err().map(|e| (peer, e)),
        Command::Restart(peer) => forwarder
            .restart(&peer, now)
            .err()
            .map(|e| (peer, e.to_owned())),
        Command::Pause(peer, video) => forwarder
            .pause_video(&peer, video)
            .err()
            .map(|e| (peer, e.to_owned())),
        Command::View(peer, view) => forwarder
            .view(&peer, view)
            .err()
            .map(|e| (peer, e.to_owned())),
    };
    if let Some((peer, why)) = refused {
        debug!(%peer, %why, "SFU request refused");
        tell(&peer, refusal(&why));
    }
}
