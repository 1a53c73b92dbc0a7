use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use noom_shared::{DEFAULT_MAX_FILE_BYTES, IceServer};

/// Let's Encrypt's production directory.
const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// Noom's signaling server and web app. Every flag can also be set by its `NOOM_*` variable.
#[derive(Debug, Clone, Parser)]
#[command(name = "noom-server", version, about)]
pub struct Config {
    /// Address to listen on (HTTP or HTTPS: the web app and the WebSocket at /ws).
    #[arg(long, env = "NOOM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Serve the web app from this directory (index.html and its assets) instead of the copy
    /// built into the binary.
    #[arg(long, env = "NOOM_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,

    /// HTTPS with this certificate chain (PEM); needs --tls-key. Both files are read again on
    /// SIGHUP, so a renewed certificate needs no restart.
    #[arg(long, env = "NOOM_TLS_CERT", requires = "tls_key",
          conflicts_with_all = ["tls_self_signed", "acme_domain"])]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "NOOM_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// HTTPS with a certificate Noom makes for this machine's names and addresses, kept in
    /// --data-dir so that a browser's exception for it lasts across restarts.
    #[arg(long, env = "NOOM_TLS_SELF_SIGNED", conflicts_with = "acme_domain")]
    pub tls_self_signed: bool,

    /// HTTPS with certificates for these domains (comma-separated) from an ACME CA, by the
    /// TLS-ALPN-01 challenge on this port (so it must be reachable as port 443 of the domain);
    /// kept in --data-dir and renewed automatically.
    #[arg(long, env = "NOOM_ACME_DOMAIN", value_delimiter = ',')]
    pub acme_domain: Vec<String>,

    /// Contact address given to the ACME CA (expiry warnings go there).
    #[arg(long, env = "NOOM_ACME_EMAIL", requires = "acme_domain")]
    pub acme_email: Option<String>,

    /// The ACME CA's directory URL.
    #[arg(long, env = "NOOM_ACME_DIRECTORY", default_value = LETS_ENCRYPT,
          requires = "acme_domain")]
    pub acme_directory: String,

    /// Trust this CA (PEM) for the ACME directory's own HTTPS, for a private ACME CA.
    #[arg(long, env = "NOOM_ACME_DIRECTORY_CA", requires = "acme_domain")]
    pub acme_directory_ca: Option<PathBuf>,

    /// Where Noom keeps what must outlive a restart: the self-signed certificate, ACME account
    /// and certificates.
    #[arg(long, env = "NOOM_DATA_DIR", default_value = "noom-data")]
    pub data_dir: PathBuf,

    /// STUN/TURN servers handed to browsers: a JSON array of RTCIceServer objects
    /// (`[{"urls":["turn:turn.example.org"],"username":"u","credential":"p"}]`) or a
    /// comma-separated list of URLs (`stun:stun.example.org:3478`). Default: none.
    #[arg(long, env = "NOOM_ICE_SERVERS", default_value = "", value_parser = IceServers::parse,
          hide_env_values = true, hide_default_value = true)]
    pub ice_servers: IceServers,

    /// The secret shared with the TURN server (coturn's `static-auth-secret`): every
    /// connection gets its own short-lived TURN credentials for --turn-urls.
    #[arg(
        long,
        env = "NOOM_TURN_SECRET",
        hide_env_values = true,
        requires = "turn_urls",
        conflicts_with = "turn_secret_file"
    )]
    pub turn_secret: Option<Secret>,

    /// Like --turn-secret, read from this file (its first line), so it is not in the process
    /// list or the environment.
    #[arg(long, env = "NOOM_TURN_SECRET_FILE", requires = "turn_urls")]
    pub turn_secret_file: Option<PathBuf>,

    /// The TURN server's URLs for the minted credentials (comma-separated `turn:` or `turns:`,
    /// e.g. `turn:turn.example.org:3478,turns:turn.example.org:443?transport=tcp`).
    #[arg(long, env = "NOOM_TURN_URLS", value_delimiter = ',', value_parser = turn_url)]
    pub turn_urls: Vec<String>,

    /// How long minted TURN credentials last.
    #[arg(long, env = "NOOM_TURN_TTL", default_value = "24h", value_parser = parse_duration)]
    pub turn_ttl: Duration,

    /// Browsers send media only through the TURN relay (`iceTransportPolicy: "relay"`), so
    /// peers never learn each other's addresses. Every byte of every call then crosses the
    /// relay.
    #[arg(long, env = "NOOM_ICE_RELAY_ONLY")]
    pub ice_relay_only: bool,

    /// Most participants in one room.
    #[arg(long, env = "NOOM_MAX_ROOM_SIZE", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub max_room_size: u32,

    /// Most rooms open at once; a join that would open another is refused with
    /// `too_many_rooms` (existing rooms can still be joined).
    #[arg(long, env = "NOOM_MAX_ROOMS", default_value_t = 10_000)]
    pub max_rooms: usize,

    /// Largest file people may send one another, in bytes. Files go peer to peer and are held
    /// in memory in every browser; browsers are told the cap in `welcome`, state it, and refuse
    /// larger files.
    #[arg(long, env = "NOOM_MAX_FILE_BYTES", default_value_t = DEFAULT_MAX_FILE_BYTES,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_file_bytes: u64,

    /// Largest WebSocket message accepted, in bytes; a larger one closes the socket with 1009.
    #[arg(long, env = "NOOM_MAX_FRAME_BYTES", default_value_t = 64 * 1024)]
    pub max_frame_bytes: usize,

    /// Most connections (HTTP and WebSocket) open at once; more are closed on arrival.
    /// 0: the process's open-file limit less 100 (for Redis, TLS files and the like).
    #[arg(long, env = "NOOM_MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,

    /// Most connections open at once from one client address (people behind one NAT share
    /// an address: leave room for them). 127.0.0.1 and ::1, where a reverse proxy on this
    /// machine connects from, have only the total cap.
    #[arg(long, env = "NOOM_MAX_CONNECTIONS_PER_IP", default_value_t = 200)]
    pub max_connections_per_ip: usize,

    /// Most rooms that joins from one client address may have opened and that are still
    /// open (127.0.0.1 and ::1, a local proxy, are not counted). The seats held for one
    /// address's lost connections are capped by --max-connections-per-ip.
    #[arg(long, env = "NOOM_MAX_ROOMS_PER_IP", default_value_t = 50)]
    pub max_rooms_per_ip: usize,

    /// `public`: the lobby lists every room with its count (rooms with a password or a
    /// lobby as locked). `off`: the list is always empty, for deployments whose room names
    /// are secret.
    #[arg(long, env = "NOOM_ROOM_LIST", value_enum, default_value_t = RoomList::Public)]
    pub room_list: RoomList,

    /// Behind a reverse proxy on another machine: take each client's address from this
    /// header (e.g. `X-Forwarded-For`, whose last entry is the one the proxy added), for the
    /// per-address caps and rate limits. Only set it when every connection comes through the
    /// proxy, since a client reaching Noom directly could claim any address.
    #[arg(long, env = "NOOM_TRUST_PROXY_HEADER", value_parser = parse_header_name)]
    pub trust_proxy_header: Option<hyper::header::HeaderName>,

    /// Messages per second one connection may send, sustained.
    #[arg(long, env = "NOOM_RATE_LIMIT", default_value_t = 50)]
    pub rate_limit: u32,

    /// Messages per second all connections from one address may send together, sustained;
    /// kept for a minute after the last one closes, so reconnecting does not reset it.
    /// 127.0.0.1 and ::1 (a local reverse proxy) have only the per-connection limit.
    #[arg(long, env = "NOOM_RATE_LIMIT_PER_IP", default_value_t = 250)]
    pub rate_limit_per_ip: u32,

    /// Messages one address may send in a burst above its sustained rate.
    #[arg(long, env = "NOOM_RATE_BURST_PER_IP", default_value_t = 1000)]
    pub rate_burst_per_ip: u32,

    /// Messages one connection may send in a burst above the sustained rate.
    #[arg(long, env = "NOOM_RATE_BURST", default_value_t = 200)]
    pub rate_burst: u32,

    /// Names this server is reached by (comma-separated, e.g. `meet.example.org`). Requests
    /// for any other name are refused, which stops DNS rebinding; IP addresses, `localhost`,
    /// this machine's name and the --acme-domain names are always accepted.
    #[arg(long, env = "NOOM_PUBLIC_HOST", value_delimiter = ',')]
    pub public_host: Vec<String>,

    /// Web origins, besides the server's own, whose pages may open the WebSocket
    /// (comma-separated, e.g. `https://meet.example.org`).
    #[arg(long, env = "NOOM_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// A connection silent this long (no frame, no pong) is dropped; pings go out at a third.
    #[arg(long, env = "NOOM_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: Duration,

    /// How long a client may take to send a request's headers, and how long an idle
    /// keep-alive connection stays open.
    #[arg(long, env = "NOOM_HTTP_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub http_timeout: Duration,

    /// Messages queued for one connection before it counts as too slow and is dropped.
    #[arg(long, env = "NOOM_SEND_QUEUE", default_value_t = 256)]
    pub send_queue: usize,

    /// Bytes queued for one connection before it counts as too slow and is dropped (with
    /// --send-queue, whichever comes first).
    #[arg(long, env = "NOOM_SEND_QUEUE_BYTES", default_value_t = 1024 * 1024)]
    pub send_queue_bytes: usize,

    /// How long the seat of a connection that was lost (not closed) is kept for the client to
    /// resume it, unseen by the room. 0 turns resuming off.
    #[arg(long, env = "NOOM_RESUME_GRACE", default_value = "30s", value_parser = parse_duration)]
    pub resume_grace: Duration,

    /// Turns on the admin view at `/admin` for whoever has this token (sent as
    /// `Authorization: Bearer <token>`). Default: off.
    #[arg(
        long,
        env = "NOOM_ADMIN_TOKEN",
        hide_env_values = true,
        conflicts_with = "admin_token_file"
    )]
    pub admin_token: Option<Secret>,

    /// Like --admin-token, read from this file (its first line).
    #[arg(long, env = "NOOM_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,

    /// The admin view only watches: no disconnecting people or closing rooms.
    #[arg(long, env = "NOOM_ADMIN_READONLY")]
    pub admin_readonly: bool,

    /// The admin view shows each participant's IP address.
    #[arg(long, env = "NOOM_ADMIN_SHOW_IP")]
    pub admin_show_ip: bool,

    /// Serve Prometheus metrics at `/metrics` on this address (e.g. `127.0.0.1:9090`); keep it
    /// off the public network. Default: off.
    #[arg(long, env = "NOOM_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Redis to share rooms with other nodes (`redis://host:6379`). Without it this node
    /// serves alone, in memory. Every node of a cluster must use the same max room size.
    #[arg(long, env = "NOOM_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Turns on the SFU, with all its media on this one UDP address (e.g. `0.0.0.0:8080`, the
    /// HTTP port's number): rooms beyond --mesh-max members then send their media through the
    /// server. Default: off (every room is a mesh). In a cluster each node has its own media
    /// port, and a room's media lives on the node where it became an SFU room.
    #[arg(long, env = "NOOM_SFU_UDP")]
    pub sfu_udp: Option<SocketAddr>,

    /// The address browsers reach the SFU's port at, advertised in its ICE candidate (the
    /// public address, behind a 1:1 NAT). Needed when --sfu-udp binds every address.
    #[arg(long, env = "NOOM_SFU_PUBLIC_IP", requires = "sfu_udp")]
    pub sfu_public_ip: Option<std::net::IpAddr>,

    /// With the SFU on, the most members a room keeps its media peer to peer for (the
    /// default 2 keeps a 1:1 call direct); a larger room uses the SFU.
    #[arg(long, env = "NOOM_MESH_MAX", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub mesh_max: u32,

    /// With the SFU on, the most media one participant may send through it, in kbit/s
    /// (camera, screen and microphone together; bursts of one second's worth pass). Beyond
    /// it, frames are not forwarded.
    #[arg(long, env = "NOOM_SFU_MAX_KBPS", default_value_t = 6_000,
          value_parser = clap::value_parser!(u32).range(100..=100_000))]
    pub sfu_max_kbps: u32,

    /// With the SFU on, the most cameras one participant receives: in a larger room, those of
    /// the people who spoke most recently (the others show as their names). Audio and shared
    /// screens always go to everyone.
    #[arg(long, env = "NOOM_SFU_LAST_N", default_value_t = 9,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub sfu_last_n: u32,
}

