//! A room's host: the first to join, then whoever the host hands the role to; when the host
//! leaves (not when its seat is merely held), the member present longest. Only the host may
//! hand the role over, ask a member to mute, or take a member out of the room.

use noom_shared::{MediaKind, MutedByHost, PeerId, PeerTarget, RoomName, ServerMessage};

use super::{Hub, Outgoing, Refusal, refusals};

impl Hub {
    /// The host of `room`, if the room exists.
    pub fn host_of(&self, room: &RoomName) -> Option<&PeerId> {
        self.rooms.get(room)?.host.as_ref()
    }

    /// Checks a host's request from `from` about `target`: `from` must be its room's host
    /// and `target` another member of that room.
    pub(super) fn check_host_request(&self, from: &PeerId, target: &PeerId) -> Result<(), Refusal> {
        let room = self.check_is_host(from)?;
        let same_room = self.membership(target).is_some_and(|(r, _)| r == room);
        if target == from || !same_room {
            return Err(refusals::UNKNOWN_PEER);
        }
        Ok(())
    }

    /// The room `from` is the host of.
    pub(super) fn check_is_host(&self, from: &PeerId) -> Result<&RoomName, Refusal> {
        let room = self.room_of(from)?;
        if self.host_of(room) == Some(from) {
            Ok(room)
        } else {
            Err(refusals::NOT_HOST)
        }
    }

    /// `by` hands the host's role to `peer`, if both are still where they were.
    pub(super) fn make_host(&mut self, by: &PeerId, peer: PeerId, out: &mut Vec<Outgoing>) {
        if self.check_host_request(by, &peer).is_err() {
            return;
        }
        let Some((room, _)) = self.membership(&peer).cloned() else {
            return;
        };
        self.set_host(&room, peer, out);
    }

    /// The host asks `peer` to turn off its `kind`.
    pub(super) fn mute(&self, peer: PeerId, kind: MediaKind, out: &mut Vec<Outgoing>) {
        if self.membership(&peer).is_some() {
            out.push(Outgoing {
                to: vec![peer],
                id: None,
                message: ServerMessage::MutedByHost(MutedByHost { kind }),
            });
        }
    }

    /// The host takes `peer` out of its room at once: no seat is held for it and its resume
    /// token is void; the others see it leave, and it is told.
    pub(super) fn remove(&mut self, peer: PeerId, out: &mut Vec<Outgoing>) {
        if self.leave_room(&peer, out).is_none() {
            return;
        }
        if self.is_local(&peer) {
            out.push(Outgoing {
                to: vec![peer],
                id: None,
                message: ServerMessage::Removed(noom_shared::Empty {}),
            });
        } else {
            self.peers.remove(&peer);
        }
    }

    /// `gone` has just left `room`: if it was the host, the member present longest is now.
    pub(super) fn succeed_host(&mut self, room: &RoomName, gone: &PeerId, out: &mut Vec<Outgoing>) {
        let Some(state) = self.rooms.get(room) else {
            return;
        };
        if state.host.as_ref() != Some(gone) {
            return;
        }
        if let Some(longest) = state.members.first().cloned() {
            self.set_host(room, longest, out);
        }
    }

    fn set_host(&mut self, room: &RoomName, host: PeerId, out: &mut Vec<Outgoing>) {
        let Some(state) = self.rooms.get_mut(room) else {
            return;
        };
        state.host = Some(host.clone());
        out.push(Outgoing {
            to: state.members.clone(),
            id: None,
            message: ServerMessage::HostChanged(PeerTarget {
                peer_id: host.clone(),
            }),
        });
        self.pass_knocks_on(room, &host, out);
    }
}
