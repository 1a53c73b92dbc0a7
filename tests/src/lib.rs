//! The harness Noom's tests share: a server started in-process on a free port, a typed
//! WebSocket client with timeouts, a bare HTTP client, and headless Chromium.

pub mod browser;
pub mod client;
pub mod http;
pub mod proxy;
pub mod redis;
pub mod server;

pub use client::TestClient;
pub use server::{Deployment, TestServer, Topology};
