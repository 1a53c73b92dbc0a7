//! Every SFU participant, and what passes between them: media from a publisher to the others
//! in its room, keyframe requests back. No sockets and no clock of its own: the caller feeds
//! it datagrams and the time, and sends what it returns, so tests drive it in memory.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use noom_shared::{ErrorCode, Media, MediaChanged, PeerId, RoomName, ServerMessage, SfuTrackKind};
use str0m::Input;
use str0m::net::{Protocol, Receive, Transmit};

use super::Tally;
use super::member::{Delivery, Heard, Member, PUBLISHED};

pub(crate) struct Forwarder {
    members: HashMap<PeerId, Member>,
    /// Which member each remote address was last seen to belong to.
    by_source: HashMap<SocketAddr, PeerId>,
    /// The address in the server's ICE candidate; also what every datagram is taken to have
    /// been sent to (behind a 1:1 NAT the socket's own address is not the one peers use).
    candidate: SocketAddr,
    /// Someone came, went or answered since the last negotiation round.
    changed: bool,
    /// What each member may publish, in kbit/s.
    max_kbps: u32,
    /// The most m-lines a member's connection may hold: a full room's (see `negotiate`).
    max_m_lines: usize,
    /// Counted since the media task last took it.
    pub(crate) tally: Tally,
}

/// What the forwarder wants sent: datagrams, and messages to participants.
#[derive(Default)]
pub(crate) struct Outbox {
    pub(crate) transmits: Vec<Transmit>,
    pub(crate) messages: Vec<(PeerId, ServerMessage)>,
}

impl Forwarder {
    /// A forwarder for rooms of at most `max_room_size` members.
    pub(crate) fn new(candidate: SocketAddr, max_kbps: u32, max_room_size: u32) -> Self {
        Self {
            members: HashMap::new(),
            by_source: HashMap::new(),
            candidate,
            changed: false,
            max_kbps,
            max_m_lines: PUBLISHED.len() * max_room_size as usize,
            tally: Tally::default(),
        }
    }

    /// `peer` now sends and receives its media in `room` through the SFU (again, after
    /// `sfu_restart`: a fresh connection).
    pub(crate) fn enter(&mut self, peer: PeerId, room: RoomName, now: Instant) {
        self.by_source.retain(|_, owner| *owner != peer);
        self.changed = true;
        self.members
            .insert(peer, Member::new(room, self.candidate, self.max_kbps, now));
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

    /// `peer`'s `sfu_answer`. An answer that does not fit leaves its connection unusable, so
    /// it is offered a fresh one.
    pub(crate) fn answer(&mut self, peer: &PeerId, sdp: &str, now: Instant) -> Result<(), String> {
        let member = self.members.get_mut(peer).ok_or(NOT_SFU)?;
        // Changes that waited for this answer can be offered now.
        self.changed = true;
        match member.answer(sdp) {
            Ok(opened) => {
                for (from, kind) in opened {
                    if let Some(publisher) = self.members.get_mut(&from) {
                        publisher.request_keyframe(kind, now);
                    }
                }
                Ok(())
            }
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
        self.negotiate(now, out);
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
                next = next.min(member.poll(now, &mut out.transmits, &mut heard));
                for said in heard.drain(..) {
                    self.pass_on(id, said, now);
                }
            }
        }
        next
    }

    /// Delivers what `from`'s connection said to the others in its room.
    fn pass_on(&mut self, from: &PeerId, said: Heard, now: Instant) {
        match said {
            Heard::Media(kind, data) => {
                let Some(room) = self.members.get(from).map(|m| m.room.clone()) else {
                    return;
                };
                let mut keyframe_wanted = false;
                for (id, member) in &mut self.members {
                    if id != from && member.room == room {
                        match member.forward(from, kind, &data) {
                            Delivery::Sent => self.tally.frames_forwarded += 1,
                            Delivery::AwaitingKeyframe => keyframe_wanted = true,
                            Delivery::NotSent => {}
                        }
                    }
                }
                if keyframe_wanted {
                    if let Some(publisher) = self.members.get_mut(from) {
                        publisher.request_keyframe(kind, now);
                    }
                }
            }
            Heard::OverBudget => self.tally.frames_over_budget += 1,
            Heard::KeyframeWanted(publisher, kind) => {
                if let Some(member) = self.members.get_mut(&publisher) {
                    member.request_keyframe(kind, now);
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
    fn negotiate(&mut self, now: Instant, out: &mut Outbox) {
        if !std::mem::take(&mut self.changed) {
            return;
        }
        let mut rooms: HashMap<RoomName, Vec<PeerId>> = HashMap::new();
        for (id, member) in &self.members {
            rooms
                .entry(member.room.clone())
                .or_default()
                .push(id.clone());
        }
        for (id, member) in &mut self.members {
            let wanted: Vec<(PeerId, SfuTrackKind)> = rooms[&member.room]
                .iter()
                .filter(|other| *other != id)
                .flat_map(|other| PUBLISHED.map(|kind| (other.clone(), kind)))
                .collect();
            if member
                .m_lines_after(&wanted)
                .is_some_and(|lines| lines > self.max_m_lines)
            {
                *member = Member::new(member.room.clone(), self.candidate, self.max_kbps, now);
                self.by_source.retain(|_, owner| owner != id);
                self.tally.connections_renewed += 1;
                let renew = MediaChanged { media: Media::Sfu };
                out.messages
                    .push((id.clone(), ServerMessage::MediaChanged(renew)));
            }
            if let Some(offer) = member.negotiate(id, &wanted) {
                out.messages
                    .push((id.clone(), ServerMessage::SfuOffer(offer)));
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
