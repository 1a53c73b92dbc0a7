//! The JSON envelope around every message, and its decoding.
//!
//! Decoding is two steps: a raw envelope (`type`, `payload` kept as raw JSON, `id`), then the
//! payload of that type. This gives an unknown `type` its own precise error, and lets
//! `signal.data` stay raw JSON that is relayed without being parsed into a tree.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::ErrorCode;

/// One message with the optional request `id` that the server echoes in its direct answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<M> {
    pub id: Option<u32>,
    pub message: M,
}

/// Why a frame could not be decoded, with the code to send back and the request id if known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DecodeError {
    pub code: ErrorCode,
    pub message: String,
    pub id: Option<u32>,
}

/// Implemented by [`crate::ClientMessage`] and [`crate::ServerMessage`] (see `messages.rs`).
pub trait Message: Sized {
    /// The envelope's `type`.
    fn kind(&self) -> &'static str;
    #[doc(hidden)]
    fn from_payload(kind: &str, payload: &str) -> Result<Self, DecodeError>;
    #[doc(hidden)]
    fn serialize_payload<S: SerializeMap>(&self, map: &mut S) -> Result<(), S::Error>;
}

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
    #[serde(default)]
    id: Option<u32>,
}

impl<M: Message> Envelope<M> {
    pub fn new(message: M) -> Self {
        Self { id: None, message }
    }

    pub fn with_id(message: M, id: Option<u32>) -> Self {
        Self { id, message }
    }

    /// Decodes one text frame. A missing or `null` payload counts as `{}`.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let raw: RawEnvelope = serde_json::from_str(text).map_err(|err| DecodeError {
            code: ErrorCode::BadMessage,
            message: format!("not a message envelope: {}", without_position(&err)),
            id: None,
        })?;
        let payload = raw.payload.map_or("{}", RawValue::get);
        M::from_payload(&raw.kind, payload)
            .map(|message| Self {
                id: raw.id,
                message,
            })
            .map_err(|err| DecodeError { id: raw.id, ..err })
    }

    /// Encodes the envelope as one JSON text frame.
    pub fn encode(&self) -> String {
        // Serializing these types cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl<M: Message> Serialize for Envelope<M> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(if self.id.is_some() { 3 } else { 2 }))?;
        map.serialize_entry("type", self.message.kind())?;
        self.message.serialize_payload(&mut map)?;
        if let Some(id) = self.id {
            map.serialize_entry("id", &id)?;
        }
        map.end()
    }
}

/// Parses a payload, turning a validation failure back into its precise error code.
pub(crate) fn parse_payload<'de, T: Deserialize<'de>>(
    kind: &str,
    payload: &'de str,
) -> Result<T, DecodeError> {
    serde_json::from_str(payload).map_err(|err| {
        let text = without_position(&err);
        let precise = text
            .split_once(": ")
            .and_then(|(code, reason)| Some((ErrorCode::from_wire(code)?, reason)));
        match precise {
            Some((code, reason)) => DecodeError {
                code,
                message: reason.to_owned(),
                id: None,
            },
            None => DecodeError {
                code: ErrorCode::BadMessage,
                message: format!("invalid `{kind}` payload: {text}"),
                id: None,
            },
        }
    })
}

pub(crate) fn unknown_type(kind: &str) -> DecodeError {
    let shown: String = kind.chars().take(40).collect();
    DecodeError {
        code: ErrorCode::BadMessage,
        message: format!("unknown message type `{shown}`"),
        id: None,
    }
}

/// serde_json appends " at line L column C", which means nothing to the sender of one frame.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}
