//! Leaving the room while a device switch is still waiting for the browser: the switch's
//! continuation finds the room page gone and must drop its work quietly, not touch the
//! disposed session (a panic aborts the whole WASM app). The page stays alive: no panic is
//! logged, and the same page can open a room and join again.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::{Duration, Instant};

use noom_tests::browser::{Browser, WAIT, app_server, join, js, testid};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_during_a_device_switch_keeps_the_page_alive() {
    let server = app_server().await;
    let room_url = format!("http://{}/room/switching", server.addr);
    let browser = Browser::launch().await;
    let page = browser.open(&room_url).await;
    join(&page, Some("Ana")).await;

    // Record what the panic hook would print, then pick a camera (getUserMedia starts) and
    // leave in the same task, before the browser can answer.
    let started = Instant::now();
    let picked = page
        .eval(&format!(
            "(() => {{
                window.__panics = [];
                const log = console.error;
                console.error = (...args) => {{ window.__panics.push(args.join(' ')); log(...args); }};
                const select = document.querySelector({camera});
                if (!select || select.options.length === 0) return false;
                select.value = select.options[0].value;
                select.dispatchEvent(new Event('change', {{ bubbles: true }}));
                document.querySelector({leave}).click();
                return true;
            }})()",
            camera = js(&testid("camera-select")),
            leave = js(&testid("leave")),
        ))
        .await;
    assert_eq!(picked, serde_json::Value::Bool(true), "no camera to pick");
    let lobby = page
        .wait_for(
            "the lobby after leaving",
            &format!("document.querySelector({})", js(&testid("room-name"))),
            WAIT,
        )
        .await;
    // The switch resolves after the room is gone; give it time to finish and misbehave.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let panics = page.eval("window.__panics").await;
    assert_eq!(
        panics,
        serde_json::json!([]),
        "the app panicked after leaving"
    );

    // Still a working app: the same page opens the room again and joins.
    page.fill("room-name", "switching").await;
    page.click("enter-room").await;
    let rejoined = join(&page, Some("Ana")).await;
    println!(
        "left during a device switch: lobby after {lobby:?}, joined again {:?} after the switch",
        rejoined - started
    );
    browser.close().await;
}
