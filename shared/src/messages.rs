//! Every message of protocol v1, by direction.
//!
//! On the wire each is `{"type": "<snake_case>", "payload": {...}}`: serde's adjacently tagged
//! layout. The `messages!` macro writes each enum together with its table of type names, so a
//! variant cannot be added without its wire name, and decoding can take the payload of one
//! known type (see `envelope.rs` for why decoding is two steps).

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::envelope::{DecodeError, Message, parse_payload, unknown_type};
use crate::{ChatText, ErrorCode, Nickname, PeerId, ResumeToken, RoomName, RoomPassword};

macro_rules! messages {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident($payload:ty) = $wire:literal,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $($(#[$vmeta])* $variant($payload),)*
        }

        impl $name {
            /// Every `type` of this direction, as on the wire.
            pub const KINDS: &'static [&'static str] = &[$($wire),*];
        }

        impl Message for $name {
            fn kind(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $wire,)*
                }
            }

            fn from_payload(kind: &str, payload: &str) -> Result<Self, DecodeError> {
                match kind {
                    $($wire => parse_payload(kind, payload).map(Self::$variant),)*
                    _ => Err(unknown_type(kind)),
                }
            }

            fn serialize_payload<S: SerializeMap>(&self, map: &mut S) -> Result<(), S::Error> {
                match self {
                    $(Self::$variant(payload) => map.serialize_entry("payload", payload),)*
                }
            }
        }
    };
}

messages! {
    /// What a client sends.
    pub enum ClientMessage {
        /// Ask for the room list; answered with `rooms`.
        ListRooms(Empty) = "list_rooms",
        Join(Join) = "join",
        Leave(Empty) = "leave",
        /// Relay `data` to one peer of the sender's room.
        Signal(SignalTo) = "signal",
        Chat(ChatSend) = "chat",
        SetNickname(SetNickname) = "set_nickname",
        /// Tell the room about the sender's microphone, camera and raised hand.
        SetStatus(PeerStatus) = "set_status",
        /// From the lobby: take back the seat a lost connection held.
        Resume(Resume) = "resume",
        /// From the host: hand the host's role to another member.
        MakeHost(PeerTarget) = "make_host",
        /// From the host: ask a member to turn off its microphone or camera.
        MutePeer(MutePeer) = "mute_peer",
        /// From the host: take a member out of the room.
        RemovePeer(PeerTarget) = "remove_peer",
        /// From the host: set or clear the room's password, and turn its lobby on or off.
        SetRoomAccess(SetRoomAccess) = "set_room_access",
        /// From the host: let a joiner waiting in the lobby in.
        Admit(PeerTarget) = "admit",
        /// From the host: turn a joiner waiting in the lobby away.
        Deny(PeerTarget) = "deny",
        /// In an SFU room: the answer to the server's `sfu_offer`.
        SfuAnswer(SfuAnswer) = "sfu_answer",
        /// In an SFU room: ask the server for an offer that restarts ICE (after a network
        /// change).
        SfuRestart(Empty) = "sfu_restart",
        /// In an SFU room: stop (or start again) the video the server sends this member, e.g.
        /// while its page is hidden. Audio keeps flowing.
        SfuPause(SfuPause) = "sfu_pause",
        /// In an SFU room: how large the sender shows each remote video, so that the server
        /// forwards the simulcast layer that fits it.
        SfuView(SfuView) = "sfu_view",
    }
}

