use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket};
use tokio::time::{MissedTickBehavior, interval, sleep, timeout};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::Config;
use crate::cluster::{Cluster, ClusterError};
use crate::http::{App, route};
use crate::static_files::StaticFiles;
use crate::switchboard::Switchboard;

/// How often lobby connections may get a fresh room list.
const ROOM_LIST_PUSH_EVERY: Duration = Duration::from_millis(100);
/// How long shutdown waits for connections to take their close frames.
const DRAIN_FOR: Duration = Duration::from_secs(4);
/// Pending connections the kernel queues; tokio's default of 128 makes bursts retry after 1 s.
const LISTEN_BACKLOG: u32 = 4096;

/// Binds a listener with a backlog large enough for connection bursts.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves until `shutdown` completes, then closes every WebSocket with 1001 and returns once
/// they are closed (or after a few seconds). Fails at once if Redis is configured but
/// unreachable at start.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ClusterError> {
    let config = Arc::new(config);
    let stop = CancellationToken::new();
    let board = Arc::new(Switchboard::new(&config));
    let app = Arc::new(App {
        files: StaticFiles::new(config.static_dir.clone()),
        config: config.clone(),
        board: board.clone(),
        shutdown: stop.clone(),
        sockets: TaskTracker::new(),
    });
    let cluster = match &config.redis_url {
        Some(url) => {
            Some(Cluster::start(url, board.clone(), config.max_room_size, stop.clone()).await?)
        }
        None => None,
    };
    tokio::spawn(run_chores(board, stop.clone()));

    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| route(app.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades()
                        .await;
                });
            }
            Err(err) => {
                // Usually out of file descriptors: back off instead of spinning.
                warn!(cause = %err, "accept failed");
                sleep(Duration::from_millis(50)).await;
            }
        }
    }
    info!("shutting down");
    stop.cancel();
    app.sockets.close();
    if timeout(DRAIN_FOR, app.sockets.wait()).await.is_err() {
        warn!("some connections did not close in time");
    }
    if let Some(cluster) = cluster {
        let _ = timeout(Duration::from_secs(1), cluster.leave()).await;
    }
    Ok(())
}

async fn run_chores(board: Arc<Switchboard>, stop: CancellationToken) {
    let mut ticks = interval(ROOM_LIST_PUSH_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while stop.run_until_cancelled(ticks.tick()).await.is_some() {
        board.tick();
    }
}
