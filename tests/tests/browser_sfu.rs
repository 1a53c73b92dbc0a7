//! A room that outgrows the mesh, in real browsers: with `--mesh-max 2` two people talk peer to
//! peer; a third joins and all three move to the server's SFU (one peer connection each, to the
//! server) without anyone seeing a leave; when one leaves, the two left go back to the mesh.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::net::SocketAddr;
use std::time::Instant;

use noom_tests::TestServer;
use noom_tests::browser::{Browser, Page, WAIT, assert_media_flows, built_dist, join, js, testid};
use serde_json::Value;

/// The SFU connection's inbound tracks: `{video: [framesDecoded], audio: [packetsReceived],
/// sendsVideo}`, or `null` without one.
const SFU_STATS: &str = r#"(async () => {
    const pc = window.__noom && window.__noom.sfu;
    if (!pc) return null;
    const out = { video: [], audio: [], sendsVideo: false };
    (await pc.getStats()).forEach(r => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') out.video.push(r.framesDecoded || 0);
        if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audio.push(r.packetsReceived || 0);
        if (r.type === 'outbound-rtp' && r.kind === 'video' && r.bytesSent > 0) out.sendsVideo = true;
    });
    return out;
})()"#;

async fn sfu_server() -> TestServer {
    TestServer::with_config(noom_server::Config {
        static_dir: Some(built_dist()),
        sfu_udp: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        mesh_max: 2,
        ..noom_server::Config::default()
    })
    .await
}

/// `page` gets everything of `others` remote participants through its one SFU connection:
/// video decoding and audio arriving, both still rising; no peer links; its own video sent
/// there; and every remote tile playing.
/// Returns how long the media took to arrive.
async fn assert_sfu_media(name: &str, page: &Page, others: usize) -> std::time::Duration {
    let flowing = format!(
        "{SFU_STATS}.then(s => s !== null && \
         s.video.filter(f => f > 0).length === {others} && \
         s.audio.filter(p => p > 0).length === {others} && s.sendsVideo && \
         window.__noom.peers.size === 0)"
    );
    let waited = page
        .wait_for(
            &format!("{name} to get {others} cameras and microphones through the SFU"),
            &flowing,
            WAIT,
        )
        .await;
    let before = page.eval(SFU_STATS).await;
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let after = page.eval(SFU_STATS).await;
    let total = |v: &Value, kind: &str| -> u64 {
        v[kind]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_u64)
            .sum()
    };
    for kind in ["video", "audio"] {
        assert!(
            total(&after, kind) > total(&before, kind),
            "{name}: {kind} through the SFU stalled ({before} → {after})"
        );
    }
    page.wait_for(
        &format!("{name}'s {others} remote tiles to play"),
        &format!(
            "[...document.querySelectorAll('[data-testid=\"tile\"][data-self=\"false\"] video')]\
             .filter(v => v.videoWidth > 0 && !v.paused).length === {others}"
        ),
        WAIT,
    )
    .await;
    waited
}

/// No one has left `page`'s call: `count` people in it, and no "left" line in the chat.
async fn assert_nobody_left(name: &str, page: &Page, count: u64) {
    let shown = page
        .eval(&format!(
            "Number(document.querySelector({}).dataset.count)",
            js(&testid("participant-count"))
        ))
        .await;
    assert_eq!(shown, Value::from(count), "{name} shows {shown} people");
    let chat = page.text().await;
    assert!(!chat.contains(" left"), "{name} saw someone leave: {chat}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_member_moves_the_call_to_the_sfu_and_a_leave_moves_it_back() {
    let server = sfu_server().await;
    let room_url = format!("{}/room/all%20hands", server.http_url());
    let browser = Browser::launch().await;
    let ana = browser.open(&room_url).await;
    join(&ana, Some("Ana")).await;
    let ben = browser.open(&room_url).await;
    join(&ben, Some("Ben")).await;
    for (name, page) in [("Ana", &ana), ("Ben", &ben)] {
        assert_media_flows(name, page, 1).await;
        assert_eq!(
            page.eval(SFU_STATS).await,
            Value::Null,
            "{name}: a 1:1 call stays a mesh"
        );
    }

    let cy = browser.open(&room_url).await;
    let clicked = join(&cy, Some("Cy")).await;
    let switched = clicked.elapsed() + assert_sfu_media("Ana", &ana, 2).await;
    println!(
        "third joins → Ana decodes both others through the SFU: {} ms after Cy's Join",
        switched.as_millis()
    );
    for (name, page) in [("Ben", &ben), ("Cy", &cy)] {
        assert_sfu_media(name, page, 2).await;
    }
    for (name, page) in [("Ana", &ana), ("Ben", &ben), ("Cy", &cy)] {
        assert_nobody_left(name, page, 3).await;
    }

    let left = Instant::now();
    cy.click("leave").await;
    for (name, page) in [("Ana", &ana), ("Ben", &ben)] {
        assert_media_flows(name, page, 1).await;
        page.wait_for(
            &format!("{name} to close its SFU connection"),
            "!window.__noom.sfu",
            WAIT,
        )
        .await;
    }
    println!(
        "one leaves → the two decode each other peer to peer again: {} ms",
        left.elapsed().as_millis()
    );
    browser.close().await;
}
