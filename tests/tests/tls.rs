//! HTTPS built in, with real TLS clients against the real binary: certificate files with
//! WSS on the same port and SIGHUP reloads; a self-signed certificate made once and kept.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Instant;

use futures_util::StreamExt;
use noom_tests::binary::{ServerProcess, empty_dir, field, server_executable};
use noom_tests::http::{get, get_over};
use noom_tests::tls::{connect, presented, read_cert, trusting, write_localhost_cert};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn https_and_wss_from_certificate_files_reloaded_on_sighup() {
    let dir = empty_dir("tls-files");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let first = write_localhost_cert(&cert, &key);
    let mut server = ServerProcess::start(
        &server_executable(),
        &dir,
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(field(&server.log(), "scheme").as_deref(), Some("https"));
    let trusts_first = trusting(std::slice::from_ref(&first));

    let stream = connect(&trusts_first, server.addr, "localhost")
        .await
        .unwrap();
    assert_eq!(presented(&stream), first);
    let app = get_over(stream, "localhost", "/room/x", &["Accept: text/html"]).await;
    assert_eq!(app.status, 200, "the app over HTTPS");

    // The WebSocket over the same listener: wss:// greets with `welcome`.
    let stream = connect(&trusts_first, server.addr, "localhost")
        .await
        .unwrap();
    let url = format!("wss://localhost:{}/ws", server.addr.port());
    let (mut socket, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    let welcome = socket.next().await.unwrap().unwrap();
    assert!(matches!(welcome, Message::Text(ref t) if t.contains("\"welcome\"")));

    // Someone typing http:// for this port is sent to https://, path kept.
    let typed = get(server.addr, "/room/x?y=1", &[]).await;
    assert_eq!(typed.status, 308);
    assert_eq!(
        typed.header("location"),
        Some(format!("https://{}/room/x?y=1", server.addr).as_str())
    );

    // A renewed certificate is served after SIGHUP, without a restart.
    let second = write_localhost_cert(&cert, &key);
    let started = Instant::now();
    server.signal("HUP");
    server.wait_for_log("reloaded the certificate");
    println!("reloaded in {:?}", started.elapsed());
    // Fresh clients each time: one that connected before would resume its TLS session.
    let both = || trusting(&[first.clone(), second.clone()]);
    let stream = connect(&both(), server.addr, "localhost").await.unwrap();
    assert_eq!(presented(&stream), second);
    let only_first = trusting(std::slice::from_ref(&first));
    assert!(
        connect(&only_first, server.addr, "localhost")
            .await
            .is_err(),
        "the old certificate is gone"
    );

    // A broken renewal keeps the working certificate.
    std::fs::write(&key, "not a key").unwrap();
    server.signal("HUP");
    server.wait_for_log("kept the old certificate");
    let stream = connect(&both(), server.addr, "localhost").await.unwrap();
    assert_eq!(presented(&stream), second);
}

#[tokio::test]
async fn a_self_signed_certificate_is_made_once_and_kept_across_restarts() {
    let dir = empty_dir("tls-self-signed");
    let args = ["--listen", "127.0.0.1:0", "--tls-self-signed"];
    let mut server = ServerProcess::start(&server_executable(), &dir, &args);
    let made = server.wait_for_log("HTTPS with a self-signed certificate");
    assert!(server.log().contains("made a self-signed certificate"));
    let logged = field(&made, "sha256").unwrap();
    let cert_file = dir.join("noom-data/tls/self-signed-cert.pem");
    let cert = read_cert(&cert_file);
    assert_eq!(
        logged,
        colon_hex(&sha256(&cert)),
        "the logged fingerprint is the certificate's"
    );

    let trusted = trusting(std::slice::from_ref(&cert));
    for name in ["localhost", "127.0.0.1"] {
        let stream = connect(&trusted, server.addr, name).await.unwrap();
        assert_eq!(
            get_over(stream, name, "/healthz", &[]).await.status,
            200,
            "{name}"
        );
    }
    server.stop();

    let mut again = ServerProcess::start(&server_executable(), &dir, &args);
    let reused = again.wait_for_log("HTTPS with a self-signed certificate");
    assert_eq!(
        field(&reused, "sha256").unwrap(),
        logged,
        "the same certificate"
    );
    assert!(!again.log().contains("made a self-signed certificate"));
    let stream = connect(&trusted, again.addr, "localhost").await.unwrap();
    assert_eq!(presented(&stream), cert);
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