impl Default for Config {
    /// The defaults above, ignoring the environment and the command line.
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            static_dir: None,
            tls_cert: None,
            tls_key: None,
            tls_self_signed: false,
            acme_domain: Vec::new(),
            acme_email: None,
            acme_directory: LETS_ENCRYPT.to_owned(),
            acme_directory_ca: None,
            data_dir: PathBuf::from("noom-data"),
            ice_servers: IceServers::default(),
            turn_secret: None,
            turn_secret_file: None,
            turn_urls: Vec::new(),
            turn_ttl: Duration::from_secs(24 * 3600),
            ice_relay_only: false,
            max_room_size: 8,
            max_rooms: 10_000,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_frame_bytes: 64 * 1024,
            max_connections: 0,
            max_connections_per_ip: 200,
            trust_proxy_header: None,
            max_rooms_per_ip: 50,
            room_list: RoomList::Public,
            rate_limit: 50,
            rate_burst: 200,
            rate_limit_per_ip: 250,
            rate_burst_per_ip: 1000,
            public_host: Vec::new(),
            allowed_origins: Vec::new(),
            idle_timeout: Duration::from_secs(60),
            http_timeout: Duration::from_secs(10),
            send_queue: 256,
            send_queue_bytes: 1024 * 1024,
            resume_grace: Duration::from_secs(30),
            admin_token: None,
            admin_token_file: None,
            admin_readonly: false,
            admin_show_ip: false,
            metrics_listen: None,
            redis_url: None,
            sfu_udp: None,
            sfu_public_ip: None,
            mesh_max: 2,
            sfu_max_kbps: 6_000,
            sfu_last_n: 9,
        }
    }
}

