//! The room logic: plain data and functions, no sockets, no async. The switchboard feeds it
//! decoded messages and delivers what it returns.
//!
//! `event` holds what goes in and out, `seats` the held seats and resume tokens (on the
//! caller's monotonic clock), `routes` which connection serves which seat and what a held seat
//! missed, `refusals` the error texts.

mod access;
#[cfg(test)]
mod access_tests;
mod cluster_sync;
mod event;
mod hosts;
mod media;
#[cfg(test)]
mod media_tests;
mod profile;
pub mod refusals;
mod room_list;
mod routes;
mod seats;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use noom_shared::{
    ChatMessage, ClientMessage, Envelope, Joined, Left, Media, Nickname, PeerId, PeerInfo,
    PeerLeft, PeerStatus, ResumeToken, RoomName, ServerMessage, SignalFrom,
};

pub use access::{Access, Checked, PasswordWork};
pub use cluster_sync::{MemberTruth, RoomTruth};
pub use event::{Decision, Event, Outgoing, SfuRequest};
pub use media::MediaChange;
pub use refusals::Refusal;
pub use routes::Routes;
pub use seats::ResumePolicy;

#[derive(Debug)]
struct Peer {
    /// Connected to this node (a cluster's hub also holds the peers of other nodes' rooms).
    local: bool,
    /// The cluster node a peer of another node is connected to, as its events said.
    node: Option<String>,
    /// The room and the nickname used in it; `None` while in the lobby.
    membership: Option<(RoomName, Nickname)>,
    /// The room it waits to be let into, and the nickname it asked for.
    knocking: Option<(RoomName, Nickname)>,
    status: PeerStatus,
    /// The member's resume token.
    token: Option<ResumeToken>,
    /// Set when a local member's connection was lost: its seat is kept until then (ms).
    held_until: Option<u64>,
}

impl Peer {
    fn new(local: bool) -> Self {
        Self {
            local,
            node: None,
            membership: None,
            knocking: None,
            status: PeerStatus::default(),
            token: None,
            held_until: None,
        }
    }
}

#[derive(Debug, Default)]
struct Room {
    /// In the order they joined.
    members: Vec<PeerId>,
    /// Set by the first join (see `hosts.rs`).
    host: Option<PeerId>,
    access: Access,
    /// Who knocks, in the order they came (see `access.rs`).
    waiting: Vec<PeerId>,
    /// Peer to peer, or through the SFU (see `media.rs`).
    media: Media,
    /// In a cluster, the node whose SFU carries the room's media while it uses the SFU.
    media_node: Option<String>,
}

/// Every room, every peer in one, and this node's lobby.
#[derive(Debug)]
pub struct Hub {
    /// `None` in a cluster, where Redis enforces the room size for all nodes.
    max_room_size: Option<usize>,
    peers: HashMap<PeerId, Peer>,
    rooms: BTreeMap<RoomName, Room>,
    /// Counts changes to the room list, so that its encoding can be kept until the next.
    room_list_version: u64,
    resume: ResumePolicy,
    /// Which member each resume token belongs to.
    tokens: HashMap<ResumeToken, PeerId>,
    /// The held seats by deadline, so expiring them looks at those due, not at every peer.
    held: BTreeSet<(u64, PeerId)>,
    /// Rooms open at once; a join that would open one more is refused.
    max_rooms: usize,
    /// Events this node must submit after applying one (see `take_follow_ups`).
    follow_ups: Vec<Event>,
    /// With the SFU on: the most members a room keeps its media peer to peer for.
    mesh_max: Option<usize>,
    /// What the media task must hear (see `media.rs`).
    media_changes: Vec<MediaChange>,
    /// This node's id, in a cluster.
    node: Option<String>,
}

impl Hub {
    pub fn new(max_room_size: Option<usize>, resume: ResumePolicy) -> Self {
        Self {
            max_room_size,
            peers: HashMap::new(),
            rooms: BTreeMap::new(),
            room_list_version: 0,
            resume,
            tokens: HashMap::new(),
            held: BTreeSet::new(),
            max_rooms: usize::MAX,
            follow_ups: Vec::new(),
            mesh_max: None,
            media_changes: Vec::new(),
            node: None,
        }
    }

    /// A hub that refuses to open more than `max` rooms at once.
    pub fn with_max_rooms(mut self, max: usize) -> Self {
        self.max_rooms = max;
        self
    }

    /// Names this node in its cluster: the node of every local peer.
    pub fn set_node(&mut self, node: &str) {
        self.node = Some(node.to_owned());
    }

