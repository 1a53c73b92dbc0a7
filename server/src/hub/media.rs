//! How each room's media travels: peer to peer while it has at most `--mesh-max` members, then
//! through the SFU, and back when it shrinks again. Everyone stays in the room across a switch;
//! its members are told with `media_changed`, and the media task is told who now sends and
//! receives through it (see `take_media_changes`).

use noom_shared::{Media, MediaChanged, PeerId, RoomName, ServerMessage};

use super::{Hub, Outgoing};

/// What the media task must hear after an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaChange {
    /// This local member now sends and receives its media through the SFU, in this room.
    Enter(PeerId, RoomName),
    /// This member no longer does (it left, or its room went back to the mesh).
    Exit(PeerId),
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
        let Some(state) = self.rooms.get_mut(room) else {
            return Media::Mesh;
        };
        if state.media == Media::Mesh && state.members.len() > mesh_max {
            state.media = Media::Sfu;
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
            let members = state.members.clone();
            self.tell_media(&members, Media::Mesh, out);
            self.media_changes
                .extend(members.into_iter().map(MediaChange::Exit));
        }
    }

    fn enter_sfu(&mut self, member: PeerId, room: &RoomName) {
        if self.is_local(&member) {
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
