//! The room logic: plain data and functions, no sockets, no async. The switchboard feeds it
//! decoded messages and delivers what it returns.

use std::collections::{BTreeMap, HashMap};

use noom_shared::{
    ChatMessage, ClientMessage, Envelope, ErrorCode, Join, Joined, Left, Nickname, PeerId,
    PeerInfo, PeerLeft, PeerStatus, PeerStatusUpdate, RoomInfo, RoomName, Rooms, ServerMessage,
    SignalFrom,
};

/// A message for one or more peers; the switchboard encodes it once for all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub to: Vec<PeerId>,
    /// The `id` of the request this directly answers.
    pub id: Option<u32>,
    pub message: ServerMessage,
}

#[derive(Debug, Default)]
struct Peer {
    /// The room and the nickname used in it; `None` while in the lobby.
    membership: Option<(RoomName, Nickname)>,
    status: PeerStatus,
}

#[derive(Debug, Default)]
struct Room {
    /// In the order they joined.
    members: Vec<PeerId>,
}

/// Every connected peer and every room of one server.
#[derive(Debug)]
pub struct Hub {
    max_room_size: usize,
    peers: HashMap<PeerId, Peer>,
    rooms: BTreeMap<RoomName, Room>,
    room_list_changed: bool,
}

impl Hub {
    pub fn new(max_room_size: usize) -> Self {
        Self {
            max_room_size,
            peers: HashMap::new(),
            rooms: BTreeMap::new(),
            room_list_changed: false,
        }
    }

    /// A new connection, in the lobby.
    pub fn connect(&mut self, peer: PeerId) {
        self.peers.insert(peer, Peer::default());
    }

    /// A closed connection: same as `leave`, then forgotten.
    pub fn disconnect(&mut self, peer: &PeerId) -> Vec<Outgoing> {
        let mut out = Vec::new();
        self.leave_room(peer, &mut out);
        self.peers.remove(peer);
        out
    }

