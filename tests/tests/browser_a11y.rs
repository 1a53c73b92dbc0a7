//! Accessibility, in Chromium: axe-core finds no serious or critical violation on the lobby,
//! pre-join, a call with chat open, and the shortcuts dialog.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use noom_tests::a11y::serious_violations;
use noom_tests::browser::{Browser, WAIT, app_server, join, js, open_panel, testid};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_passes_axe() {
    let server = app_server().await;
    let browser = Browser::launch().await;
    let mut found = Vec::new();
    let lobby = browser.open(&format!("http://{}/", server.addr)).await;
    lobby
        .wait_for(
            "the lobby",
            &format!("document.querySelector({})", js(&testid("no-rooms"))),
            WAIT,
        )
        .await;
    found.push(("lobby", serious_violations(&lobby).await));
    lobby.close().await;

    let page = browser
        .open(&format!("http://{}/room/a11y", server.addr))
        .await;
    page.wait_for(
        "pre-join",
        "document.querySelector('.preview video') && document.querySelector('.preview video').srcObject",
        WAIT,
    )
    .await;
    found.push(("pre-join", serious_violations(&page).await));
    join(&page, Some("Ana")).await;
    open_panel(&page, "toggle-chat").await;
    found.push(("call with chat", serious_violations(&page).await));
    open_panel(&page, "toggle-people").await;
    found.push(("call with people", serious_violations(&page).await));
    page.click("show-shortcuts").await;
    found.push(("shortcuts dialog", serious_violations(&page).await));
    for (screen, violations) in &found {
        println!("{screen}: {} serious or critical", violations.len());
        for v in violations {
            println!("  {v}");
        }
    }
    assert!(
        found.iter().all(|(_, v)| v.is_empty()),
        "axe-core found serious or critical violations (above)"
    );
    browser.close().await;
}
