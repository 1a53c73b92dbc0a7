//! Noom's wire protocol, version 1.
//!
//! Every WebSocket text frame is one JSON envelope `{"type": "...", "payload": {...}, "id": 7}`.
//! [`ClientMessage`] is what browsers send, [`ServerMessage`] what the server sends. Names and
//! ids are validated newtypes ([`RoomName`], [`Nickname`], [`PeerId`], [`ChatText`]): a value
//! that breaks the protocol's rules cannot exist past the parser. Nothing here depends on an
//! async runtime or a browser, so the server, the WASM client and the tools share it. What
//! browsers say to one another through `signal` and their file channel is typed too ([`PeerSignal`], [`FileControl`]).

mod envelope;
mod error;
mod messages;
mod names;
mod peer;
#[doc(hidden)]
pub mod testing;

pub use envelope::{DecodeError, Envelope, Message};
pub use error::ErrorCode;
pub use messages::*;
pub use names::*;
pub use peer::*;

/// The protocol version announced in `welcome`.
pub const PROTOCOL_VERSION: u32 = 1;
