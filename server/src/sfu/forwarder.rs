//! Every SFU participant, and what passes between them: media from a publisher to the others
//! in its room, keyframe requests back. No sockets and no clock of its own: the caller feeds
//! it datagrams and the time, and sends what it returns, so tests drive it in memory.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use noom_shared::{
    ErrorCode, Media, MediaChanged, PeerId, RoomName, ServerMessage, SfuCameras, SfuTrackKind,
    SfuView,
};
use str0m::Input;
use str0m::net::{Protocol, Receive, Transmit};

use super::Tally;
use super::last_n::{self, Speaker};
use super::member::{Heard, Member, PUBLISHED};
use super::slots::Slots;

pub(crate) struct Forwarder {
    members: HashMap<PeerId, Member>,
    /// Which member each remote address was last seen to belong to.
    by_source: HashMap<SocketAddr, PeerId>,
    /// The address in the server's ICE candidate; also what every datagram is taken to have
    /// been sent to (behind a 1:1 NAT the socket's own address is not the one peers use).
    candidate: SocketAddr,
    /// Someone came, went or answered since the last negotiation round.
    changed: bool,
    limits: Limits,
    /// When the cameras each member gets were last chosen (see `last_n.rs`).
    cameras_chosen: Option<Instant>,
    /// Counted since the media task last took it.
    pub(crate) tally: Tally,
}

/// The settings the forwarder works within.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// What each member may publish, in kbit/s (`--sfu-max-kbps`).
    pub(crate) max_kbps: u32,
    /// `--max-room-size`: a member's connection holds at most a full room's m-lines (see
    /// `negotiate`).
    pub(crate) max_room_size: u32,
    /// The most cameras a member gets (`--sfu-last-n`).
    pub(crate) last_n: u32,
}

impl From<&crate::config::Config> for Limits {
    fn from(config: &crate::config::Config) -> Self {
        Self {
            max_kbps: config.sfu_max_kbps,
            max_room_size: config.max_room_size,
            last_n: config.sfu_last_n,
        }
    }
}

/// What the forwarder wants sent: datagrams, and messages to participants.
#[derive(Default)]
pub(crate) struct Outbox {
    pub(crate) transmits: Vec<Transmit>,
    pub(crate) messages: Vec<(PeerId, ServerMessage)>,
}

impl Forwarder {
    pub(crate) fn new(candidate: SocketAddr, limits: Limits) -> Self {
        Self {
            members: HashMap::new(),
            by_source: HashMap::new(),
            candidate,
            changed: false,
            limits,
            cameras_chosen: None,
            tally: Tally::default(),
        }
    }

    /// `peer` now sends and receives its media in `room` through the SFU (again, after
    /// `sfu_restart`: a fresh connection).
    pub(crate) fn enter(&mut self, peer: PeerId, room: RoomName, now: Instant) {
        self.by_source.retain(|_, owner| *owner != peer);
        self.changed = true;
        self.members.insert(
            peer,
            Member::new(room, self.candidate, self.limits.max_kbps, now),
        );
    }

    /// `peer` left its SFU room (or the room went back to the mesh).
    pub(crate) fn exit(&mut self, peer: &PeerId) {
        self.members.remove(peer);
        self.changed = true;
        self.by_source.retain(|_, owner| owner != peer);
    }

