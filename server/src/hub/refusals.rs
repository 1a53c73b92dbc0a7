//! Why a request is refused: a stable code and the words sent beside it, written once here for
//! the hub and the cluster's Redis verdicts alike.

use noom_shared::ErrorCode;

pub type Refusal = (ErrorCode, &'static str);

pub const ALREADY_IN_ROOM: Refusal = (
    ErrorCode::AlreadyInRoom,
    "leave your room before joining another",
);
pub const ALREADY_IN_ROOM_TO_RESUME: Refusal = (
    ErrorCode::AlreadyInRoom,
    "leave your room before resuming another seat",
);
pub const ROOM_FULL: Refusal = (ErrorCode::RoomFull, "this room is full");
pub const TOO_MANY_ROOMS: Refusal = (
    ErrorCode::TooManyRooms,
    "this server holds as many rooms as it may: join an existing room, or try later",
);
pub const TOO_MANY_ROOMS_FROM_ADDRESS: Refusal = (
    ErrorCode::TooManyRooms,
    "your network has opened as many rooms as it may: join an existing room, or close one first",
);
pub const NOT_HOST: Refusal = (ErrorCode::NotHost, "only the room's host may do that");
pub const NICKNAME_TAKEN: Refusal = (
    ErrorCode::InvalidNickname,
    "someone in this room already has that nickname: choose another",
);
pub const NOT_SFU: Refusal = (
    ErrorCode::BadSdp,
    "your room does not send its media through the server",
);
pub const NOT_IN_ROOM: Refusal = (ErrorCode::NotInRoom, "join a room first");
pub const UNKNOWN_PEER: Refusal = (ErrorCode::UnknownPeer, "no such peer in your room");
pub const INVALID_TOKEN: Refusal = (
    ErrorCode::InvalidToken,
    "this seat is no longer held: join again",
);
pub const PASSWORD_NEEDED: Refusal = (
    ErrorCode::WrongPassword,
    "this meeting has a password: enter it to join",
);
pub const WRONG_PASSWORD: Refusal = (
    ErrorCode::WrongPassword,
    "that is not this meeting's password",
);
pub const TOO_MANY_GUESSES: Refusal = (
    ErrorCode::RateLimited,
    "too many wrong passwords from your network: wait a minute before trying again",
);
pub const TOO_MANY_WAITING: Refusal = (
    ErrorCode::RoomFull,
    "too many people are waiting to be let into this meeting: try again later",
);
pub const NOT_WAITING: Refusal = (
    ErrorCode::UnknownPeer,
    "nobody by that id is waiting to join your room",
);
pub const DENIED: Refusal = (
    ErrorCode::Denied,
    "the host did not let you into this meeting",
);
pub const MEETING_ENDED: Refusal = (
    ErrorCode::Denied,
    "the meeting ended before the host let you in",
);
