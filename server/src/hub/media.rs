//! How each room's media travels: peer to peer while it has at most `--mesh-max` members, then
//! through the SFU, and back when it shrinks again. Everyone stays in the room across a switch;
//! its members are told with `media_changed`, and the media task is told who now sends and
//! receives through it (see `take_media_changes`).
//!
//! In a cluster, an SFU room's media lives on one node, its media node: the node of the member
//! whose join made it an SFU room. Every hub applies the same events in the same order, so all
//! agree on it, and only the media node's hub tells its media task. Members on other nodes
//! reach that SFU through Redis (`Event::Sfu`, `Event::SfuTell`). A room whose media node has no
//! member left in it (it died, and its peers were reaped; or its last member left or resumed
//! elsewhere) moves to the node of its earliest member, and everyone is told `media_changed`
//! again, to connect to the new one.

use noom_shared::{Media, MediaChanged, PeerId, RoomName, ServerMessage};

use super::{Hub, Outgoing, Refusal, SfuRequest, refusals};
use crate::hub::Event;

/// What the media task must hear after an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaChange {
    /// This local member now sends and receives its media through the SFU, in this room.
    Enter(PeerId, RoomName),
    /// This member no longer does (it left, or its room went back to the mesh, or moved).
    Exit(PeerId),
    /// A member of a room whose media is on this node asks this of the SFU.
    Request(PeerId, SfuRequest),
}

impl Hub {
    /// A hub whose rooms move to the SFU beyond `mesh_max` members (`None`: no SFU).
    pub fn with_sfu_if(mut self, mesh_max: Option<usize>) -> Self {
        self.mesh_max = mesh_max;
        self
    }

    /// What the media task must hear since it was last told.
    pub fn take_media_changes(&mut self) -> Vec<MediaChange> {
        std::mem::take(&mut self.media_changes)
    }

    /// How the media of `peer`'s room travels, if it is in one.
    pub fn media_of(&self, peer: &PeerId) -> Option<Media> {
        let (room, _) = self.membership(peer)?;
        Some(self.room_media(room))
    }

    pub(super) fn room_media(&self, room: &RoomName) -> Media {
        self.rooms.get(room).map_or(Media::Mesh, |r| r.media)
    }

    /// `joiner` was just added to `room`: the room moves to the SFU if it outgrew the mesh,
    /// and the joiner enters the SFU if the room uses it. Returns the room's media now.
    pub(super) fn media_after_join(
        &mut self,
        room: &RoomName,
        joiner: &PeerId,
        out: &mut Vec<Outgoing>,
    ) -> Media {
        let Some(mesh_max) = self.mesh_max else {
            return Media::Mesh;
        };
        // The room's media node, if this join makes it an SFU room.
        let joiner_node = self.node_of(joiner);
        let Some(state) = self.rooms.get_mut(room) else {
            return Media::Mesh;
        };
        if state.media == Media::Mesh && state.members.len() > mesh_max {
            state.media = Media::Sfu;
            state.media_node = joiner_node;
            let others: Vec<PeerId> = state
                .members
                .iter()
                .filter(|m| *m != joiner)
                .cloned()
                .collect();
            self.tell_media(&others, Media::Sfu, out);
            for member in others {
                self.enter_sfu(member, room);
            }
        }
        let media = self.room_media(room);
        if media == Media::Sfu {
            self.enter_sfu(joiner.clone(), room);
        }
        media
    }

    /// `leaver` just left `room` (which may be gone, if it was the last).
    pub(super) fn media_after_leave(
        &mut self,
        room: &RoomName,
        leaver: &PeerId,
        out: &mut Vec<Outgoing>,
    ) {
        let Some(mesh_max) = self.mesh_max else {
            return;
        };
        // Whether or not it was in the SFU: a no-op for the media task if it was not.
        self.media_changes.push(MediaChange::Exit(leaver.clone()));
        let Some(state) = self.rooms.get_mut(room) else {
            return;
        };
        if state.media == Media::Sfu && state.members.len() <= mesh_max {
            state.media = Media::Mesh;
            state.media_node = None;
            let members = state.members.clone();
            self.tell_media(&members, Media::Mesh, out);
            self.media_changes
                .extend(members.into_iter().map(MediaChange::Exit));
        } else {
            self.keep_media_with_members(room, out);
        }
    }

    /// Moves an SFU room's media to the node of its earliest member if no member is on its
    /// media node any more; its members are told to connect again.
    pub(super) fn keep_media_with_members(&mut self, room: &RoomName, out: &mut Vec<Outgoing>) {
        let Some(state) = self.rooms.get(room).filter(|r| r.media == Media::Sfu) else {
            return;
        };
        let members = state.members.clone();
        let media_node = state.media_node.clone();
        if members.iter().any(|m| self.node_of(m) == media_node) {
            return;
        }
        let was_here = self.hosts_media(room);
        let new_node = members.first().and_then(|first| self.node_of(first));
        if let Some(state) = self.rooms.get_mut(room) {
            state.media_node = new_node;
        }
        self.tell_media(&members, Media::Sfu, out);
        if was_here {
            self.media_changes
                .extend(members.iter().cloned().map(MediaChange::Exit));
        }
        for member in members {
            self.enter_sfu(member, room);
        }
    }

    /// Whether the SFU of this node carries `room`'s media (always, on a single node).
    fn hosts_media(&self, room: &RoomName) -> bool {
        self.rooms
            .get(room)
            .is_some_and(|r| r.media == Media::Sfu && r.media_node == self.node)
    }

    /// `from`'s request of the SFU, if its room uses one.
    pub(super) fn check_sfu_request(
        &self,
        from: &PeerId,
        request: SfuRequest,
    ) -> Result<Event, Refusal> {
        match self.media_of(from) {
            Some(Media::Sfu) if self.mesh_max.is_some() => Ok(Event::Sfu {
                peer: from.clone(),
                request,
            }),
            _ => Err(refusals::NOT_SFU),
        }
    }

    /// An SFU request, for this node's media task if the member's room's media is here.
    pub(super) fn sfu_request(&mut self, peer: PeerId, request: SfuRequest) {
        let here = self
            .membership(&peer)
            .is_some_and(|(room, _)| self.hosts_media(room));
        if here {
            self.media_changes.push(MediaChange::Request(peer, request));
        }
    }

    fn enter_sfu(&mut self, member: PeerId, room: &RoomName) {
        if self.hosts_media(room) {
            self.media_changes
                .push(MediaChange::Enter(member, room.clone()));
        }
    }

    fn tell_media(&self, members: &[PeerId], media: Media, out: &mut Vec<Outgoing>) {
        if !members.is_empty() {
            out.push(Outgoing {
                to: members.to_vec(),
                id: None,
                message: ServerMessage::MediaChanged(MediaChanged { media }),
            });
        }
    }
}
