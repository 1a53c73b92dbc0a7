use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HOST, HeaderValue, LOCATION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::{MissedTickBehavior, interval, sleep, timeout};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::Config;
use crate::admin::AdminAccess;
use crate::admission::{Admissions, Held, total_cap};
use crate::cluster::{Cluster, ClusterError};
use crate::hosts::OwnNames;
use crate::http::{App, ClientAddr, route};
use crate::sfu::{Sfu, Tell};
use crate::static_files::{Body, StaticFiles, full, plain};
use crate::switchboard::Switchboard;
use crate::tls::{Accepted, Tls, TlsError};
use crate::turn::{TurnError, TurnMint};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Turn(#[from] TurnError),
    #[error("admin view: {0}")]
    Admin(#[from] crate::config::SecretFileError),
    #[error("cannot read the listening address: {0}")]
    Listener(#[from] io::Error),
    #[error("cannot listen for metrics: {0}")]
    Metrics(io::Error),
    #[error("SFU media port: {0}")]
    Sfu(io::Error),
    #[error(
        "--max-room-size {room_size} needs --max-frame-bytes {needed} or more with --sfu-udp \
         (each member of an SFU room adds about 3 KiB to every member's SDP answer)"
    )]
    SfuFrames { room_size: u32, needed: usize },
}

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
/// unreachable, or the TLS certificate cannot be had, at start.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StartError> {
    let config = Arc::new(config);
    let stop = CancellationToken::new();
    let tls = Tls::start(&config, &stop).await?.map(Arc::new);
    let turn = TurnMint::from_config(&config)?;
    let board = Arc::new(Switchboard::new(&config).with_turn(turn));
    let files = StaticFiles::new(config.static_dir.clone());
    info!(
        addr = %listener.local_addr()?,
        scheme = if tls.is_some() { "https" } else { "http" },
        app = %files.describe(),
        "Noom is listening"
    );
    let admin = AdminAccess::from_config(&config)?;
    if admin.is_some() {
        info!(readonly = config.admin_readonly, "admin view at /admin");
    }
    let cluster = match &config.redis_url {
        Some(url) => {
            let admin_on = admin.is_some();
            let max = config.max_room_size;
            Some(Cluster::start(url, board.clone(), max, admin_on, stop.clone()).await?)
        }
        None => None,
    };
    start_sfu(&config, &board, &stop).await?;
    let max_connections = total_cap(config.max_connections);
    let per_ip_rate = (config.rate_limit_per_ip, config.rate_burst_per_ip);
    let admissions = Admissions::new(max_connections, config.max_connections_per_ip, per_ip_rate);
    info!(
        max_connections,
        per_ip = config.max_connections_per_ip,
        proxy_header = ?config.trust_proxy_header,
        "connection caps"
    );
    let app = Arc::new(App {
        admissions: admissions.clone(),
        files,
        names: OwnNames::new(&config),
        admin,
        cluster: cluster.clone(),
        config: config.clone(),
        board: board.clone(),
        shutdown: stop.clone(),
        sockets: TaskTracker::new(),
    });
    if let Some(addr) = config.metrics_listen {
        let metrics = bind(addr).map_err(StartError::Metrics)?;
        info!(addr = %metrics.local_addr()?, "metrics at /metrics");
        let timeout = config.http_timeout;
        tokio::spawn(crate::metrics::serve(
            metrics,
            board.clone(),
            timeout,
            stop.clone(),
        ));
    }
    tokio::spawn(run_chores(board, stop.clone()));

    let metrics = app.board.metrics();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, from)) => {
                let admission = if config.trust_proxy_header.is_some() {
                    admissions.admit_proxy()
                } else {
                    admissions.admit(from.ip())
                };
                let Some(admission) = admission else {
                    metrics.connection_refused();
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let held = Held::new(admission);
                tokio::spawn(serve(stream, app.clone(), tls.clone(), held));
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

/// Starts the SFU's media task if `--sfu-udp` asks for it.
async fn start_sfu(
    config: &Config,
    board: &Arc<Switchboard>,
    stop: &CancellationToken,
) -> Result<(), StartError> {
    let Some(addr) = config.sfu_udp else {
        return Ok(());
    };
    // An answer over the frame limit would close its sender's socket: refuse the settings
    // now rather than drop people from a full room later.
    let needed = crate::sfu::frame_bytes_for_answers(config.max_room_size);
    if config.max_frame_bytes < needed {
        return Err(StartError::SfuFrames {
            room_size: config.max_room_size,
            needed,
        });
    }
    // Weak: the media task must not keep the switchboard alive after the server stops.
    let weak = Arc::downgrade(board);
    let tell: Tell = Arc::new(move |seat, message| {
        if let Some(board) = weak.upgrade() {
            board.tell(seat, message);
        }
    });
    let (sfu, _bound) = Sfu::start(addr, config, tell, board.metrics(), stop.clone())
        .await
        .map_err(StartError::Sfu)?;
    board.attach_sfu(sfu);
    Ok(())
}

async fn serve(stream: TcpStream, app: Arc<App>, tls: Option<Arc<Tls>>, held: Held) {
    let client = |tls| {
        let addr = stream.peer_addr().ok();
        addr.map(|addr| ClientAddr {
            addr,
            tls,
            forwarded: false,
        })
    };
    let Some(tls) = tls else {
        let client = client(false);
        return serve_app(stream, app, client, held).await;
    };
    let client = client(true);
    match tls.accept(stream).await {
        Accepted::Tls(stream) => serve_app(*stream, app, client, held).await,
        Accepted::Plain(stream) => redirect_to_https(stream, app.config.http_timeout).await,
        Accepted::Done => {}
    }
}

/// HTTP/1.1 with upgrades (the WebSocket) over `io`, from `client`.
async fn serve_app<I>(io: I, app: Arc<App>, client: Option<ClientAddr>, held: Held)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let app_timeout = app.config.http_timeout;
    let service = service_fn(move |mut req: Request<hyper::body::Incoming>| {
        let proxy_header = app.config.trust_proxy_header.as_ref();
        if let Some(client) = client.map(|client| client.behind(proxy_header, req.headers())) {
            req.extensions_mut().insert(client);
        }
        req.extensions_mut().insert(held.clone());
        route(app.clone(), req)
    });
    let _ = http_builder(app_timeout)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades()
        .await;
}

/// What hyper buffers per connection, reading a request's headers or writing a response
/// (its default is about 400 KiB): it bounds what an unfinished request or a download that is
/// not read can make the server hold.
const HTTP_BUFFER_BYTES: usize = 64 * 1024;

/// HTTP/1.1 that closes a connection whose request headers take longer than `timeout`, or
/// that sits idle between requests that long, and buffers at most [`HTTP_BUFFER_BYTES`].
pub(crate) fn http_builder(timeout: Duration) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .max_buf_size(HTTP_BUFFER_BYTES);
    builder
}

