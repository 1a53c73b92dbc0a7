//! What the admin view shows: a snapshot of this node, and the events that happen on it.

use noom_shared::{Nickname, PeerId, RoomName};
use serde::{Deserialize, Serialize};

/// Something that happened, as the event stream sends it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AdminEvent {
    /// `connect`, `disconnect`, `join`, `leave`, `resume`, `error`, `rate_limited`, `kick`.
    pub(crate) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) peer: Option<PeerId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) room: Option<RoomName>,
    /// The error code, for `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<&'static str>,
    /// Wall-clock time, Unix milliseconds.
    pub(crate) at_ms: u64,
}

impl AdminEvent {
    pub(crate) fn new(kind: &'static str, peer: Option<&PeerId>) -> Self {
        Self {
            kind,
            peer: peer.cloned(),
            room: None,
            code: None,
            at_ms: crate::clock::wall_ms(),
        }
    }

    pub(crate) fn in_room(mut self, room: &RoomName) -> Self {
        self.room = Some(room.clone());
        self
    }

    pub(crate) fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }
}

/// The cluster (or this lone node) now.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Snapshot {
    pub(crate) nodes: Vec<NodeView>,
    /// Every room, with the people of every node.
    pub(crate) rooms: Vec<RoomView>,
    /// Whether the actions (disconnect, close room) are off.
    pub(crate) readonly: bool,
}

/// One node and the people connected to it (what each node of a cluster publishes in Redis).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NodeView {
    /// The cluster node id, or `local` without Redis.
    pub(crate) id: String,
    pub(crate) version: String,
    pub(crate) uptime_s: u64,
    pub(crate) connections: usize,
    /// `off` without Redis, else `up` or `down`.
    pub(crate) redis: String,
    pub(crate) participants: Vec<ParticipantView>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct RoomView {
    pub(crate) name: RoomName,
    pub(crate) participants: u32,
    /// Seconds since it appeared; `None` in its first tenth of a second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) age_s: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ParticipantView {
    pub(crate) peer_id: PeerId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) nickname: Option<Nickname>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) room: Option<RoomName>,
    /// Seconds since it connected; `None` for a held seat, which has no connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) connected_s: Option<u64>,
    /// Messages it sent and was sent since it connected.
    pub(crate) messages_in: u64,
    pub(crate) messages_out: u64,
    /// Messages waiting in its send queue.
    pub(crate) queue_depth: usize,
    /// Held for a lost connection: seconds until it is given up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) held_for_s: Option<u64>,
    /// Only with `--admin-show-ip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ip: Option<String>,
}
