//! Noom's signaling server.
//!
//! ```text
//! TcpListener ─ http (hyper) ─┬─ /healthz, static files (the web app)
//!                             └─ /ws ─ conn (reader task + writer task per socket)
//!                                        │  decoded messages        ▲ bounded queue
//!                                        ▼                          │
//!                                   switchboard (one Mutex) ─ hub (pure room logic)
//! ```
//! The hub decides who gets what; the switchboard encodes each message once and `try_send`s it
//! to every recipient's queue; a connection whose queue is full is disconnected.

mod admin;
mod admission;
mod clock;
mod cluster;
mod config;
mod conn;
mod hosts;
mod http;
mod hub;
mod ids;
mod metrics;
mod passwords;
mod rate;
mod security_headers;
mod send_queue;
mod server;
mod sfu;
mod static_files;
mod switchboard;
mod tls;
mod turn;

pub use cluster::ClusterError;
pub use config::{Config, IceServers, RoomList, Secret, TlsMode};
pub use hub::{Hub, Outgoing, ResumePolicy};
pub use server::{StartError, bind, run};
pub use tls::TlsError;
pub use turn::TurnError;
