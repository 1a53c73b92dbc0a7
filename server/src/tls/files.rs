//! A certificate and key from PEM files, read again on SIGHUP.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{TlsError, provider};

/// The certificate and key in `cert` and `key`, checked to belong together.
pub(super) async fn load(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let cert_pem = read(cert).await?;
    let key_pem = read(key).await?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .filter(|chain| !chain.is_empty())
        .ok_or_else(|| TlsError::Pem {
            path: cert.to_owned(),
            what: "certificate",
        })?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::Pem {
        path: key.to_owned(),
        what: "private key",
    })?;
    CertifiedKey::from_der(chain, private, &provider()).map_err(TlsError::Mismatch)
}

async fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    tokio::fs::read(path)
        .await
        .map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })
}

/// Serves whichever certificate was loaded last.
#[derive(Debug)]
pub(super) struct Current(RwLock<Arc<CertifiedKey>>);

impl Current {
    pub(super) fn new(key: CertifiedKey) -> Arc<Self> {
        Arc::new(Self(RwLock::new(Arc::new(key))))
    }

    fn replace(&self, key: CertifiedKey) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(key);
    }
}

impl ResolvesServerCert for Current {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.0
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

/// Loads the files now (an error stops the start) and again on every SIGHUP until `stop`;
/// a reload that fails is logged and the certificate in use stays.
pub(super) async fn reloading(
    cert: PathBuf,
    key: PathBuf,
    stop: CancellationToken,
) -> Result<Arc<Current>, TlsError> {
    let current = Current::new(load(&cert, &key).await?);
    info!(cert = %cert.display(), "HTTPS with the certificate from files; SIGHUP reloads them");
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup()).map_err(TlsError::Signal)?;
        let reloaded = current.clone();
        tokio::spawn(async move {
            while stop
                .run_until_cancelled(hangups.recv())
                .await
                .flatten()
                .is_some()
            {
                match load(&cert, &key).await {
                    Ok(fresh) => {
                        reloaded.replace(fresh);
                        info!(cert = %cert.display(), "reloaded the certificate");
                    }
                    Err(err) => warn!(%err, "kept the old certificate: the new one did not load"),
                }
            }
        });
    }
    Ok(current)
}
