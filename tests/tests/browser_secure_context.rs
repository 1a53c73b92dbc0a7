//! Off this machine's loopback, browsers give a page a camera only over HTTPS. Noom runs in a
//! network namespace on a veth address: over HTTPS with its self-signed certificate (this
//! Chromium trusts the key's hash, as a user's exception would) two people see each other;
//! over plain HTTP the pre-join screen says what to do instead of failing obscurely.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Instant;

use noom_tests::binary::{ServerProcess, empty_dir, server_executable};
use noom_tests::browser::{Browser, WAIT, start_call};
use noom_tests::netns::Namespace;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_on_a_lan_address_gets_cameras_and_plain_http_explains_why_not() {
    let namespace = Namespace::create("sc");
    let dir = empty_dir("secure-context");
    let listen = format!("{}:0", namespace.address);
    let binary = server_executable();
    let https = ServerProcess::start_with(
        namespace.command(&binary),
        &dir,
        &["--listen", &listen, "--tls-self-signed"],
    );
    let plain = ServerProcess::start_with(namespace.command(&binary), &dir, &["--listen", &listen]);
    let key = std::fs::read_to_string(dir.join("noom-data/tls/self-signed-key.pem")).unwrap();

    let browser = Browser::launch_trusting_key(&key).await;
    let started = Instant::now();
    let room = format!("https://{}/room/lan", https.addr);
    let pages = start_call(&browser, &room, &["Ana", "Ben"]).await;
    println!(
        "two people in a call over HTTPS on {} in {:?}",
        https.addr,
        started.elapsed()
    );
    for page in pages {
        page.close().await;
    }

    let page = browser
        .open(&format!("http://{}/room/lan", plain.addr))
        .await;
    let advice = format!(
        "Camera and microphone need HTTPS: open https://{}/room/lan or start Noom with --tls-self-signed.",
        plain.addr
    );
    page.wait_for_text("media-problems", &advice, WAIT).await;
    browser.close().await;
}
