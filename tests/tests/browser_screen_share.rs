//! Screen sharing end to end, in real browsers: the real server serving the release bundle, and
//! headless Chromium whose `getDisplayMedia` shares a fake 1920×1080 screen without a picker
//! (and whose fake camera is small, 160×120).
//!
//! One scenario, in order:
//! 1. three people are in a call, each seeing and hearing the two others;
//! 2. Ben presents (the Present button): Ana and Cy decode a second, 1280-wide video track from
//!    him while his camera keeps going, and see his screen as the large tile above everyone's
//!    camera; Ben sees that he is presenting;
//! 3. Dan joins mid-presentation and gets the screen too (a link opened while sharing);
//! 4. Ben stops from the browser's own "Stop sharing" control (the track ends): the screen tile
//!    goes for everyone, Ben stops sending it, the layout is a grid again (and can be changed
//!    again, which it cannot while someone presents);
//! 5. Cy presents and stops with the `s` shortcut.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Duration;

use noom_tests::browser::{
    Browser, Page, WAIT, app_server, artifact, assert_media_flows, join, js, self_peer_id,
    start_call, testid,
};
use serde_json::Value;

/// The width the client sends a shared screen at (its cap; the fake screen is wider).
const SCREEN_WIDTH: u64 = 1280;

/// Per inbound video track from `peer`: `[framesDecoded, frameWidth]`.
fn inbound_video(peer: &str) -> String {
    format!(
        "(async () => {{ const out = []; \
         (await window.__noom.peers.get({}).getStats()).forEach(r => {{ \
           if (r.type === 'inbound-rtp' && r.kind === 'video') \
             out.push([r.framesDecoded || 0, r.frameWidth || 0]); }}); \
         return out; }})()",
        js(peer)
    )
}

/// A JavaScript condition: `peer`'s screen is the large tile, playing a picture `width` wide.
fn screen_shown(peer: &str) -> String {
    format!(
        "(() => {{ const t = document.querySelector('[data-testid=\"screen-tile\"][data-peer=\"{peer}\"]'); \
         if (!t || !t.classList.contains('featured')) return false; \
         const v = t.querySelector('video'); \
         const cams = [...document.querySelectorAll({})]; \
         return v.videoWidth === {SCREEN_WIDTH} && !v.paused && \
           cams.every(c => c.offsetWidth * 2 < t.offsetWidth); }})()",
        js(&testid("tile"))
    )
}

/// `viewer` decodes two video tracks from `presenter`: the camera, and the screen at
/// [`SCREEN_WIDTH`], both with frames still coming; and shows the screen large.
async fn assert_screen_arrives(name: &str, viewer: &Page, presenter: &str) {
    let two_tracks = format!(
        "{}.then(v => v.length === 2 && v.every(([frames]) => frames > 0) && \
         v.some(([, width]) => width === {SCREEN_WIDTH}))",
        inbound_video(presenter)
    );
    viewer
        .wait_for(
            &format!("{name} to decode the camera and a {SCREEN_WIDTH}-wide screen"),
            &two_tracks,
            WAIT,
        )
        .await;
    let before = viewer.eval(&inbound_video(presenter)).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let after = viewer.eval(&inbound_video(presenter)).await;
    let frames = |v: &Value, i: usize| v[i][0].as_u64().unwrap_or(0);
    for track in 0..2 {
        assert!(
            frames(&after, track) > frames(&before, track),
            "{name}: video track {track} from the presenter stalled ({before} → {after})"
        );
    }
    viewer
        .wait_for(
            &format!("{name} to show the screen as the large tile"),
            &screen_shown(presenter),
            WAIT,
        )
        .await;
}

/// A JavaScript condition: no screen tile from `peer`, and no tile shown large.
fn screen_gone(peer: &str) -> String {
    format!(
        "!document.querySelector('[data-testid=\"screen-tile\"][data-peer=\"{peer}\"]') && \
         !document.querySelector('.tile.featured')"
    )
}

