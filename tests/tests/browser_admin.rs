//! The admin page in Chromium: signed in with the token, it shows a room appear and a
//! participant leave as they happen, without reloading; a screenshot is written for a look.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Instant;

use noom_server::{Config, Secret};
use noom_shared::{ClientMessage, Empty};
use noom_tests::browser::{Browser, WAIT, artifact};
use noom_tests::{TestClient, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_follows_a_room_live() {
    let server = TestServer::with_config(Config {
        admin_token: Some(Secret::new("let-me-in".into())),
        ..Config::default()
    })
    .await;
    let browser = Browser::launch().await;
    let page = browser.open(&format!("{}/admin", server.http_url())).await;
    page.fill("admin-token", "let-me-in").await;
    page.click("admin-sign-in").await;
    page.wait_for_text("admin-node", "0 connections", WAIT)
        .await;

    let mut ana = TestClient::connect(&server.ws_url()).await;
    let mut ben = TestClient::connect(&server.ws_url()).await;
    let started = Instant::now();
    ana.join("standup", "Ana").await;
    ben.join("standup", "Ben").await;
    page.wait_for(
        "the room with two people",
        "[...document.querySelectorAll('[data-room=\"standup\"] td')].map(td => td.textContent).join('|').startsWith('standup|2')",
        WAIT,
    )
    .await;
    page.wait_for_text("admin-events", "join", WAIT).await;
    println!("the room appeared in {:?}", started.elapsed());
    page.screenshot(&artifact("admin.png")).await;

    let started = Instant::now();
    ben.send(ClientMessage::Leave(Empty {})).await;
    let ben_id = ben.peer_id().to_string();
    page.wait_for(
        "Ben's row to go",
        &format!(
            "document.querySelector('[data-peer=\"{ben_id}\"] td') && \
             document.querySelector('[data-peer=\"{ben_id}\"] td').textContent === '(in the lobby)'"
        ),
        WAIT,
    )
    .await;
    page.wait_for_text("admin-rooms", "standup1", WAIT).await;
    println!("Ben's leaving showed in {:?}", started.elapsed());
    drop(ana);
    browser.close().await;
}