    /// Handles one message from `from`; `now_ms` stamps chat messages.
    pub fn handle(
        &mut self,
        from: &PeerId,
        envelope: Envelope<ClientMessage>,
        now_ms: u64,
    ) -> Vec<Outgoing> {
        let id = envelope.id;
        let mut out = Vec::new();
        let result = match envelope.message {
            ClientMessage::ListRooms(_) => {
                out.push(Outgoing {
                    to: vec![from.clone()],
                    id,
                    message: ServerMessage::Rooms(self.room_list()),
                });
                Ok(())
            }
            ClientMessage::Join(join) => self.join(from, join, id, &mut out),
            ClientMessage::Leave(_) => match self.leave_room(from, &mut out) {
                Some(room) => {
                    out.insert(
                        0,
                        Outgoing {
                            to: vec![from.clone()],
                            id,
                            message: ServerMessage::Left(Left { room }),
                        },
                    );
                    Ok(())
                }
                None => Err((ErrorCode::NotInRoom, "you are not in a room")),
            },
            ClientMessage::Signal(signal) => self.room_of(from).and_then(|(room, _)| {
                let reachable = signal.to != *from
                    && self
                        .rooms
                        .get(room)
                        .is_some_and(|r| r.members.contains(&signal.to));
                if !reachable {
                    return Err((ErrorCode::UnknownPeer, "no such peer in your room"));
                }
                out.push(Outgoing {
                    to: vec![signal.to],
                    id: None,
                    message: ServerMessage::Signal(SignalFrom {
                        from: from.clone(),
                        data: signal.data,
                    }),
                });
                Ok(())
            }),
            ClientMessage::Chat(chat) => self.room_of(from).map(|(room, nickname)| {
                out.push(Outgoing {
                    to: self.members(room),
                    id: None,
                    message: ServerMessage::Chat(ChatMessage {
                        from: from.clone(),
                        nickname: nickname.clone(),
                        text: chat.text,
                        ts: now_ms,
                    }),
                });
            }),
            ClientMessage::SetNickname(set) => self
                .room_of(from)
                .map(|(room, _)| room.clone())
                .map(|room| {
                    if let Some(peer) = self.peers.get_mut(from) {
                        peer.membership = Some((room.clone(), set.nickname.clone()));
                    }
                    out.push(Outgoing {
                        to: self.members(&room),
                        id: None,
                        message: ServerMessage::PeerUpdated(PeerInfo {
                            peer_id: from.clone(),
                            nickname: set.nickname,
                        }),
                    });
                }),
            ClientMessage::SetStatus(status) => self
                .room_of(from)
                .map(|(room, _)| room.clone())
                .map(|room| {
                    if let Some(peer) = self.peers.get_mut(from) {
                        peer.status = status;
                    }
                    out.push(Outgoing {
                        to: self.members(&room),
                        id: None,
                        message: status_update(from, status),
                    });
                }),
        };
        if let Err((code, message)) = result {
            out.push(Outgoing {
                to: vec![from.clone()],
                id,
                message: ServerMessage::error(code, message),
            });
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

    /// The peers not in any room: they watch the room list.
    pub fn lobby(&self) -> impl Iterator<Item = &PeerId> {
        self.peers
            .iter()
            .filter(|(_, peer)| peer.membership.is_none())
            .map(|(id, _)| id)
    }

    fn join(
        &mut self,
        from: &PeerId,
        join: Join,
        id: Option<u32>,
        out: &mut Vec<Outgoing>,
    ) -> Result<(), (ErrorCode, &'static str)> {
        let peer = self
            .peers
            .get(from)
            .ok_or((ErrorCode::NotInRoom, "unknown connection"))?;
        if peer.membership.is_some() {
            return Err((
                ErrorCode::AlreadyInRoom,
                "leave your room before joining another",
            ));
        }
        let room = self.rooms.entry(join.room.clone()).or_default();
        if room.members.len() >= self.max_room_size {
            return Err((ErrorCode::RoomFull, "this room is full"));
        }
        let existing = room.members.clone();
        room.members.push(from.clone());
        self.room_list_changed = true;

        let peers = existing
            .iter()
            .filter_map(|id| {
                Some(PeerInfo {
                    peer_id: id.clone(),
                    nickname: self.nickname(id)?,
                })
            })
            .collect();
        out.push(Outgoing {
            to: vec![from.clone()],
            id,
            message: ServerMessage::Joined(Joined {
                room: join.room.clone(),
                peer_id: from.clone(),
                peers,
            }),
        });
        for other in &existing {
            if let Some(status) = self.peers.get(other).map(|p| p.status)
                && status != PeerStatus::default()
            {
                out.push(Outgoing {
                    to: vec![from.clone()],
                    id: None,
                    message: status_update(other, status),
                });
            }
        }
        if !existing.is_empty() {
            out.push(Outgoing {
                to: existing,
                id: None,
                message: ServerMessage::PeerJoined(PeerInfo {
                    peer_id: from.clone(),
                    nickname: join.nickname.clone(),
                }),
            });
        }
        if let Some(peer) = self.peers.get_mut(from) {
            peer.membership = Some((join.room, join.nickname));
            peer.status = PeerStatus::default();
        }
        Ok(())
    }

    /// Takes `peer` out of its room, telling the others; returns the room it was in.
    fn leave_room(&mut self, peer: &PeerId, out: &mut Vec<Outgoing>) -> Option<RoomName> {
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

    fn room_of(&self, peer: &PeerId) -> Result<(&RoomName, &Nickname), (ErrorCode, &'static str)> {
        self.peers
            .get(peer)
            .and_then(|p| p.membership.as_ref())
            .map(|(room, nickname)| (room, nickname))
            .ok_or((ErrorCode::NotInRoom, "join a room first"))
    }

    fn nickname(&self, peer: &PeerId) -> Option<Nickname> {
        self.peers
            .get(peer)?
            .membership
            .as_ref()
            .map(|(_, nick)| nick.clone())
    }

    fn members(&self, room: &RoomName) -> Vec<PeerId> {
        self.rooms
            .get(room)
            .map(|r| r.members.clone())
            .unwrap_or_default()
    }
}

fn status_update(peer: &PeerId, status: PeerStatus) -> ServerMessage {
    ServerMessage::PeerStatus(PeerStatusUpdate {
        peer_id: peer.clone(),
        status,
    })
}

#[cfg(test)]
mod tests {
    use noom_shared::{ChatSend, ChatText, Empty, SetNickname, SignalData, SignalTo};

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

    fn hub_with(ids: &[&str], max: usize) -> Hub {
        let mut hub = Hub::new(max);
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
        assert_eq!(out.len(), 2);
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
        assert_eq!(out[1].to, vec![peer("a")]);
        assert!(matches!(&out[1].message, ServerMessage::PeerJoined(p) if p.peer_id == peer("b")));
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
        assert!(hub.disconnect(&peer("a")).is_empty());
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
        hub.disconnect(&peer("a"));
        assert!(hub.take_room_list_change().unwrap().rooms.is_empty());
    }
}
