//! Who gets in, in Chromium: the host sets a password; a joiner without it is asked for it in
//! words, a wrong one is refused, the right one lets her in. Then the host turns the lobby on;
//! a third person comes by the invite link (the password in its `#pw=` fragment), waits, is
//! turned away in words, asks again, and is let in from the host's toast, and then sees and
//! hears both others. Three pages.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Instant;

use noom_tests::browser::{
    Browser, Page, WAIT, app_server, assert_media_flows, join, js, open_panel, testid,
};

/// Waits for pre-join with the camera ready, types `nickname` and clicks Join.
async fn ask_to_join(page: &Page, nickname: &str) {
    page.wait_for(
        "the camera preview",
        "document.querySelector('.preview video') && document.querySelector('.preview video').srcObject",
        WAIT,
    )
    .await;
    page.fill("prejoin-nickname", nickname).await;
    page.click("join-button").await;
}

async fn wait_for_call(page: &Page, who: &str) {
    page.wait_for(
        &format!("{who} to be in the call"),
        &format!(
            "document.querySelector({})",
            js(&testid("participant-count"))
        ),
        WAIT,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_and_the_lobby_keep_a_meeting_shut() {
    let server = app_server().await;
    let room = format!("http://{}/room/board", server.addr);
    let browser = Browser::launch().await;
    let ana = browser.open(&room).await;
    join(&ana, Some("Ana")).await;

    // Ana sets a password from the People panel.
    open_panel(&ana, "toggle-people").await;
    ana.fill("room-password", "sesame").await;
    ana.click("room-access-save").await;
    ana.wait_for_text("room-access-state", "needs the password", WAIT)
        .await;

    // Ben has no password: asked for it, in words; a wrong one is refused; the right one works.
    let ben = browser.open(&room).await;
    ask_to_join(&ben, "Ben").await;
    ben.wait_for_text("prejoin-error", "This meeting has a password", WAIT)
        .await;
    ben.fill("prejoin-password", "open sesame").await;
    ben.click("join-button").await;
    ben.wait_for_text("prejoin-error", "not this meeting's password", WAIT)
        .await;
    ben.fill("prejoin-password", "sesame").await;
    ben.click("join-button").await;
    wait_for_call(&ben, "Ben").await;
    assert_media_flows("Ben", &ben, 1).await;

    // The lobby on as well: Cy comes by the invite link, which carries the password.
    ana.click("room-lobby").await;
    ana.click("room-access-save").await;
    ana.wait_for_text("room-access-state", "then the host lets people in", WAIT)
        .await;
    let cy = browser.open(&format!("{room}#pw=sesame")).await;
    ask_to_join(&cy, "Cy").await;
    cy.wait_for_text("waiting", "Waiting for the host to let you in", WAIT)
        .await;
    let knocked = Instant::now();
    ana.wait_for_text("knock", "Cy wants to join", WAIT).await;
    ana.wait_for(
        "the People button to count Cy",
        "document.querySelector('[data-testid=\"toggle-people\"] .count-badge')?.textContent === '1'",
        WAIT,
    )
    .await;
    println!("knock shown to the host in {:?}", knocked.elapsed());

    // Turned away, in words; asks again and is let in from the toast.
    ana.click("knock-deny").await;
    cy.wait_for_text("prejoin-error", "did not let you in", WAIT)
        .await;
    cy.click("join-button").await;
    cy.wait_for_text("waiting", "Waiting for the host", WAIT)
        .await;
    ana.click("knock-admit").await;
    let admitted = Instant::now();
    wait_for_call(&cy, "Cy").await;
    assert_media_flows("Cy", &cy, 2).await;
    println!(
        "admitted, then seeing and hearing both others, in {:?}",
        admitted.elapsed()
    );
    ana.wait_for(
        "the knock to go",
        &format!("!document.querySelector({})", js(&testid("knock"))),
        WAIT,
    )
    .await;
    browser.close().await;
}
