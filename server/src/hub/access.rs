//! Who gets into a room: its password and its lobby. A room with a password admits a join that
//! carries it (checked off the lock: [`PasswordWork`]); a room with the lobby on makes a joiner
//! knock, and the host admits or denies it. A waiter who leaves withdraws its knock; when the
//! room empties, its waiters are told the meeting ended.

use noom_shared::{
    Join, Nickname, PeerId, PeerInfo, PeerTarget, RoomAccess, RoomName, RoomPassword,
    ServerMessage, Waiting,
};
use serde::{Deserialize, Serialize};

use super::{Decision, Event, Hub, Outgoing, Refusal, refusals};
use crate::passwords::PasswordHash;

/// Joiners waiting in one room's lobby at most; more are refused until some are answered.
pub const MAX_WAITING: usize = 50;

/// What keeps a room shut.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub password: Option<PasswordHash>,
    pub lobby: bool,
}

impl Access {
    /// As the room's members are told it.
    pub fn told(&self) -> RoomAccess {
        RoomAccess {
            has_password: self.password.is_some(),
            lobby: self.lobby,
        }
    }
}

/// A request that needs a password hashed or checked before it can be decided: slow on
/// purpose, so the caller does it off its lock ([`PasswordWork::run`]) and hands the result to
/// [`Hub::decide_checked`].
#[derive(Debug, Clone, PartialEq)]
pub enum PasswordWork {
    /// The host sets a password.
    Hash {
        from: PeerId,
        id: Option<u32>,
        password: RoomPassword,
        lobby: bool,
    },
    /// A join brings a password for a room that has one.
    Check {
        from: PeerId,
        id: Option<u32>,
        join: Join,
        hash: PasswordHash,
    },
}

/// A [`PasswordWork`] done.
#[derive(Debug)]
pub enum Checked {
    Hashed {
        from: PeerId,
        id: Option<u32>,
        hash: Option<PasswordHash>,
        lobby: bool,
    },
    Right {
        from: PeerId,
        id: Option<u32>,
        join: Join,
        hash: PasswordHash,
    },
    Wrong {
        from: PeerId,
        id: Option<u32>,
    },
}

impl PasswordWork {
    /// Hashes or checks: tens of milliseconds of CPU.
    pub fn run(self) -> Checked {
        match self {
            Self::Hash {
                from,
                id,
                password,
                lobby,
            } => Checked::Hashed {
                from,
                id,
                hash: PasswordHash::of(&password),
                lobby,
            },
            Self::Check {
                from,
                id,
                join,
                hash,
            } => match join.password.as_ref().is_some_and(|p| hash.matches(p)) {
                true => Checked::Right {
                    from,
                    id,
                    join,
                    hash,
                },
                false => Checked::Wrong { from, id },
            },
        }
    }

    /// Whether this is a guess at a room's password (counted against the guesser's address).
    pub fn is_guess(&self) -> bool {
        matches!(self, Self::Check { .. })
    }

    /// Who asked.
    pub fn from(&self) -> &PeerId {
        match self {
            Self::Hash { from, .. } | Self::Check { from, .. } => from,
        }
    }

    /// The request's `id`.
    pub fn id(&self) -> Option<u32> {
        match self {
            Self::Hash { id, .. } | Self::Check { id, .. } => *id,
        }
    }
}

impl Hub {
    /// A join: refused, knocked, checked first, or let in.
    pub(super) fn decide_join(
        &self,
        from: &PeerId,
        join: Join,
        id: Option<u32>,
        verified: Option<&PasswordHash>,
    ) -> Decision {
        // Checks that cost nothing and tell nothing about the room come before the password's
        // slow check; the nickname's, which would tell who is in, only after it.
        if let Err(refusal) = self.check_join(from, &join.room) {
            return self.refuse(from, id, refusal);
        }
        let access = self.rooms.get(&join.room).map(|r| &r.access);
        if let Some(hash) = access.and_then(|a| a.password.as_ref())
            && verified != Some(hash)
        {
            if join.password.is_none() {
                return self.refuse(from, id, refusals::PASSWORD_NEEDED);
            }
            return Decision::Verify(PasswordWork::Check {
                from: from.clone(),
                id,
                join,
                hash: hash.clone(),
            });
        }
        if let Err(refusal) = self.check_nickname_free(&join.room, &join.nickname, None) {
            return self.refuse(from, id, refusal);
        }
        if access.is_some_and(|a| a.lobby) {
            if self.waiting(&join.room).len() >= MAX_WAITING {
                return self.refuse(from, id, refusals::TOO_MANY_WAITING);
            }
            return Decision::Apply(Event::Knock {
                peer: from.clone(),
                room: join.room,
                nickname: join.nickname,
                request: id,
            });
        }
        Decision::Apply(Event::Join {
            peer: from.clone(),
            room: join.room,
            nickname: join.nickname,
            token: Some((self.resume.new_token)()),
            request: id,
            password: verified.cloned(),
            admitted: false,
            node: None,
        })
    }

