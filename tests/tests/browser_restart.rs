//! A server restart in the middle of a call, in real browsers: the server is a process of its
//! own (`noom-node` serving the release bundle), killed with SIGKILL and started again on the
//! same port. Both pages show that they are reconnecting, come back into the room by
//! themselves (the new server does not know their resume tokens, so they join again) and see
//! and hear each other again within 10 s of the restart. A lobby page open meanwhile lists the
//! room again.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::{Duration, Instant};

use noom_tests::browser::{
    Browser, Page, WAIT, assert_media_flows, built_dist, js, self_peer_id, start_call, testid,
};
use noom_tests::node::NodeProcess;

/// The bound: back in the room, decoding video, within this long of the restart.
const BACK_WITHIN: Duration = Duration::from_secs(10);

async fn start_node(listen: &str) -> NodeProcess {
    let dist = built_dist();
    NodeProcess::start(
        env!("CARGO_BIN_EXE_noom-node"),
        &["--listen", listen, "--static-dir", dist.to_str().unwrap()],
    )
    .await
}

/// A JavaScript condition: the page's one remote tile and one peer connection are `peer`'s.
fn linked_to(peer: &str) -> String {
    format!(
        "document.querySelector('[data-testid=\"tile\"][data-self=\"false\"]')?.dataset.peer === '{peer}' && \
         document.querySelectorAll({}).length === 2 && \
         window.__noom.peers.size === 1 && window.__noom.peers.has('{peer}')",
        js(&testid("tile"))
    )
}

async fn reconnecting(page: &Page) -> bool {
    page.eval(&format!(
        "!!document.querySelector({})",
        js(&testid("reconnecting"))
    ))
    .await
        == serde_json::Value::Bool(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_survives_a_server_restart() {
    let mut server = start_node("127.0.0.1:0").await;
    let addr = server.addr;
    let room_url = format!("http://{addr}/room/survivors");
    let browser = Browser::launch().await;
    let pages = start_call(&browser, &room_url, &["Ana", "Ben"]).await;
    let (ana, ben) = (&pages[0], &pages[1]);
    let people = [("Ana", ana), ("Ben", ben)];
    let old_ids = [self_peer_id(ana).await, self_peer_id(ben).await];
    let lobby = browser.open(&format!("http://{addr}/")).await;
    let room_of_two = format!(
        "document.querySelector('[data-room=\"survivors\"] {}')?.dataset.count === '2'",
        testid("room-count")
    );
    lobby
        .wait_for("the lobby to list the room", &room_of_two, WAIT)
        .await;

    server.kill();
    lobby
        .wait_for(
            "the lobby to notice",
            "!document.querySelector('[data-room]')",
            WAIT,
        )
        .await;
    for (name, page) in people {
        page.wait_for(
            &format!("{name} to show that she or he is reconnecting"),
            &format!("document.querySelector({})", js(&testid("reconnecting"))),
            WAIT,
        )
        .await;
    }
    let _server = start_node(&addr.to_string()).await;
    let restarted = Instant::now();

    // Both come back under new peer ids, each linked to the other's new id only.
    let mut new_ids = Vec::new();
    for (name, page) in people {
        page.wait_for(
            &format!("{name} to be back in the room"),
            &format!(
                "!document.querySelector({0}) && \
                 document.querySelector('[data-testid=\"tile\"][data-self=\"true\"]') && \
                 !{1}.includes(document.querySelector('[data-testid=\"tile\"][data-self=\"true\"]').dataset.peer)",
                js(&testid("reconnecting")),
                serde_json::to_string(&old_ids).unwrap()
            ),
            BACK_WITHIN,
        )
        .await;
        new_ids.push(self_peer_id(page).await);
    }
    for ((name, page), other) in people.iter().zip(new_ids.iter().rev()) {
        page.wait_for(
            &format!("{name} to be linked to the other's new peer id"),
            &linked_to(other),
            BACK_WITHIN.saturating_sub(restarted.elapsed()),
        )
        .await;
    }
    for (name, page) in people {
        assert_media_flows(name, page, 1).await;
        assert!(
            !reconnecting(page).await,
            "{name} is no longer reconnecting"
        );
    }
    let took = restarted.elapsed();
    println!(
        "server restart → both back in the room with video decoding: {} ms",
        took.as_millis()
    );
    assert!(took < BACK_WITHIN, "took {took:?}");
    lobby
        .wait_for("the lobby to list the room again", &room_of_two, WAIT)
        .await;

    browser.close().await;
}