/// Whether the lobby is shown the rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoomList {
    Public,
    Off,
}

fn parse_header_name(name: &str) -> Result<hyper::header::HeaderName, String> {
    name.parse()
        .map_err(|_| format!("{name:?} is not an HTTP header name"))
}

/// A value that must not reach logs or `--help`: its `Debug` says `<hidden>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Why a secret file gave no secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("cannot read the secret in {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} holds no secret on its first line")]
    Empty(PathBuf),
}

impl Secret {
    /// The first line of `path`, trimmed.
    pub fn from_file(path: &std::path::Path) -> Result<Self, SecretFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let line = text.lines().next().unwrap_or_default().trim();
        if line.is_empty() {
            return Err(SecretFileError::Empty(path.to_owned()));
        }
        Ok(Self(line.to_owned()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<hidden>")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        if raw.trim().is_empty() {
            return Err("the secret is empty".into());
        }
        Ok(Self(raw.to_owned()))
    }
}

/// A URL for --turn-urls.
fn turn_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.starts_with("turn:") || raw.starts_with("turns:") {
        Ok(raw.to_owned())
    } else {
        Err(format!("`{raw}` is not a turn: or turns: URL"))
    }
}

/// How the listener speaks: one of these per start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    Plain,
    Files { cert: PathBuf, key: PathBuf },
    SelfSigned,
    Acme { domains: Vec<String> },
}