    /// A new connection to this node, in the lobby.
    pub fn connect(&mut self, peer: PeerId) {
        self.peers.insert(peer, Peer::new(true));
    }

    /// Decides and applies at once: how a single node handles a request.
    pub fn handle(
        &mut self,
        from: &PeerId,
        envelope: Envelope<ClientMessage>,
        wall_ms: u64,
    ) -> Vec<Outgoing> {
        let mut decision = self.decide(from, envelope, wall_ms);
        if let Decision::Verify(work) = decision {
            decision = self.decide_checked(work.run());
        }
        let mut out = match decision {
            Decision::Reply(reply) => vec![reply],
            Decision::Apply(event) => self.apply(event),
            Decision::Verify(_) => Vec::new(),
        };
        for event in self.take_follow_ups() {
            out.extend(self.apply(event));
        }
        out
    }

    /// Checks a request from `from` against the rooms as they are; `wall_ms` (ms since the
    /// epoch) stamps chat.
    pub fn decide(
        &self,
        from: &PeerId,
        envelope: Envelope<ClientMessage>,
        wall_ms: u64,
    ) -> Decision {
        let id = envelope.id;
        let peer = from.clone();
        let checked = match envelope.message {
            ClientMessage::ListRooms(_) => {
                return Decision::Reply(Outgoing {
                    to: vec![peer],
                    id,
                    message: ServerMessage::Rooms(self.room_list()),
                });
            }
            ClientMessage::Join(join) => return self.decide_join(from, join, id, None),
            ClientMessage::SetRoomAccess(access) => {
                return self.decide_access(from, id, access.password, access.lobby);
            }
            ClientMessage::Leave(_) if self.knocking(from).is_some() => {
                Ok(Event::Leave { peer, request: id })
            }
            ClientMessage::Leave(_) => self
                .room_of(from)
                .map(|_| Event::Leave { peer, request: id }),
            ClientMessage::Signal(signal) => self.room_of(from).and_then(|room| {
                let reachable = signal.to != *from
                    && self
                        .rooms
                        .get(room)
                        .is_some_and(|r| r.members.contains(&signal.to));
                if reachable {
                    Ok(Event::Signal {
                        from: peer,
                        to: signal.to,
                        data: signal.data,
                    })
                } else {
                    Err(refusals::UNKNOWN_PEER)
                }
            }),
            ClientMessage::Chat(chat) => self.room_of(from).map(|_| Event::Chat {
                peer,
                text: chat.text,
                ts: wall_ms,
            }),
            ClientMessage::SetNickname(set) => self
                .room_of(from)
                .and_then(|room| self.check_nickname_free(room, &set.nickname, Some(from)))
                .map(|()| Event::Rename {
                    peer,
                    nickname: set.nickname,
                }),
            ClientMessage::SetStatus(status) => {
                self.room_of(from).map(|_| Event::Status { peer, status })
            }
            ClientMessage::Resume(resume) => self.check_resume(from, resume.token, id),
            ClientMessage::SfuAnswer(answer) => {
                self.check_sfu_request(from, SfuRequest::Answer { sdp: answer.sdp })
            }
            ClientMessage::SfuRestart(_) => self.check_sfu_request(from, SfuRequest::Restart),
            ClientMessage::SfuPause(pause) => {
                self.check_sfu_request(from, SfuRequest::Pause { video: pause.video })
            }
            ClientMessage::SfuView(view) => self.check_sfu_request(from, SfuRequest::View(view)),
            ClientMessage::MakeHost(target) => {
                self.check_host_request(from, &target.peer_id)
                    .map(|()| Event::MakeHost {
                        by: peer,
                        peer: target.peer_id,
                    })
            }
            ClientMessage::MutePeer(mute) => {
                self.check_host_request(from, &mute.peer_id)
                    .map(|()| Event::Mute {
                        peer: mute.peer_id,
                        media: mute.kind,
                    })
            }
            ClientMessage::RemovePeer(target) => self
                .check_host_request(from, &target.peer_id)
                .and_then(|()| self.room_of(from))
                .map(|room| Event::Remove {
                    peer: target.peer_id,
                    room: room.clone(),
                }),
            ClientMessage::Admit(target) => {
                self.check_knock_answer(from, &target.peer_id)
                    .map(|()| Event::Admit {
                        by: peer,
                        peer: target.peer_id,
                    })
            }
            ClientMessage::Deny(target) => {
                self.check_knock_answer(from, &target.peer_id)
                    .map(|()| Event::Deny {
                        by: peer,
                        peer: target.peer_id,
                    })
            }
        };
        match checked {
            Ok(event) => Decision::Apply(event),
            Err(refusal) => self.refuse(from, id, refusal),
        }
    }

