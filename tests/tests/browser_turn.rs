//! Calls where only a TURN relay can carry media: two people in two network namespaces that
//! cannot route to each other, each reaching only the "public" side where Noom and coturn run
//! (one Chromium per namespace). With minted TURN credentials and relay-only ICE they see each
//! other and the selected candidate pair is relay to relay; without TURN the call cannot
//! connect and each tile says why in words.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::{Duration, Instant};

use noom_tests::binary::{ServerProcess, empty_dir, server_executable};
use noom_tests::browser::{Browser, Page, assert_media_flows, join};
use noom_tests::coturn::TestTurn;
use noom_tests::netns::Namespace;

const SECRET: &str = "relay-secret";
/// ICE gives up on a path that never answers after about half a minute.
const FAILURE_WITHIN: Duration = Duration::from_secs(90);

/// Each link's selected pair as `local/remote` candidate types (`relay/host`, ...).
const SELECTED_PAIRS: &str = r#"(async () => {
    const pairs = [];
    for (const pc of (window.__noom ? window.__noom.peers.values() : [])) {
        const stats = await pc.getStats();
        stats.forEach(r => {
            if (r.type === 'transport' && r.selectedCandidatePairId) {
                const pair = stats.get(r.selectedCandidatePairId);
                const type = id => stats.get(id).candidateType;
                pairs.push(type(pair.localCandidateId) + '/' + type(pair.remoteCandidateId));
            }
        });
    }
    return pairs;
})()"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_relay_connects_people_who_cannot_reach_each_other() {
    let (ana_side, ben_side) = (Namespace::create("ta"), Namespace::create("tb"));
    // Each side reaches the other side's public address, never the other namespace.
    ana_side.route_to(ben_side.outside);
    ben_side.route_to(ana_side.outside);
    let turn = TestTurn::start_on(
        &[ana_side.outside.into(), ben_side.outside.into()],
        ana_side.outside.into(),
        SECRET,
    );

    let dir = empty_dir("browser-turn");
    let relayed = ServerProcess::start(
        &server_executable(),
        &dir,
        &[
            "--listen",
            "0.0.0.0:0",
            "--tls-self-signed",
            "--turn-secret",
            SECRET,
            "--turn-urls",
            &turn.url(),
            "--ice-relay-only",
        ],
    );
    let key = std::fs::read_to_string(dir.join("noom-data/tls/self-signed-key.pem")).unwrap();
    let forwarder = std::path::Path::new(env!("CARGO_BIN_EXE_noom-forward"));
    let ana = Browser::launch_in(&ana_side, forwarder, &key).await;
    let ben = Browser::launch_in(&ben_side, forwarder, &key).await;
    let room = |side: &Namespace, server: &ServerProcess, name: &str| {
        format!(
            "https://{}:{}/room/{name}",
            side.outside,
            server.addr.port()
        )
    };

    let started = Instant::now();
    let ana_page = ana.open(&room(&ana_side, &relayed, "relayed")).await;
    join(&ana_page, Some("Ana")).await;
    let ben_page = ben.open(&room(&ben_side, &relayed, "relayed")).await;
    join(&ben_page, Some("Ben")).await;
    assert_media_flows("Ana", &ana_page, 1).await;
    assert_media_flows("Ben", &ben_page, 1).await;
    println!("media through the relay after {:?}", started.elapsed());
    // Relay only: neither side offers its own address, so both ends of the pair are relays
    // (without it one side may reach the other's relay address directly).
    for (name, page) in [("Ana", &ana_page), ("Ben", &ben_page)] {
        let pairs = page.eval(SELECTED_PAIRS).await;
        println!("{name}'s selected pair: {pairs}");
        assert_eq!(
            pairs,
            serde_json::json!(["relay/relay"]),
            "{name}'s selected pair"
        );
    }
    ana_page.close().await;
    ben_page.close().await;

    // The same call with no TURN: nothing can connect, and the tiles say why.
    let direct = ServerProcess::start(
        &server_executable(),
        &dir,
        &["--listen", "0.0.0.0:0", "--tls-self-signed"],
    );
    let ana_page = ana.open(&room(&ana_side, &direct, "direct")).await;
    join(&ana_page, Some("Ana")).await;
    let ben_page = ben.open(&room(&ben_side, &direct, "direct")).await;
    join(&ben_page, Some("Ben")).await;
    let started = Instant::now();
    expect_unreachable(&ana_page, "Ben").await;
    expect_unreachable(&ben_page, "Ana").await;
    println!(
        "both tiles explained the failure after {:?}",
        started.elapsed()
    );
    ana.close().await;
    ben.close().await;
}

async fn expect_unreachable(page: &Page, other: &str) {
    let text = format!("Can't reach {other} directly; the server has no TURN relay configured.");
    page.wait_for_text("tile-connection", &text, FAILURE_WITHIN)
        .await;
}
