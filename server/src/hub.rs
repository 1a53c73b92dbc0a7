//! The room logic: plain data and functions, no sockets, no async. The switchboard feeds it
//! decoded messages and delivers what it returns.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use noom_shared::{
    ChatMessage, ChatText, ClientMessage, Envelope, ErrorCode, Joined, Left, Nickname, PeerId,
    PeerInfo, PeerLeft, PeerStatus, PeerStatusUpdate, ResumeToken, RoomInfo, RoomName, Rooms,
    ServerMessage, Session, SignalData, SignalFrom,
};
use serde::{Deserialize, Serialize};

/// A message for one or more peers; the switchboard encodes it once for all of them and
/// delivers it to those connected to this node.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub to: Vec<PeerId>,
    /// The `id` of the request this directly answers.
    pub id: Option<u32>,
    pub message: ServerMessage,
}

/// A change to the rooms. `decide` checks a request and turns it into an event; `apply` makes
/// the change and says who must hear of it. A single node applies events at once; a cluster
/// applies every event on every node in the one order Redis publishes them (`cluster/`), so all
/// nodes hold the same rooms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Join {
        peer: PeerId,
        room: RoomName,
        nickname: Nickname,
        /// The member's resume token (every node learns it, so any node can resume the seat).
        #[serde(default)]
        token: Option<ResumeToken>,
        #[serde(default)]
        request: Option<u32>,
    },
    /// The connection `conn` (in the lobby of the node it is on) takes the seat `seat`, which
    /// held `old_token`; the seat's token becomes `token`.
    Resume {
        seat: PeerId,
        conn: PeerId,
        room: RoomName,
        old_token: ResumeToken,
        token: ResumeToken,
        #[serde(default)]
        request: Option<u32>,
    },
    Leave {
        peer: PeerId,
        #[serde(default)]
        request: Option<u32>,
    },
    /// The peer's connection is gone (closed, dropped, or its node died).
    Gone {
        peer: PeerId,
    },
    Chat {
        peer: PeerId,
        text: ChatText,
        ts: u64,
    },
    Signal {
        from: PeerId,
        to: PeerId,
        /// As JSON text: a tagged enum cannot carry raw JSON through serde.
        #[serde(with = "signal_as_text")]
        data: SignalData,
    },
    Rename {
        peer: PeerId,
        nickname: Nickname,
    },
    Status {
        peer: PeerId,
        status: PeerStatus,
    },
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Answer the sender only (a room list, or an error); nothing changes.
    Reply(Outgoing),
    /// Apply this event.
    Apply(Event),
}

/// How seats are held for connections that are lost rather than closed.
#[derive(Debug, Clone, Copy)]
pub struct ResumePolicy {
    /// How long a lost connection's seat is kept for a `resume`.
    pub grace_ms: u64,
    /// Makes a fresh secret token (random in the server, predictable in tests).
    pub new_token: fn() -> ResumeToken,
}

#[derive(Debug)]
struct Peer {
    /// Connected to this node (a cluster's hub also holds the peers of other nodes' rooms).
    local: bool,
    /// The room and the nickname used in it; `None` while in the lobby.
    membership: Option<(RoomName, Nickname)>,
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
            membership: None,
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
}

/// Every room, every peer in one, and this node's lobby.
#[derive(Debug)]
pub struct Hub {
    /// `None` in a cluster, where Redis enforces the room size for all nodes.
    max_room_size: Option<usize>,
    peers: HashMap<PeerId, Peer>,
    rooms: BTreeMap<RoomName, Room>,
    room_list_changed: bool,
    resume: ResumePolicy,
    /// Which member each resume token belongs to.
    tokens: HashMap<ResumeToken, PeerId>,
    /// The held seats by deadline, so expiring them looks at those due, not at every peer.
    held: BTreeSet<(u64, PeerId)>,
}