    /// `sfu_restart`: a new connection for `peer`, offered afresh.
    pub(crate) fn restart(&mut self, peer: &PeerId, now: Instant) -> Result<(), &'static str> {
        let room = self
            .members
            .get(peer)
            .map(|m| m.room.clone())
            .ok_or(NOT_SFU)?;
        self.enter(peer.clone(), room, now);
        Ok(())
    }

    /// `sfu_pause`: `peer` gets no video from the others while `paused`.
    pub(crate) fn pause_video(&mut self, peer: &PeerId, paused: bool) -> Result<(), &'static str> {
        self.members
            .get_mut(peer)
            .ok_or(NOT_SFU)?
            .pause_video(paused);
        Ok(())
    }

    /// `sfu_view`: how large `peer` shows the others' videos, and whom it pinned. A new pin
    /// has last-N choose its cameras again at once.
    pub(crate) fn view(&mut self, peer: &PeerId, view: SfuView) -> Result<(), &'static str> {
        if self.members.get_mut(peer).ok_or(NOT_SFU)?.view(view) {
            self.cameras_chosen = None;
        }
        Ok(())
    }

    /// `peer`'s `sfu_answer`. An answer that does not fit leaves its connection unusable, so
    /// it is offered a fresh one.
    pub(crate) fn answer(&mut self, peer: &PeerId, sdp: &str, now: Instant) -> Result<(), String> {
        let member = self.members.get_mut(peer).ok_or(NOT_SFU)?;
        // Changes that waited for this answer can be offered now.
        self.changed = true;
        match member.answer(sdp) {
            Ok(()) => Ok(()),
            Err(problem) => {
                if problem == super::member::AnswerProblem::Unfit {
                    self.restart(peer, now)?;
                }
                Err(problem.describe().to_owned())
            }
        }
    }

    /// A datagram from `source`; false if no participant's connection takes it.
    pub(crate) fn receive(&mut self, now: Instant, source: SocketAddr, contents: &[u8]) -> bool {
        let Ok(contents) = contents.try_into() else {
            return false;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.candidate,
                contents,
            },
        );
        let known = self.by_source.get(&source).filter(|peer| {
            self.members
                .get(*peer)
                .is_some_and(|member| member.accepts(&input))
        });
        let owner = match known {
            Some(peer) => peer.clone(),
            None => {
                let Some((peer, _)) = self.members.iter().find(|(_, m)| m.accepts(&input)) else {
                    return false;
                };
                let peer = peer.clone();
                self.by_source.insert(source, peer.clone());
                peer
            }
        };
        if let Some(member) = self.members.get_mut(&owner) {
            member.handle(input);
        }
        true
    }

    /// Runs every connection up to `now`: negotiates what changed, forwards media and keyframe
    /// requests between members, and collects what to send. Returns when to run it next.
    pub(crate) fn poll(&mut self, now: Instant, out: &mut Outbox) -> Instant {
        let negotiated = self.negotiate(now, out);
        let due = self
            .cameras_chosen
            .is_none_or(|at| now.saturating_duration_since(at) >= last_n::CHOOSE_EVERY);
        if negotiated || due {
            self.choose_cameras(now, out);
            self.fit_downlinks(now);
            self.cameras_chosen = Some(now);
        }
        let mut next = now + std::time::Duration::from_secs(1);
        let mut heard = Vec::new();
        let ids: Vec<PeerId> = self.members.keys().cloned().collect();
        // Forwarding writes into other members, which then have packets to send: a second
        // round sends them at once instead of at the next wakeup.
        for _round in 0..2 {
            for id in &ids {
                let Some(member) = self.members.get_mut(id) else {
                    continue;
                };
                // Most members have nothing to do on most rounds: polling each costs a
                // timeout pass through its whole connection.
                if !member.wants_poll(now) {
                    next = next.min(member.next_poll());
                    continue;
                }
                next = next.min(member.poll(now, &mut out.transmits, &mut heard));
                for said in heard.drain(..) {
                    self.pass_on(id, said, now);
                }
            }
        }
        if self.cameras_chosen.is_none() {
            next = now;
        }
        for (id, member) in &mut self.members {
            if let Some(slots) = member.slots_news() {
                out.messages
                    .push((id.clone(), ServerMessage::SfuSlots(slots)));
            }
        }
        next
    }

    /// Delivers what `from`'s connection said to the others in its room.
    fn pass_on(&mut self, from: &PeerId, said: Heard, now: Instant) {
        match said {
            Heard::Media(kind, data) => {
                let Some((room, live)) = self
                    .members
                    .get(from)
                    .map(|m| (m.room.clone(), m.live_layers(kind, now)))
                else {
                    return;
                };
                // The layers some viewer waits for a keyframe of (at most three).
                let mut keyframes_wanted = Vec::new();
                for (id, member) in &mut self.members {
                    if id != from && member.room == room {
                        let delivery = member.forward(from, kind, &data, &live);
                        self.tally.frames_forwarded += u64::from(delivery.sent);
                        if let Some(rid) = delivery.keyframe_wanted {
                            if !keyframes_wanted.contains(&rid) {
                                keyframes_wanted.push(rid);
                            }
                        }
                    }
                }
                if let Some(publisher) = self.members.get_mut(from) {
                    for rid in keyframes_wanted {
                        publisher.request_keyframe(kind, rid, now);
                    }
                }
            }
            Heard::OverBudget => self.tally.frames_over_budget += 1,
            // Whose videos each member gets is chosen again at the next poll, not in 500 ms.
            Heard::VideoStarted => self.cameras_chosen = None,
            Heard::KeyframeWanted(publisher, kind, rid) => {
                if let Some(member) = self.members.get_mut(&publisher) {
                    member.request_keyframe(kind, rid, now);
                }
            }
        }
    }

    /// Offers each member whose room changed the m-lines it now needs.
    ///
    /// A member's connection keeps the m-line of every track it was ever sent, stopped ones
    /// too, so people coming and going grow its offers and answers. One that would hold more
    /// than a full room's m-lines gets a fresh connection instead (`media_changed` tells it to
    /// open one): answers then stay within what `--max-frame-bytes` is checked to hold at
    /// start (`frame_bytes_for_answers`).
    fn negotiate(&mut self, now: Instant, out: &mut Outbox) -> bool {
        if !std::mem::take(&mut self.changed) {
            return false;
        }
        let max_m_lines = PUBLISHED.len() * self.limits.max_room_size as usize;
        // Each room's members, and whether each presents a screen.
        let mut rooms: HashMap<RoomName, Vec<(PeerId, bool)>> = HashMap::new();
        for (id, member) in &self.members {
            rooms
                .entry(member.room.clone())
                .or_default()
                .push((id.clone(), member.presents(now)));
        }
        for (id, member) in &mut self.members {
            let others: Vec<PeerId> = (rooms[&member.room].iter())
                .filter(|(other, _)| other != id)
                .map(|(other, _)| other.clone())
                .collect();
            let presenting = (rooms[&member.room].iter())
                .filter(|(other, presents)| other != id && *presents)
                .count();
            let slots = Slots {
                cameras: others.len().min(self.limits.last_n as usize),
                screens: presenting.max(member.slots(SfuTrackKind::Screen)),
            };
            if member
                .m_lines_after(&others, slots)
                .is_some_and(|lines| lines > max_m_lines)
            {
                *member = Member::new(
                    member.room.clone(),
                    self.candidate,
                    self.limits.max_kbps,
                    now,
                );
                self.by_source.retain(|_, owner| owner != id);
                self.tally.connections_renewed += 1;
                let renew = MediaChanged { media: Media::Sfu };
                out.messages
                    .push((id.clone(), ServerMessage::MediaChanged(renew)));
            }
            if let Some(offer) = member.negotiate(id, &others, slots) {
                out.messages
                    .push((id.clone(), ServerMessage::SfuOffer(offer)));
            }
        }
        true
    }
}