messages! {
    /// What the server sends.
    pub enum ServerMessage {
        /// First frame on every connection.
        Welcome(Welcome) = "welcome",
        Rooms(Rooms) = "rooms",
        /// Pushed to the lobby: what changed in the room list since the last push.
        RoomsChanged(RoomsChanged) = "rooms_changed",
        Joined(Joined) = "joined",
        PeerJoined(PeerInfo) = "peer_joined",
        Left(Left) = "left",
        PeerLeft(PeerLeft) = "peer_left",
        Signal(SignalFrom) = "signal",
        Chat(ChatMessage) = "chat",
        PeerUpdated(PeerInfo) = "peer_updated",
        PeerStatus(PeerStatusUpdate) = "peer_status",
        /// After `joined` or `resumed`: how to resume if the connection is lost.
        Session(Session) = "session",
        /// Answer to `resume`: the seat is back, under its old peer id.
        Resumed(Joined) = "resumed",
        /// To the room: its host is now this member.
        HostChanged(PeerTarget) = "host_changed",
        /// To a member: the host asks it to turn this off (it does so itself; only it can turn
        /// it back on).
        MutedByHost(MutedByHost) = "muted_by_host",
        /// To a member: the host took it out of the room; it is in the lobby again.
        Removed(Empty) = "removed",
        /// To the room: its password and lobby now.
        RoomAccess(RoomAccess) = "room_access",
        /// To a joiner of a room with the lobby on: the host has been asked to let it in.
        Waiting(Waiting) = "waiting",
        /// To the host: someone asks to be let in.
        Knock(PeerInfo) = "knock",
        /// To the host: a joiner stopped waiting (it left, or another host answered).
        KnockWithdrawn(PeerTarget) = "knock_withdrawn",
        /// To the room: its media now goes peer to peer (`mesh`) or through the server (`sfu`).
        MediaChanged(MediaChanged) = "media_changed",
        /// In an SFU room: the server's session description, to be answered with `sfu_answer`.
        SfuOffer(SfuOffer) = "sfu_offer",
        /// In a room larger than `--sfu-last-n` + 1: whose cameras the server sends the member.
        SfuCameras(SfuCameras) = "sfu_cameras",
        /// In an SFU room: whose camera or screen each of the member's slots carries now.
        SfuSlots(SfuSlots) = "sfu_slots",
        Error(ErrorPayload) = "error",
    }
}

/// The payload of messages that carry nothing: `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Join {
    pub room: RoomName,
    pub nickname: Nickname,
    /// Needed for a room with a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<RoomPassword>,
}

/// A room's password (`None`: no password) and whether joiners wait in its lobby.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRoomAccess {
    pub password: Option<RoomPassword>,
    pub lobby: bool,
}

/// What keeps a room shut, as its members are told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomAccess {
    pub has_password: bool,
    pub lobby: bool,
}

impl RoomAccess {
    /// A room with a password or a lobby: listed as locked.
    pub fn is_locked(self) -> bool {
        self.has_password || self.lobby
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalTo {
    pub to: PeerId,
    pub data: SignalData,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSend {
    pub text: ChatText,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub token: ResumeToken,
}

/// How long the server holds a seat after a connection is lost, and the token to take it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub resume_token: ResumeToken,
    pub grace_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetNickname {
    pub nickname: Nickname,
}

/// A participant's media and hand state. Missing fields are `false`: a peer nobody has heard
/// from has its microphone and camera on and its hand down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeerStatus {
    pub muted: bool,
    pub camera_off: bool,
    pub hand_raised: bool,
    /// Sharing a screen (an SFU room shows the screen tile while this is set).
    pub presenting: bool,
}

/// An `RTCIceServer` as the browser takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub peer_id: PeerId,
    pub ice_servers: Vec<IceServer>,
    pub max_room_size: u32,
    /// The largest file clients send one another (peer to peer; the server never sees files).
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    pub protocol: u32,
    /// Use only the TURN relay (`iceTransportPolicy: "relay"`): peers never learn each
    /// other's addresses. Sent only when true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ice_relay_only: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

/// The file cap of servers that do not state one: 100 MB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 100_000_000;

fn default_max_file_bytes() -> u64 {
    DEFAULT_MAX_FILE_BYTES
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub name: RoomName,
    pub participants: u32,
    /// A password or the lobby keeps strangers out. Sent only when true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub locked: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rooms {
    pub rooms: Vec<RoomInfo>,
}

/// The rooms that appeared or whose count changed, with their counts now, and the rooms that
/// closed; both sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomsChanged {
    pub rooms: Vec<RoomInfo>,
    pub removed: Vec<RoomName>,
}

impl RoomsChanged {
    /// `room`'s count now, if these changes say (0 when it closed).
    pub fn count_of(&self, room: &RoomName) -> Option<u32> {
        let changed = self.rooms.iter().find(|r| r.name == *room);
        changed
            .map(|r| r.participants)
            .or_else(|| self.removed.contains(room).then_some(0))
    }
}

impl Rooms {
    /// What turns `before` into `self`, both sorted by name; `None` when nothing changed.
    pub fn changes_since(&self, before: &Rooms) -> Option<RoomsChanged> {
        let mut changed = RoomsChanged::default();
        let (mut old, mut new) = (before.rooms.iter().peekable(), self.rooms.iter().peekable());
        loop {
            match (old.peek(), new.peek()) {
                (None, None) => break,
                (Some(gone), None) => {
                    changed.removed.push(gone.name.clone());
                    old.next();
                }
                (None, Some(_)) => changed.rooms.extend(new.next().cloned()),
                (Some(o), Some(n)) => match o.name.cmp(&n.name) {
                    std::cmp::Ordering::Less => {
                        changed.removed.push(o.name.clone());
                        old.next();
                    }
                    std::cmp::Ordering::Greater => changed.rooms.extend(new.next().cloned()),
                    std::cmp::Ordering::Equal => {
                        if o != n {
                            changed.rooms.push((*n).clone());
                        }
                        old.next();
                        new.next();
                    }
                },
            }
        }
        let nothing = changed.rooms.is_empty() && changed.removed.is_empty();
        (!nothing).then_some(changed)
    }