type Refusal = (ErrorCode, &'static str);

impl Hub {
    pub fn new(max_room_size: Option<usize>, resume: ResumePolicy) -> Self {
        Self {
            max_room_size,
            peers: HashMap::new(),
            rooms: BTreeMap::new(),
            room_list_changed: false,
            resume,
            tokens: HashMap::new(),
            held: BTreeSet::new(),
        }
    }

    /// A new connection to this node, in the lobby.
    pub fn connect(&mut self, peer: PeerId) {
        self.peers.insert(peer, Peer::new(true));
    }

    /// A local connection ended. A peer in the lobby is forgotten at once. One in a room
    /// becomes a `Gone` event for the room to hear of, unless the connection was `lost` (not
    /// closed): then its seat is held for a `resume`, and the room hears nothing yet.
    pub fn disconnect(&mut self, peer: &PeerId, lost: bool, now_ms: u64) -> Option<Event> {
        let grace_ms = self.resume.grace_ms;
        let state = self.peers.get_mut(peer)?;
        if state.membership.is_none() {
            self.peers.remove(peer);
            None
        } else if lost && grace_ms > 0 && state.token.is_some() {
            let until = now_ms + grace_ms;
            state.held_until = Some(until);
            self.held.insert((until, peer.clone()));
            None
        } else {
            Some(Event::Gone { peer: peer.clone() })
        }
    }

    /// Whether `peer`'s seat is held for a `resume`.
    pub fn is_held(&self, peer: &PeerId) -> bool {
        self.peers.get(peer).is_some_and(|p| p.held_until.is_some())
    }

    /// The seats held past their time: `Gone` events for their rooms.
    pub fn expire_held_seats(&mut self, now_ms: u64) -> Vec<Event> {
        let mut expired = Vec::new();
        while let Some((until, _)) = self.held.first()
            && *until <= now_ms
        {
            let Some((_, peer)) = self.held.pop_first() else {
                break;
            };
            if let Some(state) = self.peers.get_mut(&peer) {
                state.held_until = None;
            }
            expired.push(Event::Gone { peer });
        }
        expired
    }

    /// The seat of `peer` is no longer held (taken back, or given up).
    fn release_hold(&mut self, peer: &PeerId) {
        if let Some(until) = self.peers.get_mut(peer).and_then(|p| p.held_until.take()) {
            self.held.remove(&(until, peer.clone()));
        }
    }

    /// Decides and applies at once: how a single node handles a request.
    pub fn handle(
        &mut self,
        from: &PeerId,
        envelope: Envelope<ClientMessage>,
        now_ms: u64,
    ) -> Vec<Outgoing> {
        match self.decide(from, envelope, now_ms) {
            Decision::Reply(reply) => vec![reply],
            Decision::Apply(event) => self.apply(event),
        }
    }

    /// Checks a request from `from` against the rooms as they are; `now_ms` stamps chat.
    pub fn decide(
        &self,
        from: &PeerId,
        envelope: Envelope<ClientMessage>,
        now_ms: u64,
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
            ClientMessage::Join(join) => self.check_join(from, &join.room).map(|()| Event::Join {
                peer,
                room: join.room,
                nickname: join.nickname,
                token: Some((self.resume.new_token)()),
                request: id,
            }),
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
                    Err((ErrorCode::UnknownPeer, "no such peer in your room"))
                }
            }),
            ClientMessage::Chat(chat) => self.room_of(from).map(|_| Event::Chat {
                peer,
                text: chat.text,
                ts: now_ms,
            }),
            ClientMessage::SetNickname(set) => self.room_of(from).map(|_| Event::Rename {
                peer,
                nickname: set.nickname,
            }),
            ClientMessage::SetStatus(status) => {
                self.room_of(from).map(|_| Event::Status { peer, status })
            }
            ClientMessage::Resume(resume) => self.check_resume(from, resume.token, id),
        };
        match checked {
            Ok(event) => Decision::Apply(event),
            Err((code, message)) => Decision::Reply(Outgoing {
                to: vec![from.clone()],
                id,
                message: ServerMessage::error(code, message),
            }),
        }
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
            } => {
                self.join(peer, room, nickname, token, request, &mut out);
            }
            Event::Resume {
                seat,
                conn,
                old_token,
                token,
                request,
                ..
            } => {
                if !self.resume_fits(&seat, &old_token) {
                    if self.is_local(&conn) {
                        out.push(invalid_token(&conn, request));
                    }
                } else if self.is_local(&conn) {
                    self.adopt_seat(&seat, &conn, token, request, &mut out);
                } else {
                    self.set_token(&seat, token);
                    self.release_hold(&seat);
                    if let Some(state) = self.peers.get_mut(&seat) {
                        state.local = false;
                    }
                }
            }
            Event::Leave { peer, request } => {
                let local = self.is_local(&peer);
                if let Some(room) = self.leave_room(&peer, &mut out) {
                    if local {
                        out.insert(
                            0,
                            Outgoing {
                                to: vec![peer.clone()],
                                id: request,
                                message: ServerMessage::Left(Left { room }),
                            },
                        );
                    } else {
                        self.peers.remove(&peer);
                    }
                }
            }
            Event::Gone { peer } => {
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
            Event::Rename { peer, nickname } => {
                if let Some((room, _)) = self.membership(&peer).cloned() {
                    if let Some(state) = self.peers.get_mut(&peer) {
                        state.membership = Some((room.clone(), nickname.clone()));
                    }
                    out.push(Outgoing {
                        to: self.members(&room),
                        id: None,
                        message: ServerMessage::PeerUpdated(PeerInfo {
                            peer_id: peer,
                            nickname,
                        }),
                    });
                }
            }
            Event::Status { peer, status } => {
                if let Some((room, _)) = self.membership(&peer).cloned() {
                    if let Some(state) = self.peers.get_mut(&peer) {
                        state.status = status;
                    }
                    out.push(Outgoing {
                        to: self.members(&room),
                        id: None,
                        message: status_update(&peer, status),
                    });
                }
            }
        }
        out
    }

    /// A join event for each local member (for a cluster node to register them again after
    /// losing Redis, tokens included).
    pub fn local_member_joins(&self) -> Vec<Event> {
        self.peers
            .iter()
            .filter(|(_, p)| p.local)
            .filter_map(|(id, p)| {
                let (room, nickname) = p.membership.clone()?;
                Some(Event::Join {
                    peer: id.clone(),
                    room,
                    nickname,
                    token: p.token.clone(),
                    request: None,
                })
            })
            .collect()
    }

    /// Brings the peers of other nodes in line with `truth` (each room's members in join
    /// order, as Redis holds them), telling local peers who came and went.
    pub fn reconcile(&mut self, truth: &[(RoomName, Vec<(PeerId, Nickname)>)]) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let remote_now: Vec<(PeerId, RoomName)> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.local)
            .filter_map(|(id, p)| Some((id.clone(), p.membership.as_ref()?.0.clone())))
            .collect();
        for (peer, room) in remote_now {
            let still_there = truth
                .iter()
                .any(|(r, members)| *r == room && members.iter().any(|(p, _)| *p == peer));
            if !still_there {
                out.extend(self.apply(Event::Gone { peer }));
            }
        }
        for (room, members) in truth {
            for (peer, nickname) in members {
                if !self.is_local(peer) {
                    out.extend(self.apply(Event::Join {
                        peer: peer.clone(),
                        room: room.clone(),
                        nickname: nickname.clone(),
                        token: None,
                        request: None,
                    }));
                }
            }
        }
        out
    }

    /// The room list, if it changed since the last call.
    pub fn take_room_list_change(&mut self) -> Option<Rooms> {
        std::mem::take(&mut self.room_list_changed).then(|| self.room_list())
    }

    /// Every room with its participant count, by name.
    pub fn room_list(&self) -> Rooms {
        Rooms {
            rooms: self
                .rooms
                .iter()
                .map(|(name, room)| RoomInfo {
                    name: name.clone(),
                    participants: room.members.len() as u32,
                })
                .collect(),
        }
    }

    /// The local peers not in any room: they watch the room list.
    pub fn lobby(&self) -> impl Iterator<Item = &PeerId> {
        self.peers
            .iter()
            .filter(|(_, peer)| peer.local && peer.membership.is_none())
            .map(|(id, _)| id)
    }

    fn check_join(&self, from: &PeerId, room: &RoomName) -> Result<(), Refusal> {
        if self.membership(from).is_some() {
            return Err((
                ErrorCode::AlreadyInRoom,
                "leave your room before joining another",
            ));
        }
        let full = |r: &Room| self.max_room_size.is_some_and(|max| r.members.len() >= max);
        if self.rooms.get(room).is_some_and(full) {
            return Err(room_full());
        }
        Ok(())
    }

    fn join(
        &mut self,
        peer: PeerId,
        room_name: RoomName,
        nickname: Nickname,
        token: Option<ResumeToken>,
        request: Option<u32>,
        out: &mut Vec<Outgoing>,
    ) {
        if let Some((current, _)) = self.membership(&peer) {
            if *current == room_name {
                return;
            }
            self.leave_room(&peer, out);
        }
        let room = self.rooms.entry(room_name.clone()).or_default();
        let existing = room.members.clone();
        room.members.push(peer.clone());
        self.room_list_changed = true;
        let state = self
            .peers
            .entry(peer.clone())
            .or_insert_with(|| Peer::new(false));
        state.membership = Some((room_name.clone(), nickname.clone()));
        state.status = PeerStatus::default();
        if let Some(token) = token {
            self.set_token(&peer, token);
        }
        let local = self.is_local(&peer);

        if local {
            out.push(Outgoing {
                to: vec![peer.clone()],
                id: request,
                message: ServerMessage::Joined(Joined {
                    room: room_name,
                    peer_id: peer.clone(),
                    peers: self.peer_infos(&existing),
                }),
            });
            self.tell_statuses(&peer, &existing, out);
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

    fn peer_infos(&self, peers: &[PeerId]) -> Vec<PeerInfo> {
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

    /// Tells `peer` the status of each of `others` that is not the default.
    fn tell_statuses(&self, peer: &PeerId, others: &[PeerId], out: &mut Vec<Outgoing>) {
        for other in others {
            if let Some(status) = self.peers.get(other).map(|p| p.status)
                && status != PeerStatus::default()
            {
                out.push(Outgoing {
                    to: vec![peer.clone()],
                    id: None,
                    message: status_update(other, status),
                });
            }
        }
    }

    /// Gives `peer` a new resume token, forgetting its old one.
    fn set_token(&mut self, peer: &PeerId, token: ResumeToken) {
        let Some(state) = self.peers.get_mut(peer) else {
            return;
        };
        if let Some(old) = state.token.replace(token.clone()) {
            self.tokens.remove(&old);
        }
        self.tokens.insert(token, peer.clone());
    }

    /// Tells a local member its resume token.
    fn announce_session(&self, peer: &PeerId, out: &mut Vec<Outgoing>) {
        if let Some(token) = self.peers.get(peer).and_then(|p| p.token.clone()) {
            out.push(Outgoing {
                to: vec![peer.clone()],
                id: None,
                message: ServerMessage::Session(Session {
                    resume_token: token,
                    grace_ms: self.resume.grace_ms,
                }),
            });
        }
    }

    /// A `resume` from the lobby connection `from`: the seat its token names, if any. The seat
    /// may be held here, or still look alive (the client noticed the network change first),
    /// or be on another node of a cluster.
    fn check_resume(
        &self,
        from: &PeerId,
        token: ResumeToken,
        request: Option<u32>,
    ) -> Result<Event, Refusal> {
        if self.membership(from).is_some() {
            return Err((
                ErrorCode::AlreadyInRoom,
                "leave your room before resuming another seat",
            ));
        }
        let seat = self.tokens.get(&token).ok_or(invalid_token_refusal())?;
        let (room, _) = self.membership(seat).ok_or(invalid_token_refusal())?;
        Ok(Event::Resume {
            seat: seat.clone(),
            conn: from.clone(),
            room: room.clone(),
            old_token: token,
            token: (self.resume.new_token)(),
            request,
        })
    }

    /// Whether a resume of `seat` with `old_token` still fits (tokens work once).
    pub fn resume_fits(&self, seat: &PeerId, old_token: &ResumeToken) -> bool {
        self.peers
            .get(seat)
            .is_some_and(|p| p.membership.is_some() && p.token.as_ref() == Some(old_token))
    }

    /// The local lobby connection `conn` becomes the member `seat`: same id, same room, and
    /// nobody in the room is told.
    fn adopt_seat(
        &mut self,
        seat: &PeerId,
        conn: &PeerId,
        token: ResumeToken,
        request: Option<u32>,
        out: &mut Vec<Outgoing>,
    ) {
        self.peers.remove(conn);
        self.set_token(seat, token);
        self.release_hold(seat);
        let Some(state) = self.peers.get_mut(seat) else {
            return;
        };
        state.local = true;
        let Some((room, _)) = state.membership.clone() else {
            return;
        };
        let others: Vec<PeerId> = self
            .members(&room)
            .into_iter()
            .filter(|p| p != seat)
            .collect();
        out.push(Outgoing {
            to: vec![seat.clone()],
            id: request,
            message: ServerMessage::Resumed(Joined {
                room,
                peer_id: seat.clone(),
                peers: self.peer_infos(&others),
            }),
        });
        self.tell_statuses(seat, &others, out);
        self.announce_session(seat, out);
    }

    /// Takes `peer` out of its room, telling the others; returns the room it was in.
    fn leave_room(&mut self, peer: &PeerId, out: &mut Vec<Outgoing>) -> Option<RoomName> {
        self.release_hold(peer);
        let state = self.peers.get_mut(peer)?;
        if let Some(token) = state.token.take() {
            self.tokens.remove(&token);
        }
        let (room_name, _) = self.peers.get_mut(peer)?.membership.take()?;
        self.room_list_changed = true;
        let room = self.rooms.get_mut(&room_name)?;
        room.members.retain(|member| member != peer);
        if room.members.is_empty() {
            self.rooms.remove(&room_name);
        } else {
            out.push(Outgoing {
                to: room.members.clone(),
                id: None,
                message: ServerMessage::PeerLeft(PeerLeft {
                    peer_id: peer.clone(),
                }),
            });
        }
        Some(room_name)
    }

    fn is_local(&self, peer: &PeerId) -> bool {
        self.peers.get(peer).is_some_and(|p| p.local)
    }

    fn membership(&self, peer: &PeerId) -> Option<&(RoomName, Nickname)> {
        self.peers.get(peer)?.membership.as_ref()
    }

    fn room_of(&self, peer: &PeerId) -> Result<&RoomName, Refusal> {
        self.membership(peer)
            .map(|(room, _)| room)
            .ok_or((ErrorCode::NotInRoom, "join a room first"))
    }

    fn members(&self, room: &RoomName) -> Vec<PeerId> {
        self.rooms
            .get(room)
            .map(|r| r.members.clone())
            .unwrap_or_default()
    }
}

fn invalid_token_refusal() -> Refusal {
    (
        ErrorCode::InvalidToken,
        "this seat is no longer held: join again",
    )
}

fn invalid_token(to: &PeerId, request: Option<u32>) -> Outgoing {
    let (code, text) = invalid_token_refusal();
    Outgoing {
        to: vec![to.clone()],
        id: request,
        message: ServerMessage::error(code, text),
    }
}

/// The refusal of a join to a full room (also decided by a cluster's Redis).
pub fn room_full() -> Refusal {
    (ErrorCode::RoomFull, "this room is full")
}

fn status_update(peer: &PeerId, status: PeerStatus) -> ServerMessage {
    ServerMessage::PeerStatus(PeerStatusUpdate {
        peer_id: peer.clone(),
        status,
    })
}

mod signal_as_text {
    use noom_shared::SignalData;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(data: &SignalData, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(data.as_json())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SignalData, D::Error> {
        let text = String::deserialize(deserializer)?;
        SignalData::from_json(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use noom_shared::{ChatSend, Empty, Join, SetNickname, SignalTo};

    use super::*;

    fn peer(id: &str) -> PeerId {
        PeerId::new(id).unwrap()
    }

    fn join(room: &str, nick: &str) -> ClientMessage {
        ClientMessage::Join(Join {
            room: RoomName::new(room).unwrap(),
            nickname: Nickname::new(nick).unwrap(),
        })
    }

    fn send(hub: &mut Hub, from: &str, msg: ClientMessage) -> Vec<Outgoing> {
        hub.handle(&peer(from), Envelope::with_id(msg, Some(1)), 42)
    }

    fn error_code(out: &[Outgoing]) -> Option<ErrorCode> {
        out.iter().find_map(|o| match &o.message {
            ServerMessage::Error(e) => Some(e.code),
            _ => None,
        })
    }

    fn test_policy() -> ResumePolicy {
        fn counting_token() -> ResumeToken {
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            ResumeToken::new(&format!("token{n:016}")).unwrap()
        }
        ResumePolicy {
            grace_ms: 1000,
            new_token: counting_token,
        }
    }

    fn session_token(out: &[Outgoing]) -> ResumeToken {
        out.iter()
            .find_map(|o| match &o.message {
                ServerMessage::Session(s) => Some(s.resume_token.clone()),
                _ => None,
            })
            .expect("a session message")
    }

    fn hub_with(ids: &[&str], max: usize) -> Hub {
        let mut hub = Hub::new(Some(max), test_policy());
        for id in ids {
            hub.connect(peer(id));
        }
        hub
    }

    #[test]
    fn join_lists_existing_peers_and_announces_the_joiner() {
        let mut hub = hub_with(&["a", "b"], 8);
        send(&mut hub, "a", join("r", "Ada"));
        let out = send(&mut hub, "b", join("r", "Bob"));
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].to, vec![peer("b")]);
        assert_eq!(out[0].id, Some(1));
        let ServerMessage::Joined(joined) = &out[0].message else {
            panic!("{out:?}")
        };
        assert_eq!(
            joined.peers,
            vec![PeerInfo {
                peer_id: peer("a"),
                nickname: Nickname::new("Ada").unwrap()
            }]
        );
        assert!(matches!(&out[1].message, ServerMessage::Session(s) if s.grace_ms == 1000));
        assert_eq!(out[2].to, vec![peer("a")]);
        assert!(matches!(&out[2].message, ServerMessage::PeerJoined(p) if p.peer_id == peer("b")));
    }

    #[test]
    fn room_full_and_already_in_room() {
        let mut hub = hub_with(&["a", "b", "c"], 2);
        send(&mut hub, "a", join("r", "A"));
        assert_eq!(
            error_code(&send(&mut hub, "a", join("s", "A"))),
            Some(ErrorCode::AlreadyInRoom)
        );
        send(&mut hub, "b", join("r", "B"));
        let out = send(&mut hub, "c", join("r", "C"));
        assert_eq!(error_code(&out), Some(ErrorCode::RoomFull));
        assert_eq!(out[0].id, Some(1));
        assert_eq!(hub.room_list().rooms[0].participants, 2);
    }

    #[test]
    fn signal_only_reaches_peers_of_the_same_room() {
        let mut hub = hub_with(&["a", "b", "c"], 8);
        send(&mut hub, "a", join("r", "A"));
        send(&mut hub, "b", join("r", "B"));
        send(&mut hub, "c", join("other", "C"));
        let signal = |to: &str| {
            ClientMessage::Signal(SignalTo {
                to: peer(to),
                data: SignalData::from_json("{}").unwrap(),
            })
        };
        let out = send(&mut hub, "a", signal("b"));
        assert_eq!(out[0].to, vec![peer("b")]);
        assert!(matches!(&out[0].message, ServerMessage::Signal(s) if s.from == peer("a")));
        assert_eq!(
            error_code(&send(&mut hub, "a", signal("c"))),
            Some(ErrorCode::UnknownPeer)
        );
        assert_eq!(
            error_code(&send(&mut hub, "a", signal("a"))),
            Some(ErrorCode::UnknownPeer)
        );
        assert_eq!(
            error_code(&send(&mut hub, "a", signal("zz"))),
            Some(ErrorCode::UnknownPeer)
        );
    }

    #[test]
    fn chat_goes_to_everyone_with_nickname_and_time() {
        let mut hub = hub_with(&["a", "b", "c"], 8);
        send(&mut hub, "a", join("r", "A"));
        send(&mut hub, "b", join("r", "B"));
        let text = ChatText::new("hi").unwrap();
        let out = send(
            &mut hub,
            "a",
            ClientMessage::Chat(ChatSend { text: text.clone() }),
        );
        assert_eq!(out[0].to, vec![peer("a"), peer("b")]);
        let ServerMessage::Chat(chat) = &out[0].message else {
            panic!()
        };
        assert_eq!(
            (chat.nickname.as_str(), chat.ts, &chat.text),
            ("A", 42, &text)
        );
        assert_eq!(
            error_code(&send(&mut hub, "c", ClientMessage::Chat(ChatSend { text }))),
            Some(ErrorCode::NotInRoom)
        );
    }

    #[test]
    fn leave_and_disconnect_announce_peer_left_and_empty_rooms_vanish() {
        let mut hub = hub_with(&["a", "b"], 8);
        send(&mut hub, "a", join("r", "A"));
        send(&mut hub, "b", join("r", "B"));
        let out = send(&mut hub, "b", ClientMessage::Leave(Empty {}));
        assert!(matches!(&out[0].message, ServerMessage::Left(l) if l.room.as_str() == "r"));
        assert_eq!(out[1].to, vec![peer("a")]);
        assert!(matches!(&out[1].message, ServerMessage::PeerLeft(p) if p.peer_id == peer("b")));
        assert_eq!(
            error_code(&send(&mut hub, "b", ClientMessage::Leave(Empty {}))),
            Some(ErrorCode::NotInRoom)
        );
        let gone = hub.disconnect(&peer("a"), false, 0).unwrap();
        assert!(hub.apply(gone).is_empty());
        assert!(hub.room_list().rooms.is_empty());
        assert_eq!(hub.lobby().collect::<Vec<_>>(), vec![&peer("b")]);
    }

    #[test]
    fn nickname_and_status_updates_reach_the_room_and_later_joiners() {
        let mut hub = hub_with(&["a", "b"], 8);
        send(&mut hub, "a", join("r", "A"));
        let out = send(
            &mut hub,
            "a",
            ClientMessage::SetNickname(SetNickname {
                nickname: Nickname::new("Ada").unwrap(),
            }),
        );
        assert!(
            matches!(&out[0].message, ServerMessage::PeerUpdated(p) if p.nickname.as_str() == "Ada")
        );
        let muted = PeerStatus {
            muted: true,
            ..PeerStatus::default()
        };
        let out = send(&mut hub, "a", ClientMessage::SetStatus(muted));
        assert_eq!(out[0].to, vec![peer("a")]);
        let out = send(&mut hub, "b", join("r", "B"));
        let ServerMessage::Joined(joined) = &out[0].message else {
            panic!()
        };
        assert_eq!(joined.peers[0].nickname.as_str(), "Ada");
        assert_eq!(out[1].message, status_update(&peer("a"), muted));
        assert_eq!(out[1].to, vec![peer("b")]);
    }

    #[test]
    fn room_list_changes_are_reported_once() {
        let mut hub = hub_with(&["a"], 8);
        assert!(hub.take_room_list_change().is_none());
        send(&mut hub, "a", join("r", "A"));
        assert_eq!(hub.take_room_list_change().unwrap().rooms.len(), 1);
        assert!(hub.take_room_list_change().is_none());
        let gone = hub.disconnect(&peer("a"), false, 0).unwrap();
        hub.apply(gone);
        assert!(hub.take_room_list_change().unwrap().rooms.is_empty());
    }

    fn remote_join(hub: &mut Hub, id: &str, room: &str, nick: &str) -> Vec<Outgoing> {
        hub.apply(Event::Join {
            peer: peer(id),
            room: RoomName::new(room).unwrap(),
            nickname: Nickname::new(nick).unwrap(),
            token: None,
            request: None,
        })
    }

    #[test]
    fn peers_of_other_nodes_are_members_but_not_answered_or_in_the_lobby() {
        let mut hub = hub_with(&["a"], 8);
        assert!(remote_join(&mut hub, "r1", "r", "Remote").is_empty());
        let out = send(&mut hub, "a", join("r", "A"));
        let ServerMessage::Joined(joined) = &out[0].message else {
            panic!()
        };
        assert_eq!(joined.peers[0].peer_id, peer("r1"));
        // The remote peer is told by its own node, which applies the same event.
        assert_eq!(out[2].to, vec![peer("r1")]);
        assert_eq!(hub.lobby().count(), 0);
        // A remote leave removes the peer entirely.
        let out = hub.apply(Event::Leave {
            peer: peer("r1"),
            request: Some(3),
        });
        assert_eq!(out.len(), 1);
        assert!(matches!(&out[0].message, ServerMessage::PeerLeft(_)));
        assert_eq!(hub.room_list().rooms[0].participants, 1);
    }

    #[test]
    fn applying_an_event_twice_changes_nothing() {
        let mut hub = hub_with(&["a"], 8);
        send(&mut hub, "a", join("r", "A"));
        assert_eq!(remote_join(&mut hub, "r1", "r", "Remote").len(), 1);
        assert!(remote_join(&mut hub, "r1", "r", "Remote").is_empty());
        assert_eq!(hub.apply(Event::Gone { peer: peer("r1") }).len(), 1);
        assert!(hub.apply(Event::Gone { peer: peer("r1") }).is_empty());
    }

    #[test]
    fn reconcile_adds_and_removes_remote_peers_and_keeps_local_ones() {
        let mut hub = hub_with(&["a"], 8);
        send(&mut hub, "a", join("r", "A"));
        remote_join(&mut hub, "old", "r", "Old");
        let truth = vec![(
            RoomName::new("r").unwrap(),
            vec![(peer("new"), Nickname::new("New").unwrap())],
        )];
        let out = hub.reconcile(&truth);
        let left: Vec<_> = out
            .iter()
            .filter(|o| matches!(o.message, ServerMessage::PeerLeft(_)))
            .collect();
        let joined: Vec<_> = out
            .iter()
            .filter(|o| matches!(o.message, ServerMessage::PeerJoined(_)))
            .collect();
        assert_eq!((left.len(), joined.len()), (1, 1));
        assert_eq!(joined[0].to, vec![peer("a")]);
        assert_eq!(hub.room_list().rooms[0].participants, 2);
        let joins = hub.local_member_joins();
        assert!(
            matches!(&joins[..], [Event::Join { peer: p, token: Some(_), .. }] if *p == peer("a")),
            "{joins:?}"
        );
    }

    #[test]
    fn events_have_a_stable_wire_form() {
        // The cluster's Lua scripts write join, leave and gone events in exactly this form.
        let join = Event::Join {
            peer: peer("p1"),
            room: RoomName::new("r").unwrap(),
            nickname: Nickname::new("N").unwrap(),
            token: None,
            request: Some(4),
        };
        let json = serde_json::to_string(&join).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"join","peer":"p1","room":"r","nickname":"N","token":null,"request":4}"#
        );
        let from_lua: Event =
            serde_json::from_str(r#"{"room":"r","kind":"join","nickname":"N","peer":"p1"}"#)
                .unwrap();
        assert!(matches!(from_lua, Event::Join { request: None, .. }));
        let signal = Event::Signal {
            from: peer("a"),
            to: peer("b"),
            data: SignalData::from_json(r#"{"candidate":null}"#).unwrap(),
        };
        let json = serde_json::to_string(&signal).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), signal);
        assert!(serde_json::from_str::<Event>(r#"{"kind":"gone","peer":"bad id"}"#).is_err());
    }

    fn resume(token: &ResumeToken) -> ClientMessage {
        ClientMessage::Resume(noom_shared::Resume {
            token: token.clone(),
        })
    }

    #[test]
    fn a_lost_connection_holds_its_seat_and_resumes_unseen() {
        let mut hub = hub_with(&["a", "b"], 8);
        send(&mut hub, "a", join("r", "A"));
        let token = session_token(&send(&mut hub, "b", join("r", "B")));
        assert_eq!(
            hub.disconnect(&peer("b"), true, 100),
            None,
            "held, nobody told"
        );
        assert!(hub.is_held(&peer("b")));
        assert_eq!(hub.room_list().rooms[0].participants, 2);

        hub.connect(peer("b2"));
        let out = send(&mut hub, "b2", resume(&token));
        assert!(
            out.iter().all(|o| o.to == vec![peer("b")]),
            "only the resumer hears of it"
        );
        let ServerMessage::Resumed(resumed) = &out[0].message else {
            panic!("{out:?}")
        };
        assert_eq!((resumed.peer_id.clone(), out[0].id), (peer("b"), Some(1)));
        assert_eq!(resumed.peers[0].peer_id, peer("a"));
        assert_ne!(session_token(&out), token, "tokens are used once");
        assert!(!hub.is_held(&peer("b")));
        assert_eq!(hub.lobby().count(), 0);

        hub.connect(peer("b3"));
        assert_eq!(
            error_code(&send(&mut hub, "b3", resume(&token))),
            Some(ErrorCode::InvalidToken)
        );
    }

    #[test]
    fn a_seat_resumed_on_another_node_is_released_here() {
        let mut hub = hub_with(&["a", "b"], 8);
        send(&mut hub, "a", join("r", "A"));
        let token = session_token(&send(&mut hub, "b", join("r", "B")));
        // The client reconnected to another node, whose connection id is unknown here.
        let out = hub.apply(Event::Resume {
            seat: peer("b"),
            conn: peer("elsewhere"),
            room: RoomName::new("r").unwrap(),
            old_token: token.clone(),
            token: ResumeToken::new("fresh0000000000000").unwrap(),
            request: None,
        });
        assert!(out.is_empty(), "the room sees nothing");
        assert_eq!(
            hub.local_member_joins().len(),
            1,
            "only Ada is still this node's"
        );
        assert!(!hub.resume_fits(&peer("b"), &token));
        // Bob's messages are still delivered (by his new node): he is a member everywhere.
        let out = send(
            &mut hub,
            "a",
            ClientMessage::Chat(ChatSend {
                text: noom_shared::ChatText::new("hi").unwrap(),
            }),
        );
        assert_eq!(out[0].to, vec![peer("a"), peer("b")]);
    }

    #[test]
    fn a_held_seat_expires_into_gone_and_a_closed_one_goes_at_once() {
        let mut hub = hub_with(&["a", "b", "c"], 8);
        send(&mut hub, "a", join("r", "A"));
        let token = session_token(&send(&mut hub, "b", join("r", "B")));
        send(&mut hub, "c", join("r", "C"));
        assert_eq!(
            hub.disconnect(&peer("c"), false, 0),
            Some(Event::Gone { peer: peer("c") })
        );

        hub.disconnect(&peer("b"), true, 100);
        assert!(hub.expire_held_seats(1099).is_empty());
        let expired = hub.expire_held_seats(1100);
        assert_eq!(expired, vec![Event::Gone { peer: peer("b") }]);
        assert!(hub.expire_held_seats(5000).is_empty(), "expired once");
        let out = hub.apply(expired[0].clone());
        assert!(matches!(&out[0].message, ServerMessage::PeerLeft(p) if p.peer_id == peer("b")));
        hub.connect(peer("late"));
        assert_eq!(
            error_code(&send(&mut hub, "late", resume(&token))),
            Some(ErrorCode::InvalidToken)
        );
    }

    #[test]
    fn held_seats_expire_in_deadline_order_and_a_resumed_one_never_does() {
        let mut hub = hub_with(&["a", "b", "c"], 8);
        send(&mut hub, "a", join("r", "A"));
        let token = session_token(&send(&mut hub, "b", join("r", "B")));
        send(&mut hub, "c", join("r", "C"));
        hub.disconnect(&peer("c"), true, 300);
        hub.disconnect(&peer("a"), true, 100);
        hub.disconnect(&peer("b"), true, 200);
        hub.connect(peer("b2"));
        send(&mut hub, "b2", resume(&token));

        assert_eq!(
            hub.expire_held_seats(5000),
            vec![
                Event::Gone { peer: peer("a") },
                Event::Gone { peer: peer("c") }
            ],
            "earliest first; Bob took his seat back"
        );
        assert!(hub.expire_held_seats(10_000).is_empty());
        assert!(!hub.is_held(&peer("a")) && !hub.is_held(&peer("c")));
    }
}
