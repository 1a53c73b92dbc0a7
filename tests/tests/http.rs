//! The HTTP side of the one port: health, the web app with client-route fallback, and the
//! WebSocket's origin check.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::PathBuf;

use noom_server::Config;
use noom_tests::TestServer;
use noom_tests::http::get;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

fn app_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("noom-http-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>Noom</title>").unwrap();
    std::fs::write(dir.join("app-1a2b.js"), "console.log('noom')").unwrap();
    std::fs::write(dir.join("app-1a2b_bg.wasm"), b"\0asm").unwrap();
    dir
}

#[tokio::test]
async fn a_large_file_from_the_static_dir_arrives_whole_with_its_length() {
    let dir = app_dir("large");
    let bytes: Vec<u8> = (0..3_000_000u32).map(|n| (n % 251) as u8).collect();
    std::fs::write(dir.join("big-1a2b.wasm"), &bytes).unwrap();
    let server = TestServer::with_config(Config {
        static_dir: Some(dir),
        ..Config::default()
    })
    .await;
    let big = get(server.addr, "/big-1a2b.wasm", &[]).await;
    assert_eq!(big.status, 200);
    assert_eq!(big.header("content-length"), Some("3000000"));
    assert!(big.body == bytes, "the same bytes, in order");
}

#[tokio::test]
async fn health_app_shell_assets_and_404s() {
    let server = TestServer::with_config(Config {
        static_dir: Some(app_dir("shell")),
        ..Config::default()
    })
    .await;
    let health = get(server.addr, "/healthz", &[]).await;
    assert_eq!(
        (health.status, health.body.as_slice()),
        (200, b"ok\n".as_slice())
    );

    for route in ["/", "/room/standup", "/room/v1.2?x=1"] {
        let page = get(server.addr, route, &["Accept: text/html"]).await;
        assert_eq!(page.status, 200, "{route}");
        assert!(
            String::from_utf8_lossy(&page.body).contains("<title>Noom</title>"),
            "{route}"
        );
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
    }
    let js = get(server.addr, "/app-1a2b.js", &[]).await;
    assert_eq!(js.status, 200);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    let wasm = get(server.addr, "/app-1a2b_bg.wasm", &[]).await;
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));

    assert_eq!(get(server.addr, "/missing.js", &[]).await.status, 404);
    assert_eq!(get(server.addr, "/../Cargo.toml", &[]).await.status, 400);
    assert_eq!(
        get(server.addr, "/ws", &[]).await.status,
        400,
        "plain GET on the socket path"
    );
}

#[tokio::test]
async fn an_unbuilt_app_says_how_to_build_it() {
    let server = TestServer::with_config(Config {
        static_dir: Some("/nonexistent/noom".into()),
        ..Config::default()
    })
    .await;
    let page = get(server.addr, "/", &[]).await;
    assert_eq!(page.status, 404);
    assert!(String::from_utf8_lossy(&page.body).contains("trunk build"));
}

async fn upgrade_status(server: &TestServer, origin: &str) -> u16 {
    let mut request = server.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Origin", HeaderValue::from_str(origin).unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("unexpected handshake failure: {other}"),
    }
}

#[tokio::test]
async fn only_the_own_origin_and_allowed_origins_may_open_the_socket() {
    let config = Config {
        allowed_origins: vec!["https://meet.example.org".into()],
        ..Config::default()
    };
    let server = TestServer::with_config(config).await;
    assert_eq!(upgrade_status(&server, &server.http_url()).await, 101);
    assert_eq!(
        upgrade_status(&server, "https://meet.example.org").await,
        101
    );
    assert_eq!(upgrade_status(&server, "https://evil.example").await, 403);
    assert_eq!(upgrade_status(&server, "null").await, 403);
}

/// How long the server takes to close `stream` after `sent` was written to it.
async fn closed_after(sent: &[u8], server: &TestServer) -> std::time::Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(sent).await.unwrap();
    let started = std::time::Instant::now();
    let mut sink = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut sink),
    )
    .await
    .expect("the server closes the connection")
    .ok();
    started.elapsed()
}

#[tokio::test]
async fn slow_headers_silent_and_idle_connections_are_closed() {
    let timeout = std::time::Duration::from_secs(1);
    let server = TestServer::with_config(Config {
        http_timeout: timeout,
        ..Config::default()
    })
    .await;
    for (what, sent) in [
        ("nothing sent", b"".as_slice()),
        (
            "headers never finished",
            b"GET / HTTP/1.1\r\nHost: x\r\n".as_slice(),
        ),
        (
            "idle after a request",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".as_slice(),
        ),
    ] {
        let took = closed_after(sent, &server).await;
        println!("{what}: closed after {took:?}");
        assert!(
            took >= timeout / 2 && took < timeout * 5,
            "{what}: {took:?}"
        );
    }
}

#[tokio::test]
async fn nothing_outside_the_app_is_served_and_pages_carry_a_strict_policy() {
    let dir = app_dir("strict");
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><script type=\"module\">start()</script>",
    )
    .unwrap();
    std::fs::write(dir.join(".env"), "SECRET=1").unwrap();
    let _ = std::fs::remove_file(dir.join("leak.txt"));
    std::os::unix::fs::symlink("/etc/hostname", dir.join("leak.txt")).unwrap();
    let server = TestServer::with_config(Config {
        static_dir: Some(dir),
        ..Config::default()
    })
    .await;
    assert_ne!(
        get(server.addr, "/.env", &[]).await.status,
        200,
        "a dotfile"
    );
    assert_eq!(
        get(server.addr, "/leak.txt", &[]).await.status,
        404,
        "a symlink out of the root"
    );

    let page = get(server.addr, "/room/x", &["Accept: text/html"]).await;
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let policy = page.header("content-security-policy").unwrap();
    // SHA-256 of `start()`, base64.
    assert!(policy.contains("'sha256-"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"));
    assert!(!policy.contains("script-src 'self' 'unsafe-inline'"));
    let js = get(server.addr, "/app-1a2b.js", &[]).await;
    assert_eq!(js.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn names_that_are_not_ours_are_refused_against_dns_rebinding() {
    let server = TestServer::with_config(Config {
        static_dir: Some(app_dir("names")),
        public_host: vec!["meet.example.org".into()],
        ..Config::default()
    })
    .await;
    let ask = |host: &'static str, path: &'static str, headers: &'static [&'static str]| async move {
        let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        noom_tests::http::get_over(stream, host, path, headers).await
    };
    let upgrade: &[&str] = &[
        "Origin: http://evil.example:8080",
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    ];
    let page = ask("evil.example:8080", "/", &[]).await;
    assert_eq!(page.status, 421);
    assert!(String::from_utf8_lossy(&page.body).contains("--public-host evil.example"));
    assert_eq!(ask("evil.example:8080", "/ws", upgrade).await.status, 421);
    assert_eq!(ask("evil.example:8080", "/healthz", &[]).await.status, 200);
    for ours in ["meet.example.org", "localhost:8080", "127.0.0.1:8080"] {
        assert_eq!(ask(ours, "/", &[]).await.status, 200, "{ours}");
    }
}
