//! Accessibility, in Chromium: axe-core finds no serious or critical violation on the lobby,
//! pre-join, a call with chat open, and the shortcuts dialog.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use noom_tests::a11y::serious_violations;
use noom_tests::browser::{Browser, WAIT, app_server, artifact, join, js, open_panel, testid};
use serde_json::Value;

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

    // The control bar with the microphone on and off, at desktop and phone width.
    for (width, height, screen) in [(1280, 800, "desktop"), (390, 844, "phone")] {
        page.resize(width, height).await;
        for mic in ["on", "off"] {
            page.screenshot(&artifact(&format!("controls-{screen}-mic-{mic}.png")))
                .await;
            page.click("toggle-mic").await;
        }
    }
    page.resize(1280, 800).await;
    open_panel(&page, "toggle-chat").await;
    found.push(("call with chat", serious_violations(&page).await));
    open_panel(&page, "toggle-people").await;
    found.push(("call with people", serious_violations(&page).await));
    page.click("toggle-more").await;
    page.click("toggle-settings").await;
    found.push(("More menu with devices", serious_violations(&page).await));
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

/// A JavaScript expression: whether the focused element shows a focus ring.
const FOCUS_RING_SHOWN: &str = "(() => { const s = getComputedStyle(document.activeElement); \
     return s.boxShadow !== 'none' || (s.outlineStyle !== 'none' && s.outlineWidth !== '0px'); })()";

/// From the lobby into a call and out again with the keyboard alone (Tab, Enter, Space,
/// Escape, and typing), turning the microphone off and sending a chat message on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_by_keyboard_alone() {
    let server = app_server().await;
    let browser = Browser::launch().await;
    let page = browser.open(&format!("http://{}/", server.addr)).await;
    page.wait_for(
        "the lobby",
        &format!("document.querySelector({})", js(&testid("room-name"))),
        WAIT,
    )
    .await;

    // The lobby: a name and a room, then Enter.
    page.tab_to("nickname", 10).await;
    page.type_text("Kim").await;
    page.tab_to("room-name", 10).await;
    page.type_text("keys").await;
    page.press("Enter").await;

    // Pre-join: straight to Join, and Enter.
    page.wait_for(
        "pre-join with the camera ready",
        "document.querySelector('.preview video') && document.querySelector('.preview video').srcObject",
        WAIT,
    )
    .await;
    page.tab_to("join-button", 30).await;
    page.press("Enter").await;
    page.wait_for(
        "the call view",
        &format!(
            "document.querySelector({})",
            js(&testid("participant-count"))
        ),
        WAIT,
    )
    .await;

    // The microphone off with Space, its state said and a focus ring shown.
    let presses = page.tab_to("toggle-mic", 40).await;
    assert_eq!(
        page.eval(FOCUS_RING_SHOWN).await,
        Value::Bool(true),
        "a visible focus ring"
    );
    page.press(" ").await;
    page.wait_for(
        "the microphone to be off",
        &format!(
            "document.querySelector({}).getAttribute('aria-pressed') === 'false'",
            js(&testid("toggle-mic"))
        ),
        WAIT,
    )
    .await;
    println!("the microphone reached in {presses} Tabs");

    // Chat: open it with Enter, write, send with Enter.
    let chat_open = format!(
        "document.querySelector({}).getAttribute('aria-pressed') === 'true'",
        js(&testid("toggle-chat"))
    );
    if page.eval(&chat_open).await != Value::Bool(true) {
        page.tab_to("toggle-chat", 40).await;
        page.press("Enter").await;
    }
    page.tab_to("chat-input", 40).await;
    page.type_text("typed, not clicked").await;
    page.press("Enter").await;
    page.wait_for_text("chat-text", "typed, not clicked", WAIT)
        .await;

    // The shortcuts dialog, from the More menu: opened with Enter, closed with Escape, and the
    // focus back on the More button.
    page.tab_to("toggle-more", 40).await;
    page.press("Enter").await;
    page.tab_to("show-shortcuts", 10).await;
    page.press("Enter").await;
    page.wait_for(
        "the shortcuts dialog",
        &format!(
            "document.querySelector({}).open",
            js(&testid("help-dialog"))
        ),
        WAIT,
    )
    .await;
    page.press("Escape").await;
    page.wait_for(
        "the dialog to close and give the focus back",
        &format!(
            "!document.querySelector({}).open && document.activeElement.matches({})",
            js(&testid("help-dialog")),
            js(&testid("toggle-more"))
        ),
        WAIT,
    )
    .await;

    // Out: Leave, with Enter, back to the lobby.
    page.tab_to("leave", 40).await;
    page.press("Enter").await;
    page.wait_for(
        "the lobby again",
        &format!("document.querySelector({})", js(&testid("room-name"))),
        WAIT,
    )
    .await;
    browser.close().await;
}
