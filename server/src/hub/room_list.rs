//! What the lobby sees of the rooms: their list, its version, and who is in the lobby.

use noom_shared::{PeerId, RoomInfo, RoomName, Rooms};

use super::Hub;

impl Hub {
    /// How many people `room` has (0 when there is no such room).
    pub fn room_size(&self, room: &RoomName) -> usize {
        self.rooms.get(room).map_or(0, |r| r.members.len())
    }

    /// Changes with every change to [`Hub::room_list`].
    pub fn room_list_version(&self) -> u64 {
        self.room_list_version
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
                    locked: room.access.told().is_locked(),
                })
                .collect(),
        }
    }

    /// The local peers not in any room: they watch the room list.
    pub fn lobby(&self) -> impl Iterator<Item = &PeerId> {
        self.peers
            .iter()
            .filter(|(_, peer)| peer.local && peer.membership.is_none() && peer.knocking.is_none())
            .map(|(id, _)| id)
    }
}
