//! End to end on a cluster: two Noom nodes sharing rooms through a real `redis-server`, each
//! serving the release bundle (`dist/`). Two people in headless Chromium, each on a different
//! node, join one room and see and hear each other: their offer, answer and ICE candidates
//! cross the nodes through Redis. And an SFU room whose media node is killed: the two people
//! left, on the other node, connect to that node's SFU by themselves and see each other again.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use noom_server::Config;
use noom_tests::TestServer;
use noom_tests::browser::{Browser, WAIT, assert_media_flows, built_dist, join, js, testid};
use noom_tests::node::NodeProcess;
use noom_tests::redis::TestRedis;
use noom_tests::sfu_page::{assert_new_sfu_connection, assert_sfu_media, note_sfu_connection};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_on_two_nodes_see_each_other() {
    let redis = TestRedis::start().await;
    let config = Config {
        redis_url: Some(redis.url()),
        static_dir: Some(built_dist()),
        ..Config::default()
    };
    let first = TestServer::with_config(config.clone()).await;
    let second = TestServer::with_config(config).await;
    let browser = Browser::launch().await;

    let room = "/room/across%20nodes";
    let ana = browser.open(&format!("{}{room}", first.http_url())).await;
    join(&ana, Some("Ana")).await;
    let ben = browser.open(&format!("{}{room}", second.http_url())).await;
    join(&ben, Some("Ben")).await;

    for (name, page, other) in [("Ana", &ana, "Ben"), ("Ben", &ben, "Ana")] {
        page.wait_for(
            &format!("{name} to see {other}'s tile"),
            &format!(
                "[...document.querySelectorAll({})].some(t => t.getAttribute('aria-label').split(',')[0] === {})",
                js(&testid("tile")),
                js(other)
            ),
            WAIT,
        )
        .await;
        assert_media_flows(name, page, 1).await;
    }

    browser.close().await;
    first.shutdown().await;
    second.shutdown().await;
}

/// How long the pages left may take to decode each other through the new SFU after the kill:
/// the dead node's heartbeat expires (5 s), a reaper notices (each second), then new ICE and
/// DTLS. Generous, for a loaded machine; the time taken is printed.
const MEDIA_MOVES_WITHIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sfu_room_whose_media_node_dies_moves_to_the_other_node_by_itself() {
    let redis = TestRedis::start().await;
    let survivor = TestServer::with_config(Config {
        redis_url: Some(redis.url()),
        static_dir: Some(built_dist()),
        sfu_udp: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        mesh_max: 1,
        ..Config::default()
    })
    .await;
    let (url, dist) = (redis.url(), built_dist());
    let mut doomed = NodeProcess::start(
        env!("CARGO_BIN_EXE_noom-node"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--static-dir",
            dist.to_str().unwrap(),
            "--redis-url",
            &url,
            "--sfu-udp",
            "127.0.0.1:0",
            "--mesh-max",
            "1",
        ],
    )
    .await;
    let browser = Browser::launch().await;
    let room = "/room/failover";
    let ana = browser
        .open(&format!("{}{room}", survivor.http_url()))
        .await;
    join(&ana, Some("Ana")).await;
    // Ben's join, on the other node, makes it an SFU room there.
    let ben = browser.open(&format!("http://{}{room}", doomed.addr)).await;
    join(&ben, Some("Ben")).await;
    let cy = browser
        .open(&format!("{}{room}", survivor.http_url()))
        .await;
    join(&cy, Some("Cy")).await;
    for (name, page) in [("Ana", &ana), ("Ben", &ben), ("Cy", &cy)] {
        assert_sfu_media(name, page, 2, MEDIA_MOVES_WITHIN).await;
    }
    for page in [&ana, &cy] {
        note_sfu_connection(page).await;
    }

    doomed.kill();
    let killed = Instant::now();
    for (name, page) in [("Ana", &ana), ("Cy", &cy)] {
        // Through the other node's SFU.
        assert_new_sfu_connection(name, page, 1, MEDIA_MOVES_WITHIN).await;
        println!(
            "{name} sees the other again {:?} after the kill",
            killed.elapsed()
        );
        let tiles = page
            .count(&format!("{}[data-self=\"false\"]", testid("tile")))
            .await;
        assert_eq!(tiles, 1, "{name}: only Ben's tile went");
    }
    browser.close().await;
    survivor.shutdown().await;
}