impl Forwarder {
    /// Chooses again whose cameras each member gets, and tells those whose choice changed.
    fn choose_cameras(&mut self, now: Instant, out: &mut Outbox) {
        let mut rooms: HashMap<RoomName, Vec<Speaker>> = HashMap::new();
        for (id, member) in &self.members {
            rooms.entry(member.room.clone()).or_default().push(Speaker {
                peer: id.clone(),
                last_spoke: member.last_spoke,
                camera: member.sends_camera(now),
                presenting: member.presents(now),
            });
        }
        let n = self.limits.last_n as usize;
        for (id, member) in &mut self.members {
            let room = &rooms[&member.room];
            let cameras = last_n::cameras_for(id, member.pinned(), room, n);
            let wanted = match &cameras {
                Some(chosen) => chosen.iter().cloned().collect(),
                None => slots_for_everyone(id, room),
            };
            member.fill_slots(SfuTrackKind::Camera, &wanted);
            let presenters = presenters_for(id, room);
            member.fill_slots(SfuTrackKind::Screen, &presenters);
            // A new presenter with no screen slot free: one more is offered.
            if presenters.len() > member.slots(SfuTrackKind::Screen) {
                self.changed = true;
            }
            let only = cameras.as_ref().map(|set| set.iter().cloned().collect());
            if member.choose_cameras(cameras) {
                let told = ServerMessage::SfuCameras(SfuCameras { only });
                out.messages.push((id.clone(), told));
            }
        }
    }
}

/// Every other member of `room`, in the order `viewer`'s camera slots go to them when every
/// camera that sends fits: those whose camera sends first (a room larger than its slots has
/// its members without a camera left over), then the others, so that a camera turned on
/// already has its slot.
fn slots_for_everyone(viewer: &PeerId, room: &[Speaker]) -> Vec<PeerId> {
    let mut others: Vec<&Speaker> = room.iter().filter(|s| s.peer != *viewer).collect();
    others.sort_by(|a, b| b.camera.cmp(&a.camera).then_with(|| a.peer.cmp(&b.peer)));
    others.into_iter().map(|s| s.peer.clone()).collect()
}

/// The others in `room` who present a screen, by peer id: `viewer`'s screen slots go to them.
fn presenters_for(viewer: &PeerId, room: &[Speaker]) -> Vec<PeerId> {
    let mut presenters: Vec<PeerId> = (room.iter())
        .filter(|s| s.peer != *viewer && s.presenting)
        .map(|s| s.peer.clone())
        .collect();
    presenters.sort();
    presenters
}

impl Forwarder {
    /// Caps the layers each member is sent to what its downlink carries (`allocation.rs`).
    fn fit_downlinks(&mut self, now: Instant) {
        let mut live = HashMap::new();
        for (id, member) in &self.members {
            for kind in [SfuTrackKind::Camera, SfuTrackKind::Screen] {
                let layers = member.live_layers(kind, now);
                if !layers.is_empty() {
                    live.insert((id.clone(), kind), layers);
                }
            }
        }
        for member in self.members.values_mut() {
            if member.allocate(&live, now) {
                self.tally.downlink_cuts += 1;
            }
        }
    }
}

/// The refusal of SFU signaling from someone not in an SFU room.
pub(crate) const NOT_SFU: &str = "not in a room that uses the SFU";

/// The error an SFU request that could not be used gets.
pub(crate) fn refusal(text: &str) -> ServerMessage {
    ServerMessage::error(ErrorCode::BadSdp, text)
}
