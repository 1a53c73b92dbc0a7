//! What the hub takes and gives: events (changes to the rooms, the same on every node of a
//! cluster), decisions on requests, and messages out.

use noom_shared::{
    ChatText, MediaKind, Nickname, PeerId, PeerStatus, ResumeToken, RoomName, ServerMessage,
    SignalData,
};
use serde::{Deserialize, Serialize};

use super::access::{Access, PasswordWork};
use crate::passwords::PasswordHash;

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
        /// The room's password hash the joiner's password matched (Redis checks it still is
        /// the room's).
        #[serde(default)]
        password: Option<PasswordHash>,
        /// Let in from the lobby by the host: no password or lobby stands in the way.
        #[serde(default)]
        admitted: bool,
        /// The cluster node the joiner is connected to (stamped when the event is published).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
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
        /// The node of `conn`, where the seat lives from now on (stamped when published).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
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
    /// The host `by` hands the role to `peer`.
    MakeHost {
        by: PeerId,
        peer: PeerId,
    },
    /// The host asks `peer` to turn off its `kind`.
    Mute {
        peer: PeerId,
        media: MediaKind,
    },
    /// The host takes `peer` out of `room`.
    Remove {
        peer: PeerId,
        room: RoomName,
    },
    /// The host sets `room`'s password and lobby.
    SetAccess {
        room: RoomName,
        access: Access,
    },
    /// `peer` waits in `room`'s lobby.
    Knock {
        peer: PeerId,
        room: RoomName,
        nickname: Nickname,
        #[serde(default)]
        request: Option<u32>,
    },
    /// The host `by` lets the waiting `peer` in (its node then submits its join).
    Admit {
        by: PeerId,
        peer: PeerId,
    },
    /// The host `by` turns the waiting `peer` away.
    Deny {
        by: PeerId,
        peer: PeerId,
    },
    /// A member asks the SFU of its room's media node for something.
    Sfu {
        peer: PeerId,
        request: SfuRequest,
    },
    /// The SFU of a room's media node has a message (an `sfu_offer`, an error) for a member
    /// connected to another node.
    SfuTell {
        to: PeerId,
        #[serde(with = "message_as_text")]
        message: ServerMessage,
    },
}

/// What a member can ask of the SFU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum SfuRequest {
    /// `sfu_answer`: the member's answer to the server's latest offer.
    Answer { sdp: String },
    /// `sfu_restart`: a fresh offer, for a new connection.
    Restart,
    /// `sfu_pause`: stop (true) or resume the video sent to the member.
    Pause { video: bool },
    /// `sfu_view`: how large the member shows the others' videos, and whom it pinned.
    View(noom_shared::SfuView),
}

impl Event {
    /// Records `node` as the one that published this event, where it names a peer's node.
    pub fn stamp(&mut self, origin: &str) {
        if let Event::Join { node, .. } | Event::Resume { node, .. } = self {
            *node = Some(origin.to_owned());
        }
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Answer the sender only (a room list, or an error); nothing changes.
    Reply(Outgoing),
    /// Apply this event.
    Apply(Event),
    /// Hash or check a password first, then decide again (`Hub::decide_checked`).
    Verify(PasswordWork),
}

/// A server message as its JSON envelope, as it would go on the socket.
mod message_as_text {
    use noom_shared::{Envelope, ServerMessage};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        message: &ServerMessage,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&Envelope::with_id(message.clone(), None).encode())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ServerMessage, D::Error> {
        let text = String::deserialize(deserializer)?;
        Envelope::<ServerMessage>::decode(&text)
            .map(|envelope| envelope.message)
            .map_err(serde::de::Error::custom)
    }
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
