//! Certificates from an ACME CA (Let's Encrypt by default) by TLS-ALPN-01 on the HTTPS port,
//! cached in the data directory and renewed before they expire (by `rustls-acme`).

use std::path::Path;
use std::sync::Arc;

use futures_util::StreamExt;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_acme::AcmeConfig;
use rustls_acme::caches::DirCache;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{TlsError, provider};
use crate::config::Config;

/// The resolver serving the current certificate, and the configuration for the CA's
/// validation handshakes. Ordering, renewal and caching run in a task until `stop`; until
/// the first certificate arrives, HTTPS handshakes fail.
pub(super) fn start(
    config: &Config,
    domains: Vec<String>,
    stop: CancellationToken,
) -> Result<(Arc<rustls_acme::ResolvesServerCertAcme>, Arc<ServerConfig>), TlsError> {
    let cache = config.data_dir.join("acme");
    let base = match &config.acme_directory_ca {
        Some(ca) => AcmeConfig::new_with_client_config(domains.clone(), client_trusting(ca)?),
        None => AcmeConfig::new(domains.clone()),
    };
    let mut state = base
        .contact(
            config
                .acme_email
                .iter()
                .map(|email| format!("mailto:{email}")),
        )
        .cache(DirCache::new(cache.clone()))
        .directory(&config.acme_directory)
        .state();
    let resolver = state.resolver();
    let challenge = state.challenge_rustls_config_with_provider(provider());
    info!(?domains, directory = %config.acme_directory, cache = %cache.display(),
          "HTTPS with certificates from ACME");
    if config.listen.port() != 443 {
        warn!(
            port = config.listen.port(),
            "the CA validates on port 443 of the domain: forward it to this port"
        );
    }
    tokio::spawn(async move {
        while let Some(Some(event)) = stop.run_until_cancelled(state.next()).await {
            match event {
                Ok(event) => info!(?event, "ACME"),
                Err(err) => warn!(?err, "ACME failed; trying again later"),
            }
        }
    });
    Ok((resolver, challenge))
}

/// A client for the CA's API that trusts the roots in `ca` (PEM).
fn client_trusting(ca: &Path) -> Result<Arc<ClientConfig>, TlsError> {
    let pem = std::fs::read(ca).map_err(|source| TlsError::Read {
        path: ca.to_owned(),
        source,
    })?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|_| TlsError::Pem {
            path: ca.to_owned(),
            what: "certificate",
        })?;
        roots.add(cert)?;
    }
    Ok(Arc::new(
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}
