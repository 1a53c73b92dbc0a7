//! A peer connection whose network path dies recovers with an ICE restart, in real browsers:
//! mid-call, every packet to the ports the two pages' link uses is dropped (nftables). Both
//! tiles show the interruption; then the same `RTCPeerConnection`s restart ICE (new
//! credentials, new ports) and video and audio flow again, with no page reload and no new link.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::{Duration, Instant};

use noom_tests::browser::{
    Browser, MEDIA_STATS, Page, WAIT, app_server, assert_media_flows, js, media_stats, start_call,
    testid,
};
use noom_tests::firewall::PortBlock;
use serde_json::Value;

/// The local ports of every candidate of the page's one link.
const CANDIDATE_PORTS: &str = "(async () => { const ports = new Set(); \
     (await [...window.__noom.peers.values()][0].getStats()).forEach(r => { \
       if (r.type === 'local-candidate' && r.port) ports.add(r.port); }); \
     return [...ports]; })()";

/// Marks the page's link with its current ICE username fragment, to tell a restart (same
/// object, new fragment) from a new link.
const MARK_LINK: &str = "(() => { const pc = [...window.__noom.peers.values()][0]; \
     pc.__ufrag = pc.localDescription.sdp.match(/a=ice-ufrag:(\\S+)/)[1]; })()";

/// The marked link is connected again under new ICE credentials.
const RESTARTED: &str = "(() => { const pc = [...window.__noom.peers.values()][0]; \
     return window.__noom.peers.size === 1 && pc.__ufrag !== undefined && \
       pc.connectionState === 'connected' && \
       pc.localDescription.sdp.match(/a=ice-ufrag:(\\S+)/)[1] !== pc.__ufrag; })()";

async fn ports(page: &Page) -> Vec<u16> {
    let Value::Array(ports) = page.eval(CANDIDATE_PORTS).await else {
        panic!("no candidate ports");
    };
    ports
        .iter()
        .filter_map(|p| u16::try_from(p.as_u64()?).ok())
        .collect()
}

/// Video frames decoded so far on the page's one link.
async fn frames(page: &Page) -> u64 {
    media_stats(page)
        .await
        .values()
        .next()
        .map_or(0, |(frames, _)| *frames)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_network_path_recovers_with_an_ice_restart() {
    let server = app_server().await;
    let room_url = format!("{}/room/flaky%20wifi", server.http_url());
    let browser = Browser::launch().await;
    let pages = start_call(&browser, &room_url, &["Ana", "Ben"]).await;
    let (ana, ben) = (&pages[0], &pages[1]);
    let people = [("Ana", ana), ("Ben", ben)];
    for (_, page) in people {
        page.eval(MARK_LINK).await;
    }

    let mut blocked = ports(ana).await;
    blocked.extend(ports(ben).await);
    blocked.retain(|&port| port != server.addr.port());
    let block = PortBlock::new(&blocked);
    let cut = Instant::now();
    for (name, page) in people {
        page.wait_for(
            &format!("{name}'s tile of the other to show the interruption"),
            &format!(
                "document.querySelector('[data-self=\"false\"] {}')",
                testid("tile-connection")
            ),
            WAIT,
        )
        .await;
    }
    for (name, page) in people {
        page.wait_for(
            &format!("{name}'s link to restart ICE and connect again"),
            RESTARTED,
            Duration::from_secs(30),
        )
        .await;
    }
    for (name, page) in people {
        let frames_now = frames(page).await;
        page.wait_for(
            &format!("{name} to decode video again"),
            &format!("{MEDIA_STATS}.then(s => Object.values(s)[0][0] > {frames_now} + 10)"),
            WAIT,
        )
        .await;
    }
    println!(
        "network path cut → ICE restarted, video decoding again: {} ms",
        cut.elapsed().as_millis()
    );
    for (name, page) in people {
        assert_media_flows(name, page, 1).await;
        page.wait_for(
            &format!("{name}'s tile to drop the interruption notice"),
            &format!(
                "!document.querySelector({})",
                js(&testid("tile-connection"))
            ),
            WAIT,
        )
        .await;
    }
    drop(block);
    browser.close().await;
}
