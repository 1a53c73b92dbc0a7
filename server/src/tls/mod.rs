//! HTTPS on the listening port. One source of certificates per start (see [`TlsMode`]): PEM
//! files reloaded on SIGHUP, a self-signed certificate kept in the data directory, or ACME.
//! A plain-HTTP request to the HTTPS port is redirected to `https://`.

mod acme;
mod files;
mod self_signed;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{Acceptor, ResolvesServerCert};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, TlsMode};

/// How long a client may take from connecting to finishing the TLS handshake.
const HANDSHAKE_WITHIN: Duration = Duration::from_secs(10);
/// The first byte of every TLS connection (a handshake record).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no usable {what}")]
    Pem { path: PathBuf, what: &'static str },
    #[error("the certificate and key do not belong together: {0}")]
    Mismatch(rustls::Error),
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS set-up failed: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot watch for SIGHUP to reload the certificate: {0}")]
    Signal(std::io::Error),
}

/// What a new connection turned out to be.
pub(crate) enum Accepted {
    Tls(Box<TlsStream<TcpStream>>),
    /// Plain HTTP sent to the HTTPS port.
    Plain(TcpStream),
    /// Handled here (an ACME challenge) or failed: nothing more to do.
    Done,
}

/// Accepts TLS connections with the configured certificates.
pub(crate) struct Tls {
    config: Arc<ServerConfig>,
    /// For ACME TLS-ALPN-01 validation handshakes.
    challenge: Option<Arc<ServerConfig>>,
}

impl Tls {
    /// Loads or makes the certificate; starts what keeps it fresh (SIGHUP reload, ACME
    /// renewal) until `stop`. `None` when the configuration asks for plain HTTP.
    pub(crate) async fn start(
        config: &Config,
        stop: &CancellationToken,
    ) -> Result<Option<Self>, TlsError> {
        let tls = match config.tls_mode() {
            TlsMode::Plain => return Ok(None),
            TlsMode::Files { cert, key } => Self {
                config: server_config(files::reloading(cert, key, stop.clone()).await?)?,
                challenge: None,
            },
            TlsMode::SelfSigned => Self {
                config: server_config(self_signed::load_or_make(config).await?)?,
                challenge: None,
            },
            TlsMode::Acme { domains } => {
                let (resolver, challenge) = acme::start(config, domains, stop.clone())?;
                Self {
                    config: server_config(resolver)?,
                    challenge: Some(challenge),
                }
            }
        };
        Ok(Some(tls))
    }

    pub(crate) async fn accept(&self, stream: TcpStream) -> Accepted {
        timeout(HANDSHAKE_WITHIN, self.handshake(stream))
            .await
            .unwrap_or(Accepted::Done)
    }

    async fn handshake(&self, stream: TcpStream) -> Accepted {
        let mut first = [0u8; 1];
        match stream.peek(&mut first).await {
            Ok(1) if first[0] == TLS_HANDSHAKE_RECORD => {}
            Ok(1) => return Accepted::Plain(stream),
            _ => return Accepted::Done,
        }
        let Ok(start) = LazyConfigAcceptor::new(Acceptor::default(), stream).await else {
            return Accepted::Done;
        };
        let challenge = self
            .challenge
            .as_ref()
            .filter(|_| rustls_acme::is_tls_alpn_challenge(&start.client_hello()));
        match challenge {
            // The CA only checks the certificate it is shown, then hangs up.
            Some(challenge) => {
                if let Ok(mut stream) = start.into_stream(challenge.clone()).await {
                    let _ = stream.shutdown().await;
                }
                Accepted::Done
            }
            None => match start.into_stream(self.config.clone()).await {
                Ok(stream) => Accepted::Tls(Box::new(stream)),
                Err(_) => Accepted::Done,
            },
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn server_config(resolver: Arc<dyn ResolvesServerCert>) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