    /// A `set_room_access`: from the host only; a password is hashed first.
    pub(super) fn decide_access(
        &self,
        from: &PeerId,
        id: Option<u32>,
        password: Option<RoomPassword>,
        lobby: bool,
    ) -> Decision {
        if let Err(refusal) = self.check_is_host(from) {
            return self.refuse(from, id, refusal);
        }
        match password {
            Some(password) => Decision::Verify(PasswordWork::Hash {
                from: from.clone(),
                id,
                password,
                lobby,
            }),
            None => self.decide_checked(Checked::Hashed {
                from: from.clone(),
                id,
                hash: None,
                lobby,
            }),
        }
    }

    /// Decides a request whose password work is done.
    pub fn decide_checked(&self, checked: Checked) -> Decision {
        match checked {
            Checked::Hashed {
                from,
                id,
                hash,
                lobby,
            } => match self.check_is_host(&from) {
                Err(refusal) => self.refuse(&from, id, refusal),
                Ok(room) => Decision::Apply(Event::SetAccess {
                    room: room.clone(),
                    access: Access {
                        password: hash,
                        lobby,
                    },
                }),
            },
            Checked::Right {
                from,
                id,
                join,
                hash,
            } => self.decide_join(&from, join, id, Some(&hash)),
            Checked::Wrong { from, id } => self.refuse(&from, id, refusals::WRONG_PASSWORD),
        }
    }

    /// The host answers a knock: `peer` must be waiting for the host's room.
    pub(super) fn check_knock_answer(&self, from: &PeerId, peer: &PeerId) -> Result<(), Refusal> {
        let room = self.check_is_host(from)?;
        if self.knocking(peer).is_some_and(|(r, _)| r == room) {
            Ok(())
        } else {
            Err(refusals::NOT_WAITING)
        }
    }

    /// The room `peer` knocks at, and the nickname it asked for.
    pub(super) fn knocking(&self, peer: &PeerId) -> Option<&(RoomName, Nickname)> {
        self.peers.get(peer)?.knocking.as_ref()
    }

    fn waiting(&self, room: &RoomName) -> &[PeerId] {
        self.rooms.get(room).map_or(&[], |r| &r.waiting[..])
    }

    /// The room's password and lobby, as set.
    pub(super) fn set_access(&mut self, room: &RoomName, access: Access, out: &mut Vec<Outgoing>) {
        let Some(state) = self.rooms.get_mut(room) else {
            return;
        };
        if state.access.told().is_locked() != access.told().is_locked() {
            self.room_list_version += 1;
        }
        state.access = access;
        let told = state.access.told();
        out.push(Outgoing {
            to: state.members.clone(),
            id: None,
            message: ServerMessage::RoomAccess(told),
        });
    }

    /// Tells `peer`, who has just come in, how `room` is shut, if it is.
    pub(super) fn tell_access(&self, peer: &PeerId, room: &RoomName, out: &mut Vec<Outgoing>) {
        if let Some(state) = self.rooms.get(room)
            && state.access.told().is_locked()
        {
            out.push(Outgoing {
                to: vec![peer.clone()],
                id: None,
                message: ServerMessage::RoomAccess(state.access.told()),
            });
        }
    }

    /// `peer` waits to be let into `room`; the host is asked.
    pub(super) fn knock(
        &mut self,
        peer: PeerId,
        room: RoomName,
        nickname: Nickname,
        request: Option<u32>,
        out: &mut Vec<Outgoing>,
    ) {
        let Some(state) = self.rooms.get_mut(&room) else {
            return;
        };
        if state.waiting.contains(&peer) {
            return;
        }
        state.waiting.push(peer.clone());
        let host = state.host.clone();
        let waiter = self
            .peers
            .entry(peer.clone())
            .or_insert_with(|| super::Peer::new(false));
        waiter.knocking = Some((room.clone(), nickname.clone()));
        if waiter.local {
            out.push(Outgoing {
                to: vec![peer.clone()],
                id: request,
                message: ServerMessage::Waiting(Waiting { room }),
            });
        }
        out.extend(host.map(|host| knock_to(host, peer, nickname)));
    }

