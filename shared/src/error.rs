use serde::{Deserialize, Serialize};

/// The stable, program-readable reason carried by every `error` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, an unknown `type`, or a payload that does not fit its type.
    BadMessage,
    /// A frame over the size limit (the socket is then closed with 1009).
    TooLarge,
    InvalidRoom,
    InvalidNickname,
    /// Chat text empty, too long, or with control characters.
    InvalidText,
    RoomFull,
    NotInRoom,
    AlreadyInRoom,
    /// The target of a `signal` is not in the sender's room.
    UnknownPeer,
    RateLimited,
    /// A `resume` token that is unknown, used, or expired: join again instead.
    InvalidToken,
    /// A join that would open a new room on a server holding as many as it may
    /// (`--max-rooms`); existing rooms can still be joined.
    TooManyRooms,
    /// A host's request (`make_host`, `mute_peer`, `remove_peer`) from someone who is not the
    /// room's host.
    NotHost,
    /// A join of a room with a password, without it or with another.
    WrongPassword,
    /// The host did not let this joiner in from the lobby (or the meeting ended first).
    Denied,
    /// An `sfu_answer` or `sfu_restart` the server cannot use: no offer awaits an answer, the
    /// SDP does not parse or does not fit the offer, or the room does not use the SFU.
    BadSdp,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BadMessage => "bad_message",
            Self::TooLarge => "too_large",
            Self::InvalidRoom => "invalid_room",
            Self::InvalidNickname => "invalid_nickname",
            Self::InvalidText => "invalid_text",
            Self::RoomFull => "room_full",
            Self::NotInRoom => "not_in_room",
            Self::AlreadyInRoom => "already_in_room",
            Self::UnknownPeer => "unknown_peer",
            Self::RateLimited => "rate_limited",
            Self::InvalidToken => "invalid_token",
            Self::TooManyRooms => "too_many_rooms",
            Self::NotHost => "not_host",
            Self::WrongPassword => "wrong_password",
            Self::Denied => "denied",
            Self::BadSdp => "bad_sdp",
        }
    }

    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [ErrorCode; 16] = [
        Self::BadMessage,
        Self::TooLarge,
        Self::InvalidRoom,
        Self::InvalidNickname,
        Self::InvalidText,
        Self::RoomFull,
        Self::NotInRoom,
        Self::AlreadyInRoom,
        Self::UnknownPeer,
        Self::RateLimited,
        Self::InvalidToken,
        Self::TooManyRooms,
        Self::NotHost,
        Self::WrongPassword,
        Self::Denied,
        Self::BadSdp,
    ];

    /// Parses a wire code; used to recover a precise code from a validation error.
    pub fn from_wire(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
