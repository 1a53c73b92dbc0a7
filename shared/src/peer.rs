//! What browsers send one another: the contents of `signal.data` (relayed untouched by the
//! server) and the control messages of the file channel (never seen by the server). Typed here
//! so that a typo cannot break interop silently and other clients can reuse the formats.

use serde::{Deserialize, Serialize};

use crate::SignalData;

/// One `signal.data` object: a session description or an ICE candidate. `"files_only": true`
/// marks the signals of a link that carries only the file channel (between two members of an
/// SFU room, whose media goes through the server); a receiver drops the signals of the other
/// kind of link, sent before their sender heard of a switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PeerSignal {
    /// `{"description": {"type": "offer", "sdp": "..."}, "screen": "<stream id>" | null}`: the
    /// sender's offer or answer, and which of its streams is the shared screen (`null`: none).
    Description {
        description: SessionDescription,
        #[serde(default)]
        screen: Option<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        files_only: bool,
    },
    /// `{"candidate": RTCIceCandidateInit}`; `{"candidate": null}` ends the sender's candidates.
    Candidate {
        // Present but possibly `null`: without `deserialize_with`, serde would take any object
        // lacking the key for an end of candidates.
        #[serde(deserialize_with = "Option::deserialize")]
        candidate: Option<IceCandidate>,
        #[serde(default, skip_serializing_if = "is_false")]
        files_only: bool,
    },
}

// serde's `skip_serializing_if` takes a reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(value: &bool) -> bool {
    !value
}

impl PeerSignal {
    /// Reads a relayed `signal.data`.
    pub fn decode(data: &SignalData) -> Result<Self, String> {
        serde_json::from_str(data.as_json()).map_err(|err| err.to_string())
    }

    /// The `signal.data` that carries this.
    pub fn encode(&self) -> Result<SignalData, String> {
        let json = serde_json::to_string(self).map_err(|err| err.to_string())?;
        SignalData::from_json(&json)
    }

    /// Whether this belongs to a link that carries only files.
    pub fn files_only(&self) -> bool {
        match self {
            Self::Description { files_only, .. } | Self::Candidate { files_only, .. } => {
                *files_only
            }
        }
    }
}

/// `RTCSessionDescriptionInit`, as `RTCSessionDescription.toJSON()` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDescription {
    #[serde(rename = "type")]
    pub kind: SdpType,
    #[serde(default)]
    pub sdp: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpType {
    Offer,
    Answer,
    Pranswer,
    Rollback,
}

/// `RTCIceCandidateInit`, as `RTCIceCandidate.toJSON()` writes it. An empty `candidate` is an
/// end-of-candidates marker from older browsers and is ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(rename = "sdpMid", default)]
    pub sdp_mid: Option<String>,
    #[serde(rename = "sdpMLineIndex", default)]
    pub sdp_m_line_index: Option<u16>,
    #[serde(
        rename = "usernameFragment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub username_fragment: Option<String>,
}

/// A text message on the file channel (label `noom-files`). Chunks of file data are binary
/// messages: the transfer id (u32, big-endian), then the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "FileControlWire", try_from = "FileControlWire")]
pub enum FileControl {
    /// From a sender: a file is coming.
    Offer(FileOffer),
    /// From the sender: it stopped sending file `id`.
    Cancel { id: u32 },
    /// From a receiver: send it file `id`. A sender sends no byte of a file before this.
    Accept { id: u32 },
    /// From a receiver: stop sending it file `id`, or do not start.
    Decline { id: u32 },
    /// From a receiver: file `id` arrived and its SHA-256 matched.
    Received { id: u32 },
}

impl FileControl {
    /// Reads a text message of the file channel.
    pub fn decode(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|err| err.to_string())
    }

    pub fn encode(&self) -> String {
        // Strings and numbers only: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A file announced by its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOffer {
    /// Unique per sender for the life of the peer connection.
    pub id: u32,
    pub name: String,
    pub size: u64,
    /// The type the sender's browser gave the file; may be empty.
    pub mime: String,
    /// Lowercase hex.
    pub sha256: String,
}

/// The file channel's JSON, one flat object with keys in alphabetical order (the byte layout the
/// first clients wrote), `t` naming the kind.
#[derive(Serialize, Deserialize)]
struct FileControlWire {
    id: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    t: FileControlKind,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FileControlKind {
    Offer,
    Cancel,
    Accept,
    Decline,
    Received,
}

impl From<FileControl> for FileControlWire {
    fn from(control: FileControl) -> Self {
        let notice = |id, t| Self {
            id,
            mime: None,
            name: None,
            sha256: None,
            size: None,
            t,
        };
        match control {
            FileControl::Offer(offer) => Self {
                id: offer.id,
                mime: Some(offer.mime),
                name: Some(offer.name),
                sha256: Some(offer.sha256),
                size: Some(offer.size),
                t: FileControlKind::Offer,
            },
            FileControl::Cancel { id } => notice(id, FileControlKind::Cancel),
            FileControl::Accept { id } => notice(id, FileControlKind::Accept),
            FileControl::Decline { id } => notice(id, FileControlKind::Decline),
            FileControl::Received { id } => notice(id, FileControlKind::Received),
        }
    }
}

impl TryFrom<FileControlWire> for FileControl {
    type Error = &'static str;

    fn try_from(wire: FileControlWire) -> Result<Self, Self::Error> {
        let id = wire.id;
        Ok(match wire.t {
            FileControlKind::Offer => Self::Offer(FileOffer {
                id,
                name: wire.name.ok_or("an offer needs a name")?,
                size: wire.size.ok_or("an offer needs a size")?,
                mime: wire.mime.unwrap_or_default(),
                sha256: wire.sha256.ok_or("an offer needs a sha256")?,
            }),
            FileControlKind::Cancel => Self::Cancel { id },
            FileControlKind::Accept => Self::Accept { id },
            FileControlKind::Decline => Self::Decline { id },
            FileControlKind::Received => Self::Received { id },
        })
    }
}