/// Someone typed `http://` for the HTTPS port: send them to the same address over HTTPS.
async fn redirect_to_https(stream: TcpStream, timeout: Duration) {
    let service = service_fn(|req: Request<hyper::body::Incoming>| async move {
        Ok::<_, std::convert::Infallible>(https_location(&req))
    });
    let _ = http_builder(timeout)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

fn https_location<B>(req: &Request<B>) -> Response<Body> {
    let host = req.headers().get(HOST).and_then(|v| v.to_str().ok());
    let target = host
        .filter(|host| host.parse::<hyper::http::uri::Authority>().is_ok())
        .map(|host| {
            let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
            format!("https://{host}{path}")
        });
    let Some(location) = target.and_then(|t| HeaderValue::from_str(&t).ok()) else {
        return plain(StatusCode::BAD_REQUEST, "this port speaks HTTPS\n");
    };
    let mut response = Response::new(full(Bytes::from_static(
        b"Noom is served over HTTPS on this port\n",
    )));
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    response.headers_mut().insert(LOCATION, location);
    response
}

async fn run_chores(board: Arc<Switchboard>, stop: CancellationToken) {
    let mut ticks = interval(ROOM_LIST_PUSH_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while stop.run_until_cancelled(ticks.tick()).await.is_some() {
        board.tick();
    }
}
