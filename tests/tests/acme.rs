//! Certificates from an ACME CA: Pebble (Let's Encrypt's test CA) validates Noom's
//! TLS-ALPN-01 answer on Noom's own port and issues; Noom serves the certificate, keeps it in
//! its data directory, and serves it after a restart with the CA gone.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use noom_server::Config;
use noom_tests::TestServer;
use noom_tests::binary::empty_dir;
use noom_tests::http::get_over;
use noom_tests::pebble::TestPebble;
use noom_tests::tls::{connect, presented, trusting};
use rustls::pki_types::CertificateDer;

/// Ordering, validation and issuance on a loaded machine.
const ISSUED_WITHIN: Duration = Duration::from_secs(90);

#[tokio::test]
async fn a_certificate_from_an_acme_ca_is_served_and_kept() {
    let dir = empty_dir("acme");
    let listener = noom_server::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let addr = listener.local_addr().unwrap();
    let pebble = TestPebble::start(&dir, addr.port()).await;
    let config = Config {
        acme_domain: vec!["localhost".into()],
        acme_directory: pebble.directory_url(),
        acme_directory_ca: Some(pebble.api_cert.clone()),
        acme_email: Some("ops@example.org".into()),
        data_dir: dir.join("noom-data"),
        ..Config::default()
    };
    let root = pebble.root().await.unwrap();
    let server = TestServer::on_listener(listener, config.clone());

    let started = Instant::now();
    let issued = loop {
        if let Ok(stream) = connect(&trusting(std::slice::from_ref(&root)), addr, "localhost").await
        {
            break stream;
        }
        assert!(
            started.elapsed() < ISSUED_WITHIN,
            "no certificate from the CA within {ISSUED_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!(
        "certificate issued and served after {:?}",
        started.elapsed()
    );
    let served = presented(&issued);
    assert_eq!(
        get_over(issued, "localhost", "/healthz", &[]).await.status,
        200
    );
    server.shutdown().await;

    // The CA gone, a restart serves the kept certificate at once.
    drop(pebble);
    let listener = noom_server::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let addr = listener.local_addr().unwrap();
    let _server = TestServer::on_listener(listener, config);
    let stream = eventually_connect(&root, addr).await;
    assert_eq!(presented(&stream), served, "the kept certificate");
}

async fn eventually_connect(
    root: &CertificateDer<'static>,
    addr: SocketAddr,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let started = Instant::now();
    loop {
        match connect(&trusting(std::slice::from_ref(root)), addr, "localhost").await {
            Ok(stream) => return stream,
            Err(err) => assert!(
                started.elapsed() < Duration::from_secs(10),
                "the kept certificate is not served: {err}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
