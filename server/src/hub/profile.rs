//! What members say about themselves: their nickname and their status (muted, camera off,
//! presenting, hand raised), told to the room and to whoever joins later.

use noom_shared::{
    Nickname, PeerId, PeerInfo, PeerStatus, PeerStatusUpdate, RoomName, ServerMessage,
};

use super::{Hub, Outgoing, Refusal, refusals};

impl Hub {
    pub(super) fn rename(&mut self, peer: PeerId, nickname: Nickname, out: &mut Vec<Outgoing>) {
        let Some((room, _)) = self.membership(&peer).cloned() else {
            return;
        };
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

    pub(super) fn set_status(
        &mut self,
        peer: &PeerId,
        status: PeerStatus,
        out: &mut Vec<Outgoing>,
    ) {
        let Some((room, _)) = self.membership(peer).cloned() else {
            return;
        };
        if let Some(state) = self.peers.get_mut(peer) {
            state.status = status;
        }
        out.push(Outgoing {
            to: self.members(&room),
            id: None,
            message: status_update(peer, status),
        });
    }

    /// Whether `nickname` is free in `room` (ignoring case and width), but for `renaming`'s own.
    pub(super) fn check_nickname_free(
        &self,
        room: &RoomName,
        nickname: &Nickname,
        renaming: Option<&PeerId>,
    ) -> Result<(), Refusal> {
        let members = self.rooms.get(room).map_or(&[][..], |r| &r.members[..]);
        let taken = members
            .iter()
            .filter(|m| Some(*m) != renaming)
            .any(|member| {
                self.membership(member)
                    .is_some_and(|(_, theirs)| theirs.same_as(nickname))
            });
        if taken {
            Err(refusals::NICKNAME_TAKEN)
        } else {
            Ok(())
        }
    }

    /// Tells `peer` the status of each of `others` that is not the default.
    pub(super) fn tell_statuses(&self, peer: &PeerId, others: &[PeerId], out: &mut Vec<Outgoing>) {
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
}

pub(super) fn status_update(peer: &PeerId, status: PeerStatus) -> ServerMessage {
    ServerMessage::PeerStatus(PeerStatusUpdate {
        peer_id: peer.clone(),
        status,
    })
}