    /// Applies `changes`, keeping the list sorted by name. Applying the same changes twice
    /// changes nothing more.
    pub fn apply(&mut self, changes: &RoomsChanged) {
        self.rooms
            .retain(|room| changes.removed.binary_search(&room.name).is_err());
        for room in &changes.rooms {
            match self.rooms.binary_search_by(|r| r.name.cmp(&room.name)) {
                Ok(at) => self.rooms[at] = room.clone(),
                Err(at) => self.rooms.insert(at, room.clone()),
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    pub peer_id: PeerId,
    pub nickname: Nickname,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    pub room: RoomName,
    pub peer_id: PeerId,
    /// The peers already in the room, in the order they joined.
    pub peers: Vec<PeerInfo>,
    /// The room's host: the first to join, until it leaves or hands the role over.
    pub host: PeerId,
    /// How the room's media travels. Missing: `mesh` (servers without an SFU).
    #[serde(default)]
    pub media: Media,
}

/// How a room's audio and video travel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    /// Each member sends to each other member over its own peer connection.
    #[default]
    Mesh,
    /// Each member has one peer connection, to the server, which forwards.
    Sfu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaChanged {
    pub media: Media,
}

/// What one m-line of an `sfu_offer` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SfuTrackKind {
    Audio,
    Camera,
    Screen,
}

/// The rids of the simulcast layers an `sfu_offer` asks the receiver's own camera m-line for,
/// smallest first: a quarter, half and full size.
pub const CAMERA_LAYER_RIDS: [&str; 3] = ["q", "h", "f"];

/// One m-line of an `sfu_offer`: whose track it carries (the receiver's own for the three it
/// publishes on), by `mid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuTrack {
    pub mid: String,
    pub peer_id: PeerId,
    pub kind: SfuTrackKind,
}

/// The server's offer: an SDP text, and which participant's track each m-line carries. The
/// client's own `audio`, `camera` and `screen` m-lines are where it sends; every other is
/// a remote participant's track it receives; a slot that carries nothing is not listed (see
/// [`SfuSlots`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuOffer {
    pub sdp: String,
    pub tracks: Vec<SfuTrack>,
}

/// The cameras the SFU sends a member: `only` these others' (the rest show as their names),
/// or every other member's (`only` is null), as in any room no larger than last-N + 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuCameras {
    pub only: Option<Vec<PeerId>>,
}

