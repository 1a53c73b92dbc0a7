//! The room's host in Chromium: the first in wears the host badge on every page; from the
//! People panel the host mutes the other, who is told in words and shows muted everywhere, and
//! unmutes himself; the host hands the role over, and the new host removes the old one, who is
//! told why. Two pages only.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Instant;

use noom_tests::browser::{
    Browser, Page, WAIT, app_server, open_panel, self_peer_id, start_call, testid,
};

/// A JavaScript expression: whether `peer`'s tile wears the host badge.
fn wears_badge(peer: &str) -> String {
    format!(
        "!!document.querySelector('[data-testid=\"tile\"][data-peer=\"{peer}\"] {}')",
        testid("tile-host")
    )
}

/// Clicks the host's button `action` beside `peer` in `page`'s People panel.
async fn host_click(page: &Page, peer: &str, action: &str) {
    page.eval(&format!(
        "document.querySelector('[data-testid=\"person\"][data-peer=\"{peer}\"] {}').click()",
        testid(action)
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_mutes_hands_over_and_is_removed() {
    let server = app_server().await;
    let room = format!("http://{}/room/hosted", server.addr);
    let browser = Browser::launch().await;
    let pages = start_call(&browser, &room, &["Ana", "Ben"]).await;
    let (ana, ben) = (&pages[0], &pages[1]);
    let (ana_id, ben_id) = (self_peer_id(ana).await, self_peer_id(ben).await);
    for (who, page) in [("Ana", ana), ("Ben", ben)] {
        page.wait_for(
            &format!("{who} to see Ana as host"),
            &wears_badge(&ana_id),
            WAIT,
        )
        .await;
    }

    // Ana mutes Ben: he is told, and every page shows him muted; only he turns it back on.
    open_panel(ana, "toggle-people").await;
    let started = Instant::now();
    host_click(ana, &ben_id, "host-mute").await;
    ben.wait_for_text("call-notice", "The host muted your microphone", WAIT)
        .await;
    let ben_tile = |muted: bool| {
        format!(
            "document.querySelector('[data-testid=\"tile\"][data-peer=\"{ben_id}\"]').dataset.muted === '{muted}'"
        )
    };
    for (who, page) in [("Ana", ana), ("Ben", ben)] {
        page.wait_for(&format!("{who} to see Ben muted"), &ben_tile(true), WAIT)
            .await;
    }
    println!(
        "muted by the host, shown on both pages, in {:?}",
        started.elapsed()
    );
    ben.click("toggle-mic").await;
    ana.wait_for("Ana to see Ben unmute himself", &ben_tile(false), WAIT)
        .await;

    // Ana makes Ben host; Ben removes Ana, who is told why on the pre-join page.
    host_click(ana, &ben_id, "host-make-host").await;
    for (who, page) in [("Ana", ana), ("Ben", ben)] {
        page.wait_for(
            &format!("{who} to see Ben as host"),
            &wears_badge(&ben_id),
            WAIT,
        )
        .await;
    }
    open_panel(ben, "toggle-people").await;
    host_click(ben, &ana_id, "host-remove").await;
    ana.wait_for(
        "Ana to be told she was removed",
        "document.body.textContent.includes('The host removed you from this meeting.') && \
         !document.querySelector('[data-testid=\"participant-count\"]')",
        WAIT,
    )
    .await;
    ben.wait_for(
        "Ana's tile to go from Ben's page",
        &format!("!document.querySelector('[data-testid=\"tile\"][data-peer=\"{ana_id}\"]')"),
        WAIT,
    )
    .await;
    browser.close().await;
}
