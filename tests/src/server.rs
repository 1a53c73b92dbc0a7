use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use noom_server::Config;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

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

    /// Starts a server with `config` (its `listen` address is ignored).
    pub async fn with_config(config: Config) -> Self {
        init_logs();
        let listener =
            noom_server::bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind a test port");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(noom_server::run(listener, config, async {
            let _ = stopped.await;
        }));
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