/// The video m-lines of an SFU connection are pools of slots (at most last-N for cameras, one
/// per member presenting at once for screens), each carrying one member's video at a time, so
/// a change of whose videos the member gets needs no new offer. `tracks`: every slot that
/// carries a video now, by `mid` (kind `camera` or `screen`); a slot not listed carries none.
/// Sent when a slot starts carrying another video (with the first keyframe forwarded on it) or
/// stops carrying one; each replaces the one before, and an `sfu_offer`'s `tracks` list the
/// slots in the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuSlots {
    pub tracks: Vec<SfuTrack>,
}

impl SfuTrack {
    /// Whether it is one of `me`'s slots: another member's camera or screen (`me`'s own three
    /// m-lines and the others' audio m-lines never change hands).
    pub fn is_slot_of(&self, me: &PeerId) -> bool {
        self.kind != SfuTrackKind::Audio && self.peer_id != *me
    }
}

impl SfuSlots {
    /// `tracks` (an offer's, and `sfu_slots` since) with `me`'s slots replaced by these.
    pub fn applied_to(self, me: &PeerId, tracks: &[SfuTrack]) -> Vec<SfuTrack> {
        let kept = tracks.iter().filter(|t| !t.is_slot_of(me)).cloned();
        kept.chain(self.tracks).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuAnswer {
    pub sdp: String,
}

/// `video`: true pauses every video m-line the server sends the member, false resumes them
/// (each from its next keyframe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuPause {
    pub video: bool,
}

/// How large the sender shows the others' videos, in device pixels. Each gets the smallest
/// simulcast layer that covers its tile (or the largest there is); a tile of width or height
/// 0 is not shown (scrolled away, minimised) and gets no video. A track not listed gets the
/// largest layer. Each `sfu_view` replaces the one before; the server reads at most 128 tiles.
/// `pinned`: the member the sender pinned, whose camera last-N then always sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuView {
    pub tiles: Vec<SfuTile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<PeerId>,
}

/// One remote video on the sender's screen: `peer_id`'s `camera` or `screen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuTile {
    pub peer_id: PeerId,
    pub kind: SfuTrackKind,
    pub width: u32,
    pub height: u32,
}

/// A member a host's request is about, or the new host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerTarget {
    pub peer_id: PeerId,
}

/// What a host may turn off for a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Audio,
    Video,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutePeer {
    pub peer_id: PeerId,
    pub kind: MediaKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutedByHost {
    pub kind: MediaKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub room: RoomName,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Left {
    pub room: RoomName,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerLeft {
    pub peer_id: PeerId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalFrom {
    pub from: PeerId,
    pub data: SignalData,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub from: PeerId,
    pub nickname: Nickname,
    pub text: ChatText,
    /// Server time, milliseconds since the Unix epoch.
    pub ts: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerStatusUpdate {
    pub peer_id: PeerId,
    #[serde(flatten)]
    pub status: PeerStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorPayload {
    pub code: ErrorCode,
    pub message: String,
}

/// The opaque JSON object carried by `signal` (a description or an ICE candidate). The server
/// checks only that it is an object and relays its text untouched.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "Box<RawValue>")]
pub struct SignalData(Box<RawValue>);

impl SignalData {
    /// Wraps a JSON object's text.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let raw = RawValue::from_string(json.to_owned()).map_err(|err| err.to_string())?;
        Self::try_from(raw)
    }

    /// The JSON text, as sent.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }
}

impl TryFrom<Box<RawValue>> for SignalData {
    type Error = String;
    fn try_from(raw: Box<RawValue>) -> Result<Self, String> {
        if raw.get().starts_with('{') {
            Ok(Self(raw))
        } else {
            Err("`data` must be a JSON object".to_owned())
        }
    }
}

impl PartialEq for SignalData {
    fn eq(&self, other: &Self) -> bool {
        self.as_json() == other.as_json()
    }
}

impl Eq for SignalData {}

impl ServerMessage {
    /// An `error` message.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Error(ErrorPayload {
            code,
            message: message.into(),
        })
    }
}
