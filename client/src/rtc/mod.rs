//! Browser media and WebRTC behind a small Rust API: components use these types and never touch
//! `RTCPeerConnection` or `getUserMedia` themselves.

mod debug;
pub mod files;
pub mod ice;
pub mod level;
pub mod media;
pub mod peer;
pub mod sfu;
mod slots;
pub mod stats;
