//! One file to deploy: the `noom-server` binary copied alone into an empty directory serves
//! the whole app from inside itself.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use noom_tests::binary::{ServerProcess, empty_dir, server_executable};
use noom_tests::http::get;

#[tokio::test]
async fn the_binary_alone_serves_the_app_from_an_empty_directory() {
    let dir = empty_dir("deploy");
    let binary = dir.join("noom-server");
    std::fs::copy(server_executable(), &binary).unwrap();
    let server = ServerProcess::start(&binary, &dir, &["--listen", "127.0.0.1:0"]);
    assert!(
        server.log().contains("app=embedded"),
        "this build has no embedded app: build dist/ first (scripts/build.sh), then the server:\n{}",
        server.log()
    );

    let index = get(server.addr, "/", &[]).await;
    assert_eq!(index.status, 200);
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    let html = String::from_utf8(index.body.clone()).unwrap();
    let deep = get(server.addr, "/room/x", &["Accept: text/html"]).await;
    assert_eq!((deep.status, deep.body), (200, index.body));

    // Trunk names the WASM in index.html; it is served as WASM, gzipped, cached for good.
    let wasm_name = html
        .split(['"', '\''])
        .find(|part| part.ends_with("_bg.wasm"))
        .expect("index.html names the WASM");
    let wasm_path = format!("/{}", wasm_name.trim_start_matches('/'));
    let plain = get(server.addr, &wasm_path, &[]).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-type"), Some("application/wasm"));
    assert!(plain.body.starts_with(b"\0asm"));
    assert_eq!(
        plain.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let packed = get(server.addr, &wasm_path, &["Accept-Encoding: gzip, br"]).await;
    assert_eq!(packed.header("content-encoding"), Some("gzip"));
    assert!(packed.body.len() < plain.body.len() / 2, "gzip pays off");
    println!(
        "WASM served: {} bytes, {} gzipped",
        plain.body.len(),
        packed.body.len()
    );

    let etag = plain.header("etag").expect("an ETag").to_owned();
    let again = get(
        server.addr,
        &wasm_path,
        &[&format!("If-None-Match: {etag}")],
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    assert_eq!(get(server.addr, "/missing.js", &[]).await.status, 404);
    server.stop();
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "a plain HTTP server leaves nothing beside itself"
    );
}