/// Whether the grid/speaker layout button is disabled.
const LAYOUT_TOGGLE_DISABLED: &str =
    "document.querySelector('[data-testid=\"toggle-layout\"]').disabled";

/// What `page` sends as a screen: tracks marked as detail (text), on any link.
const SENDING_SCREEN: &str = "[...window.__noom.peers.values()].some(pc => pc.getSenders().some(s => \
     s.track && s.track.contentHint === 'detail' && s.track.readyState === 'live'))";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_presentation_reaches_everyone_and_ends_with_the_browsers_stop_control() {
    let server = app_server().await;
    let room_url = format!("{}/room/design%20review", server.http_url());
    // A small camera: four pages in a mesh, one of them sharing a 1280-wide screen with three,
    // overload two cores with full-size cameras (links then took over 15 s to connect).
    let browser = Browser::launch_for_screen_sharing().await;
    let pages = start_call(&browser, &room_url, &["Ana", "Ben", "Cy"]).await;
    let (ana, ben, cy) = (&pages[0], &pages[1], &pages[2]);
    let ben_id = self_peer_id(ben).await;
    let cy_id = self_peer_id(cy).await;

    // Ben presents; his camera keeps going beside the screen.
    ben.click("toggle-screen").await;
    let started = std::time::Instant::now();
    for (name, page) in [("Ana", ana), ("Cy", cy)] {
        assert_screen_arrives(name, page, &ben_id).await;
    }
    println!(
        "Present → screen decoded at {SCREEN_WIDTH} px in both others: {} ms",
        started.elapsed().as_millis()
    );
    ben.wait_for(
        "Ben to see that he is presenting",
        &format!(
            "document.querySelector('[data-testid=\"screen-tile\"][data-self=\"true\"]') && \
             document.querySelector({}).getAttribute('aria-pressed') === 'true'",
            js(&testid("toggle-screen"))
        ),
        WAIT,
    )
    .await;
    ana.screenshot(&artifact("presentation.png")).await;
    assert_eq!(
        ana.eval(LAYOUT_TOGGLE_DISABLED).await,
        Value::Bool(true),
        "the layout is the presentation's while it lasts"
    );

    // Dan joins mid-presentation: his new link carries the screen from the start.
    let dan = browser.open(&room_url).await;
    join(&dan, Some("Dan")).await;
    assert_media_flows("Dan", &dan, 3).await;
    assert_screen_arrives("Dan", &dan, &ben_id).await;

    // Ben clicks the browser's own "Stop sharing": the track ends (as Chromium does it).
    ben.eval(
        "[...window.__noom.peers.values()][0].getSenders().map(s => s.track)\
         .find(t => t && t.contentHint === 'detail').dispatchEvent(new Event('ended'))",
    )
    .await;
    for (name, page) in [("Ana", ana), ("Cy", cy), ("Dan", &dan), ("Ben", ben)] {
        page.wait_for(
            &format!("{name} to lose Ben's screen tile and go back to the grid"),
            &screen_gone(&ben_id),
            WAIT,
        )
        .await;
    }
    assert_eq!(
        ben.eval(SENDING_SCREEN).await,
        Value::Bool(false),
        "Ben no longer sends his screen"
    );
    assert_eq!(
        ben.eval(&format!(
            "document.querySelector({}).getAttribute('aria-pressed')",
            js(&testid("toggle-screen"))
        ))
        .await,
        Value::from("false"),
        "Ben's Present button is back"
    );
    assert_media_flows("Ana", ana, 3).await;
    assert_eq!(ana.eval(LAYOUT_TOGGLE_DISABLED).await, Value::Bool(false));

    // Cy presents with the `s` shortcut, and stops the same way.
    let press_s =
        "document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 's', bubbles: true }))";
    cy.eval(press_s).await;
    assert_screen_arrives("Ana", ana, &cy_id).await;
    cy.eval(press_s).await;
    ana.wait_for("Ana to lose Cy's screen", &screen_gone(&cy_id), WAIT)
        .await;
    assert_eq!(cy.eval(SENDING_SCREEN).await, Value::Bool(false));

    browser.close().await;
}
