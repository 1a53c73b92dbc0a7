//! The harness Noom's tests share: a server started in-process on a free port, a typed
//! WebSocket client with timeouts, a bare HTTP client, and headless Chromium.

pub mod a11y;
pub mod aiortc;
pub mod binary;
pub mod browser;
pub mod client;
pub mod coturn;
pub mod files;
pub mod firewall;
pub mod http;
pub mod media_peer;
pub mod netns;
pub mod node;
pub mod pebble;
pub mod proxy;
pub mod redis;
pub mod server;
pub mod sfu_page;
pub mod tls;

pub use client::TestClient;
pub use server::{Deployment, TestServer, Topology};

/// Runs each listed `async fn(Topology)` as two tests: on a single node (`single_node::name`)
/// and on a two-node cluster sharing Redis (`two_nodes::name`).
#[macro_export]
macro_rules! on_each_topology {
    ($($test:ident),* $(,)?) => {
        mod single_node {
            $(#[tokio::test]
            async fn $test() {
                super::$test($crate::Topology::SingleNode).await;
            })*
        }
        mod two_nodes {
            $(#[tokio::test]
            async fn $test() {
                super::$test($crate::Topology::TwoNodes).await;
            })*
        }
    };
}