    /// The host lets `peer` in: on the waiter's own node, its join follows (through Redis in a
    /// cluster, which keeps the room's size), returned here. A room that filled up, or a
    /// nickname taken meanwhile, turns the waiter away instead.
    pub(super) fn admit(
        &mut self,
        by: &PeerId,
        peer: PeerId,
        out: &mut Vec<Outgoing>,
    ) -> Option<Event> {
        self.check_knock_answer(by, &peer).ok()?;
        let (room, nickname) = self.stop_waiting(&peer)?;
        if !self.is_local(&peer) {
            self.peers.remove(&peer);
            return None;
        }
        let full = self
            .max_room_size
            .is_some_and(|max| self.room_size(&room) >= max);
        let refused = if full {
            Err(refusals::ROOM_FULL)
        } else {
            self.check_nickname_free(&room, &nickname, None)
        };
        if let Err(refusal) = refused {
            self.tell_denied(peer, refusal, out);
            return None;
        }
        Some(Event::Join {
            peer,
            room,
            nickname,
            token: Some((self.resume.new_token)()),
            request: None,
            password: None,
            admitted: true,
            node: None,
        })
    }

    /// The host turns `peer` away: it is told so, in the lobby again.
    pub(super) fn deny(&mut self, by: &PeerId, peer: PeerId, out: &mut Vec<Outgoing>) {
        if self.check_knock_answer(by, &peer).is_err() || self.stop_waiting(&peer).is_none() {
            return;
        }
        self.tell_denied(peer, refusals::DENIED, out);
    }

    /// `peer` stops waiting (it left, or its connection is gone): the host is told.
    pub(super) fn withdraw(&mut self, peer: &PeerId, out: &mut Vec<Outgoing>) -> Option<RoomName> {
        let (room, _) = self.stop_waiting(peer)?;
        if let Some(host) = self.host_of(&room) {
            out.push(Outgoing {
                to: vec![host.clone()],
                id: None,
                message: ServerMessage::KnockWithdrawn(PeerTarget {
                    peer_id: peer.clone(),
                }),
            });
        }
        Some(room)
    }

    /// `room` has emptied: its waiters are told the meeting ended.
    pub(super) fn turn_away_waiters(&mut self, waiters: Vec<PeerId>, out: &mut Vec<Outgoing>) {
        for peer in waiters {
            if let Some(state) = self.peers.get_mut(&peer) {
                state.knocking = None;
            }
            self.tell_denied(peer, refusals::MEETING_ENDED, out);
        }
    }

    /// Sends the knocks still waiting for `room` to its new host.
    pub(super) fn pass_knocks_on(&self, room: &RoomName, host: &PeerId, out: &mut Vec<Outgoing>) {
        for waiter in self.waiting(room) {
            if let Some((_, nickname)) = self.knocking(waiter) {
                out.push(knock_to(host.clone(), waiter.clone(), nickname.clone()));
            }
        }
    }

    fn tell_denied(&mut self, peer: PeerId, (code, text): Refusal, out: &mut Vec<Outgoing>) {
        if self.is_local(&peer) {
            out.push(Outgoing {
                to: vec![peer],
                id: None,
                message: ServerMessage::error(code, text),
            });
        } else {
            self.peers.remove(&peer);
        }
    }

    /// Takes `peer` off its room's waiting list: the room and nickname it waited with.
    pub(super) fn stop_waiting(&mut self, peer: &PeerId) -> Option<(RoomName, Nickname)> {
        let (room, nickname) = self.peers.get_mut(peer)?.knocking.take()?;
        if let Some(state) = self.rooms.get_mut(&room) {
            state.waiting.retain(|w| w != peer);
        }
        Some((room, nickname))
    }
}

fn knock_to(host: PeerId, peer: PeerId, nickname: Nickname) -> Outgoing {
    Outgoing {
        to: vec![host],
        id: None,
        message: ServerMessage::Knock(PeerInfo {
            peer_id: peer,
            nickname,
        }),
    }
}
