use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use noom_server::Config;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::TestClient;
use crate::redis::TestRedis;

/// A Noom server running in this process on 127.0.0.1 and a port chosen by the OS.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Starts a server with default settings.
    pub async fn start() -> Self {
        Self::with_config(Config::default()).await
    }

    /// Starts a server with `config` (its `listen` address is ignored) and waits until it
    /// is ready (in a cluster: in step with Redis).
    pub async fn with_config(config: Config) -> Self {
        let listener =
            noom_server::bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind a test port");
        let server = Self::on_listener(listener, config);
        wait_until_healthy(server.addr).await;
        server
    }

    /// Starts a server with `config` on a listener the test bound itself, and returns at once
    /// (an HTTPS server does not answer the plain health check).
    pub fn on_listener(listener: tokio::net::TcpListener, config: Config) -> Self {
        init_logs();
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async {
                let _ = stopped.await;
            };
            if let Err(err) = noom_server::run(listener, config, stopped).await {
                panic!("the server did not start: {err}");
            }
        });
        Self {
            addr,
            stop: Some(stop),
            task,
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Asks the server to shut down and waits until `run` returns; returns how long it took.
    pub async fn shutdown(mut self) -> Duration {
        let started = std::time::Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .expect("server stops within 10 s")
            .expect("server task does not panic");
        started.elapsed()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The workspace's root directory (where `dist/` is built).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Shows the server's logs when `RUST_LOG` is set (e.g. `RUST_LOG=noom_server=debug`).
fn init_logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// Waits until the node at `addr` answers 200 on `/healthz` (10 s at most).
pub async fn wait_until_healthy(addr: SocketAddr) {
    let started = Instant::now();
    loop {
        if let Ok(response) = tokio::time::timeout(
            Duration::from_secs(1),
            crate::http::try_get(addr, "/healthz"),
        )
        .await
            && response.is_some_and(|r| r.status == 200)
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{addr} not healthy after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// How many nodes serve the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// One node, rooms in memory.
    SingleNode,
    /// Two nodes sharing rooms through a real `redis-server` of the test's own.
    TwoNodes,
}

/// The server side of a test: one node, or two nodes and their Redis.
pub struct Deployment {
    pub nodes: Vec<TestServer>,
    pub redis: Option<TestRedis>,
    next: AtomicUsize,
}

impl Deployment {
    pub async fn start(topology: Topology, config: Config) -> Self {
        let (nodes, redis) = match topology {
            Topology::SingleNode => (vec![TestServer::with_config(config).await], None),
            Topology::TwoNodes => {
                let redis = TestRedis::start().await;
                let config = Config {
                    redis_url: Some(redis.url()),
                    ..config
                };
                let first = TestServer::with_config(config.clone()).await;
                let second = TestServer::with_config(config).await;
                (vec![first, second], Some(redis))
            }
        };
        Self {
            nodes,
            redis,
            next: AtomicUsize::new(0),
        }
    }

    /// Ada and Bob, connected in turn (on two nodes: one on each) and in room `r`; Ada has
    /// been told Bob joined.
    pub async fn two_in_a_room(&self) -> (TestClient, TestClient) {
        let mut ada = TestClient::connect(&self.url()).await;
        let mut bob = TestClient::connect(&self.url()).await;
        ada.join("r", "Ada").await;
        bob.join("r", "Bob").await;
        ada.recv().await; // Bob joined
        (ada, bob)
    }

    /// The WebSocket URL of the next node in turn, so that successive clients are spread over
    /// the nodes (every other client on the second node).
    pub fn url(&self) -> String {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.nodes.len();
        self.nodes[index].ws_url()
    }
}

/// Waits until the node at `addr` says it is out of step with its cluster (`/healthz` 503
/// after Redis is lost; 5 s at most).
pub async fn wait_until_out_of_step(addr: SocketAddr) {
    let started = Instant::now();
    while crate::http::get(addr, "/healthz", &[]).await.status == 200 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{addr} never noticed Redis was gone"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