    /// Refuses `from`'s request `id`.
    fn refuse(&self, from: &PeerId, id: Option<u32>, (code, message): Refusal) -> Decision {
        Decision::Reply(Outgoing {
            to: vec![from.clone()],
            id,
            message: ServerMessage::error(code, message),
        })
    }

    /// The joins of waiters that a host let in, for this node to submit (see `admit`).
    pub fn take_follow_ups(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.follow_ups)
    }

    /// Makes the change and returns who must hear of it. Applying an event twice, or one that
    /// no longer fits (a signal to a peer who left), changes nothing.
    pub fn apply(&mut self, event: Event) -> Vec<Outgoing> {
        let mut out = Vec::new();
        match event {
            Event::Join {
                peer,
                room,
                nickname,
                token,
                request,
                node,
                ..
            } => {
                self.join(peer, room, nickname, token, request, node, &mut out);
            }
            Event::Resume {
                seat,
                conn,
                old_token,
                token,
                request,
                node,
                ..
            } => {
                let resume = seats::Resuming {
                    old_token,
                    token,
                    request,
                    node,
                };
                self.apply_resume(&seat, &conn, resume, &mut out);
            }
            Event::Leave { peer, request } => self.leave(peer, request, &mut out),
            Event::Gone { peer } => {
                self.withdraw(&peer, &mut out);
                self.leave_room(&peer, &mut out);
                self.peers.remove(&peer);
            }
            Event::Chat { peer, text, ts } => {
                if let Some((room, nickname)) = self.membership(&peer) {
                    out.push(Outgoing {
                        to: self.members(room),
                        id: None,
                        message: ServerMessage::Chat(ChatMessage {
                            from: peer,
                            nickname: nickname.clone(),
                            text,
                            ts,
                        }),
                    });
                }
            }
            Event::Signal { from, to, data } => {
                let same_room = self.membership(&from).map(|(room, _)| room)
                    == self.membership(&to).map(|(room, _)| room);
                if same_room && self.membership(&to).is_some() {
                    out.push(Outgoing {
                        to: vec![to],
                        id: None,
                        message: ServerMessage::Signal(SignalFrom { from, data }),
                    });
                }
            }
            Event::Rename { peer, nickname } => self.rename(peer, nickname, &mut out),
            Event::Status { peer, status } => self.set_status(&peer, status, &mut out),
            Event::MakeHost { by, peer } => self.make_host(&by, peer, &mut out),
            Event::Mute { peer, media } => self.mute(peer, media, &mut out),
            Event::Remove { peer, .. } => self.remove(peer, &mut out),
            Event::SetAccess { room, access } => self.set_access(&room, access, &mut out),
            Event::Knock {
                peer,
                room,
                nickname,
                request,
            } => self.knock(peer, room, nickname, request, &mut out),
            Event::Admit { by, peer } => {
                let join = self.admit(&by, peer, &mut out);
                self.follow_ups.extend(join);
            }
            Event::Deny { by, peer } => self.deny(&by, peer, &mut out),
            Event::Sfu { peer, request } => self.sfu_request(peer, request),
            Event::SfuTell { to, message } => {
                if self.is_local(&to) {
                    out.push(Outgoing {
                        to: vec![to],
                        id: None,
                        message,
                    });
                }
            }
        }
        out
    }

    /// A leave: the room hears of it and, if the peer is ours, so does the peer.
    fn leave(&mut self, peer: PeerId, request: Option<u32>, out: &mut Vec<Outgoing>) {
        let local = self.is_local(&peer);
        let left = match self.withdraw(&peer, out) {
            Some(room) => Some(room),
            None => self.leave_room(&peer, out),
        };
        let Some(room) = left else {
            return;
        };
        if local {
            let left = Outgoing {
                to: vec![peer],
                id: request,
                message: ServerMessage::Left(Left { room }),
            };
            out.insert(0, left);
        } else {
            self.peers.remove(&peer);
        }
    }

    fn check_join(&self, from: &PeerId, room: &RoomName) -> Result<(), Refusal> {
        if self.membership(from).is_some() || self.knocking(from).is_some() {
            return Err(refusals::ALREADY_IN_ROOM);
        }
        let full = |r: &Room| self.max_room_size.is_some_and(|max| r.members.len() >= max);
        match self.rooms.get(room) {
            Some(existing) if full(existing) => Err(refusals::ROOM_FULL),
            None if self.rooms.len() >= self.max_rooms => Err(refusals::TOO_MANY_ROOMS),
            _ => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn join(
        &mut self,
        peer: PeerId,
        room_name: RoomName,
        nickname: Nickname,
        token: Option<ResumeToken>,
        request: Option<u32>,
        node: Option<String>,
        out: &mut Vec<Outgoing>,
    ) {
        if let Some((current, _)) = self.membership(&peer) {
            if *current == room_name {
                return;
            }
            self.leave_room(&peer, out);
        }
        self.stop_waiting(&peer);
        let room = self.rooms.entry(room_name.clone()).or_default();
        let existing = room.members.clone();
        room.members.push(peer.clone());
        let host = room.host.get_or_insert_with(|| peer.clone()).clone();
        self.room_list_version += 1;
        let state = self
            .peers
            .entry(peer.clone())
            .or_insert_with(|| Peer::new(false));
        state.membership = Some((room_name.clone(), nickname.clone()));
        state.status = PeerStatus::default();
        if !state.local {
            state.node = node;
        }
        if let Some(token) = token {
            self.set_token(&peer, token);
        }
        let local = self.is_local(&peer);
        let media = self.media_after_join(&room_name, &peer, out);

        if local {
            out.push(Outgoing {
                to: vec![peer.clone()],
                id: request,
                message: ServerMessage::Joined(Joined {
                    room: room_name.clone(),
                    peer_id: peer.clone(),
                    peers: self.peer_infos(&existing),
                    host,
                    media,
                }),
            });
            self.tell_statuses(&peer, &existing, out);
            self.tell_access(&peer, &room_name, out);
            self.announce_session(&peer, out);
        }
        if !existing.is_empty() {
            out.push(Outgoing {
                to: existing,
                id: None,
                message: ServerMessage::PeerJoined(PeerInfo {
                    peer_id: peer,
                    nickname,
                }),
            });
        }
    }

    pub(super) fn peer_infos(&self, peers: &[PeerId]) -> Vec<PeerInfo> {
        peers
            .iter()
            .filter_map(|id| {
                Some(PeerInfo {
                    peer_id: id.clone(),
                    nickname: self.membership(id)?.1.clone(),
                })
            })
            .collect()
    }

    /// Takes `peer` out of its room, telling the others; returns the room it was in.
    fn leave_room(&mut self, peer: &PeerId, out: &mut Vec<Outgoing>) -> Option<RoomName> {
        self.release_hold(peer);
        let state = self.peers.get_mut(peer)?;
        if let Some(token) = state.token.take() {
            self.tokens.remove(&token);
        }
        let (room_name, _) = self.peers.get_mut(peer)?.membership.take()?;
        self.room_list_version += 1;
        let room = self.rooms.get_mut(&room_name)?;
        room.members.retain(|member| member != peer);
        if room.members.is_empty() {
            if let Some(emptied) = self.rooms.remove(&room_name) {
                self.turn_away_waiters(emptied.waiting, out);
            }
        } else {
            out.push(Outgoing {
                to: room.members.clone(),
                id: None,
                message: ServerMessage::PeerLeft(PeerLeft {
                    peer_id: peer.clone(),
                }),
            });
            self.succeed_host(&room_name, peer, out);
        }
        self.media_after_leave(&room_name, peer, out);
        Some(room_name)
    }

    /// Whether `peer` is connected to this node (or its seat is held here).
    pub fn is_local(&self, peer: &PeerId) -> bool {
        self.peers.get(peer).is_some_and(|p| p.local)
    }

    /// The node `peer` is connected to (`None` on a single node).
    pub(super) fn node_of(&self, peer: &PeerId) -> Option<String> {
        let state = self.peers.get(peer)?;
        if state.local {
            self.node.clone()
        } else {
            state.node.clone()
        }
    }

    /// The room and nickname of `peer`, if it is in a room.
    pub fn membership(&self, peer: &PeerId) -> Option<&(RoomName, Nickname)> {
        self.peers.get(peer)?.membership.as_ref()
    }

    fn room_of(&self, peer: &PeerId) -> Result<&RoomName, Refusal> {
        self.membership(peer)
            .map(|(room, _)| room)
            .ok_or(refusals::NOT_IN_ROOM)
    }

    pub(super) fn members(&self, room: &RoomName) -> Vec<PeerId> {
        self.rooms
            .get(room)
            .map(|r| r.members.clone())
            .unwrap_or_default()
    }
}
