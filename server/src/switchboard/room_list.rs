//! What the lobby is told of the rooms: the list as last pushed, each push the changes since,
//! and `list_rooms` answered with that same list (or nothing, with `--room-list off`).

use std::sync::Arc;
use std::time::Instant;

use noom_shared::{PeerId, Rooms, ServerMessage};
use tokio_tungstenite::tungstenite::Message;

use super::State;
use crate::config::RoomList;
use crate::hub::Outgoing;

/// The `rooms` payload of `--room-list off`.
const NO_ROOMS: &str = r#"{"rooms":[]}"#;

/// The room list the lobby has: a `list_rooms` is answered with it (encoded once per change,
/// so that a flood of requests costs a copy each), and each push says what changed since.
pub(super) struct ToldRooms {
    /// The hub's room-list version it is of.
    version: u64,
    rooms: Rooms,
    /// `rooms` as a `rooms` payload.
    json: Arc<str>,
}

impl ToldRooms {
    /// No rooms, as of `version`.
    pub(super) fn none(version: u64) -> Self {
        let rooms = Rooms::default();
        let json = serde_json::to_string(&rooms).unwrap_or_default().into();
        Self {
            version,
            rooms,
            json,
        }
    }
}

impl State {
    /// If the room list changed since the lobby was last told it, tells the lobby what
    /// changed (`rooms_changed`) and keeps the new list.
    pub(super) fn tell_room_list(&mut self) {
        let version = self.hub.room_list_version();
        if version == self.told.version {
            return;
        }
        let rooms = self.hub.room_list();
        // Room ages for the admin view, to the tick: kept for the rooms that exist.
        let now = Instant::now();
        self.room_since
            .retain(|name, _| rooms.rooms.binary_search_by(|r| r.name.cmp(name)).is_ok());
        for room in &rooms.rooms {
            self.room_since.entry(room.name.clone()).or_insert(now);
        }
        let changes = rooms.changes_since(&self.told.rooms);
        let json = serde_json::to_string(&rooms).unwrap_or_default().into();
        self.told = ToldRooms {
            version,
            rooms,
            json,
        };
        if let Some(changes) = changes
            && self.room_list == RoomList::Public
        {
            let lobby = self.hub.lobby().cloned().collect();
            self.deliver(vec![Outgoing {
                to: lobby,
                id: None,
                message: ServerMessage::RoomsChanged(changes),
            }]);
        }
    }

    /// Answers `list_rooms` with the list the lobby was told, first telling it of any change
    /// since: a lobby connection's list and the changes pushed to it then always fit together.
    pub(super) fn reply_room_list(&mut self, to: &PeerId, id: Option<u32>) {
        self.tell_room_list();
        let payload = match self.room_list {
            RoomList::Public => self.told.json.clone(),
            RoomList::Off => NO_ROOMS.into(),
        };
        // The envelope as `Envelope::encode` writes it (`type`, `payload`, then `id`).
        let text = match id {
            Some(id) => format!(r#"{{"type":"rooms","payload":{payload},"id":{id}}}"#),
            None => format!(r#"{{"type":"rooms","payload":{payload}}}"#),
        };
        self.metrics.sent("rooms", 1);
        self.send_frame(std::slice::from_ref(to), Message::text(text));
    }
}
