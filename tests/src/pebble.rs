//! Pebble, Let's Encrypt's test ACME CA (Debian's `pebble`), on free loopback ports. It
//! validates TLS-ALPN-01 challenges for real, by connecting to the domain's address on the
//! port it is given: the port of the Noom under test.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::http::get_over;
use crate::tls::{connect, trusting, write_localhost_cert};

/// How long Pebble may take to start answering.
const START_WITHIN: Duration = Duration::from_secs(20);

pub struct TestPebble {
    /// The certificate of Pebble's own HTTPS API (trust it to reach the directory).
    pub api_cert: PathBuf,
    api: SocketAddr,
    management: SocketAddr,
    child: Child,
}

impl TestPebble {
    /// Starts Pebble with its files in `dir`, validating challenges on `tls_port`.
    pub async fn start(dir: &Path, tls_port: u16) -> Self {
        let (api_cert, api_key) = (dir.join("pebble-cert.pem"), dir.join("pebble-key.pem"));
        write_localhost_cert(&api_cert, &api_key);
        let (api, management) = (free_port(), free_port());
        let config = serde_json::json!({ "pebble": {
            "listenAddress": api.to_string(),
            "managementListenAddress": management.to_string(),
            "certificate": api_cert,
            "privateKey": api_key,
            "httpPort": free_port().port(),
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
        }});
        let config_file = dir.join("pebble.json");
        std::fs::write(&config_file, config.to_string()).expect("write Pebble's config");
        let child = Command::new("pebble")
            .arg("-config")
            .arg(&config_file)
            // Validate at once, and do not reject nonces at random.
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .stdout(Stdio::null())
            .spawn()
            .expect("pebble is installed (scripts/setup.sh --test installs it)");
        let pebble = Self {
            api_cert,
            api,
            management,
            child,
        };
        let started = Instant::now();
        while pebble.root().await.is_none() {
            assert!(started.elapsed() < START_WITHIN, "Pebble did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        pebble
    }

    pub fn directory_url(&self) -> String {
        format!("https://{}/dir", self.api)
    }

    /// The root Pebble signs certificates under (a new one each run), once it answers.
    pub async fn root(&self) -> Option<CertificateDer<'static>> {
        let client = trusting(&[CertificateDer::from_pem_file(&self.api_cert).ok()?]);
        let stream = connect(&client, self.management, "localhost").await.ok()?;
        let reply = get_over(stream, "localhost", "/roots/0", &[]).await;
        (reply.status == 200)
            .then(|| CertificateDer::from_pem_slice(&reply.body).ok())
            .flatten()
    }
}

impl Drop for TestPebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}
