//! A certificate Noom makes for this machine, kept in the data directory so that a browser's
//! exception for it (or a pinned fingerprint) survives restarts.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use super::TlsError;
use super::files::{Current, load};
use crate::config::Config;

/// Apple's limit for TLS server certificates.
const VALID_FOR: Duration = Duration::from_secs(825 * 24 * 3600);
/// Made anew when older than this, before browsers start refusing it.
const RENEW_AFTER: Duration = Duration::from_secs(800 * 24 * 3600);

/// The certificate in `<data dir>/tls/`, made first if missing or old.
pub(super) async fn load_or_make(config: &Config) -> Result<Arc<Current>, TlsError> {
    let dir = config.data_dir.join("tls");
    let cert = dir.join("self-signed-cert.pem");
    let key = dir.join("self-signed-key.pem");
    let names = names_of_this_machine(config.listen.ip());
    if needs_making(&cert, &key).await {
        make(&dir, &cert, &key, &names).await?;
        info!(cert = %cert.display(), ?names, "made a self-signed certificate");
    }
    let loaded = load(&cert, &key).await?;
    let fingerprint = fingerprint(loaded.end_entity_cert()?);
    info!(
        cert = %cert.display(),
        sha256 = %fingerprint,
        "HTTPS with a self-signed certificate: browsers warn once; compare this fingerprint"
    );
    Ok(Current::new(loaded))
}

async fn needs_making(cert: &Path, key: &Path) -> bool {
    let (Ok(meta), true) = (tokio::fs::metadata(cert).await, is_file(key).await) else {
        return true;
    };
    let age = meta
        .modified()
        .ok()
        .and_then(|at| SystemTime::now().duration_since(at).ok());
    if age.is_some_and(|age| age > RENEW_AFTER) {
        warn!(cert = %cert.display(), "the self-signed certificate is old: making a new one");
        return true;
    }
    false
}

async fn is_file(path: &Path) -> bool {
    tokio::fs::metadata(path).await.is_ok_and(|m| m.is_file())
}

async fn make(dir: &Path, cert: &Path, key: &Path, names: &[String]) -> Result<(), TlsError> {
    let pair = KeyPair::generate()?;
    let mut params = CertificateParams::new(names.to_vec())?;
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, format!("Noom on {}", names[0]));
    params.distinguished_name = subject;
    let now = SystemTime::now();
    params.not_before = (now - Duration::from_secs(24 * 3600)).into();
    params.not_after = (now + VALID_FOR).into();
    let certificate = params.self_signed(&pair)?;

    create_dir(dir).await?;
    write(cert, certificate.pem(), 0o644).await?;
    write(key, pair.serialize_pem(), 0o600).await
}

/// `localhost`, the host name (and its `.local` mDNS name, which phones on the LAN resolve),
/// the listening address and every address of this machine's interfaces.
fn names_of_this_machine(listening: IpAddr) -> Vec<String> {
    let mut names = vec!["localhost".to_owned()];
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default();
    if !host.is_empty() && host != "localhost" {
        names.push(format!("{host}.local"));
        names.insert(0, host);
    }
    let mut addresses: BTreeSet<IpAddr> = [
        Ipv4Addr::LOCALHOST.into(),
        Ipv6Addr::LOCALHOST.into(),
        listening,
    ]
    .into();
    for interface in if_addrs::get_if_addrs().unwrap_or_default() {
        addresses.insert(interface.ip());
    }
    addresses.retain(|ip| !ip.is_unspecified());
    names.extend(addresses.iter().map(IpAddr::to_string));
    names
}

/// `AB:CD:…`, as browsers show a certificate's SHA-256 fingerprint.
fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

async fn create_dir(dir: &Path) -> Result<(), TlsError> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|source| TlsError::Write {
            path: dir.to_owned(),
            source,
        })
}

async fn write(path: &Path, text: String, mode: u32) -> Result<(), TlsError> {
    let failed = |source| TlsError::Write {
        path: PathBuf::from(path),
        source,
    };
    tokio::fs::write(path, text).await.map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .await
            .map_err(failed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_like_a_browser_shows_them() {
        let print = fingerprint(b"noom");
        assert_eq!(print.len(), 32 * 3 - 1);
        assert!(print.starts_with("67:A7:"), "{print}");
        assert!(
            print
                .chars()
                .all(|c| c == ':' || c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
    }

    #[test]
    fn names_cover_loopback_and_the_listening_address() {
        let names = names_of_this_machine("192.0.2.7".parse().unwrap());
        for expected in ["localhost", "127.0.0.1", "::1", "192.0.2.7"] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        assert!(!names.iter().any(|n| n == "0.0.0.0" || n == "::"));
    }
}