impl Config {
    pub fn tls_mode(&self) -> TlsMode {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => TlsMode::Files {
                cert: cert.clone(),
                key: key.clone(),
            },
            _ if self.tls_self_signed => TlsMode::SelfSigned,
            _ if !self.acme_domain.is_empty() => TlsMode::Acme {
                domains: self.acme_domain.clone(),
            },
            _ => TlsMode::Plain,
        }
    }
}

/// The ICE servers given to every browser in `welcome`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceServers(pub Vec<IceServer>);

impl IceServers {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with('[') {
            return serde_json::from_str(raw)
                .map(Self)
                .map_err(|err| format!("ICE servers are not a JSON array of RTCIceServer: {err}"));
        }
        let urls: Vec<String> = raw
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(bad) = urls.iter().find(|url| {
            !["stun:", "stuns:", "turn:", "turns:"]
                .iter()
                .any(|s| url.starts_with(s))
        }) {
            return Err(format!(
                "`{bad}` is not a stun:, stuns:, turn: or turns: URL"
            ));
        }
        Ok(Self(
            urls.into_iter()
                .map(|url| IceServer {
                    urls: vec![url],
                    username: None,
                    credential: None,
                })
                .collect(),
        ))
    }
}

/// Parses `250ms`, `30s`, `2m`, `24h` or a bare number of seconds.
fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (number, unit) = raw
        .find(|c: char| !c.is_ascii_digit())
        .map_or((raw, "s"), |at| raw.split_at(at));
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration such as 250ms, 30s, 2m or 24h"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(value)),
        "s" => Ok(Duration::from_secs(value)),
        "m" => Ok(Duration::from_secs(value * 60)),
        "h" => Ok(Duration::from_secs(value * 3600)),
        _ => Err(format!("`{raw}` has an unknown unit: use ms, s, m or h")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_command_line_defaults() {
        let parsed = Config::parse_from(["noom-server"]);
        let default = Config::default();
        assert_eq!(parsed.listen, default.listen);
        assert_eq!(parsed.max_room_size, default.max_room_size);
        assert_eq!(parsed.mesh_max, default.mesh_max);
        assert_eq!(parsed.sfu_max_kbps, default.sfu_max_kbps);
        assert_eq!(parsed.sfu_last_n, default.sfu_last_n);
        assert_eq!(parsed.idle_timeout, default.idle_timeout);
        assert_eq!(parsed.ice_servers, default.ice_servers);
    }

    #[test]
    fn one_way_to_get_a_certificate_per_start() {
        let mode = |args: &[&str]| {
            Config::try_parse_from(std::iter::once("noom-server").chain(args.iter().copied()))
                .map(|config| config.tls_mode())
        };
        assert_eq!(mode(&[]).unwrap(), TlsMode::Plain);
        assert_eq!(mode(&["--tls-self-signed"]).unwrap(), TlsMode::SelfSigned);
        assert_eq!(
            mode(&["--acme-domain", "a.example,b.example"]).unwrap(),
            TlsMode::Acme {
                domains: vec!["a.example".into(), "b.example".into()]
            }
        );
        assert!(matches!(
            mode(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).unwrap(),
            TlsMode::Files { .. }
        ));
        assert!(mode(&["--tls-cert", "c.pem"]).is_err(), "a key is needed");
        assert!(mode(&["--tls-self-signed", "--acme-domain", "a.example"]).is_err());
        assert!(mode(&["--tls-cert", "c", "--tls-key", "k", "--tls-self-signed"]).is_err());
        assert!(mode(&["--acme-email", "me@example.org"]).is_err());
    }

    #[test]
    fn ice_servers_from_urls_or_json() {
        let list = IceServers::parse("stun:a.example:3478, turn:b.example").unwrap();
        assert_eq!(list.0.len(), 2);
        assert_eq!(list.0[1].urls, vec!["turn:b.example".to_owned()]);
        let json =
            IceServers::parse(r#"[{"urls":["turn:t"],"username":"u","credential":"c"}]"#).unwrap();
        assert_eq!(json.0[0].username.as_deref(), Some("u"));
        assert!(IceServers::parse("http://nope").is_err());
        assert!(IceServers::parse("").unwrap().0.is_empty());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("fast").is_err());
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("3d").is_err());
    }
}
