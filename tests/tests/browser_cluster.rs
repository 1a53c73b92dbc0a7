//! End to end on a cluster: two Noom nodes sharing rooms through a real `redis-server`, each
//! serving the release bundle (`dist/`). Two people in headless Chromium, each on a different
//! node, join one room and see and hear each other: their offer, answer and ICE candidates
//! cross the nodes through Redis.

use noom_server::Config;
use noom_tests::TestServer;
use noom_tests::browser::{Browser, WAIT, assert_media_flows, built_dist, join, js, testid};
use noom_tests::redis::TestRedis;

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
