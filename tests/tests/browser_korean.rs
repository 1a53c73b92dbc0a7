//! Korean, in Chromium with `--accept-lang=ko-KR`: the lobby, pre-join and the call speak
//! Korean by themselves, `<html lang>` follows, and choosing English in the call's More menu
//! switches the words at once and is remembered across a reload.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use noom_tests::browser::{Browser, WAIT, app_server, js, testid};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_korean_browser_gets_korean_and_may_choose_english() {
    let server = app_server().await;
    let browser = Browser::launch_speaking("ko-KR").await;
    let page = browser.open(&format!("http://{}/", server.addr)).await;
    page.wait_for(
        "the lobby in Korean",
        "document.documentElement.lang === 'ko' && document.body.textContent.includes('회의 시작 또는 참여')",
        WAIT,
    )
    .await;
    page.fill("nickname", "민지").await;
    page.fill("room-name", "주간회의").await;
    page.click("enter-room").await;
    page.wait_for(
        "pre-join in Korean",
        &format!(
            "document.querySelector({}).textContent.includes('지금 참여')",
            js(&testid("join-button"))
        ),
        WAIT,
    )
    .await;
    page.wait_for(
        "the camera preview",
        "document.querySelector('.preview video') && document.querySelector('.preview video').srcObject",
        WAIT,
    )
    .await;
    page.click("join-button").await;
    let mic_label_starts = |words: &str| {
        format!(
            "(document.querySelector({})?.getAttribute('aria-label') || '').startsWith({})",
            js(&testid("toggle-mic")),
            js(words)
        )
    };
    page.wait_for("the call in Korean", &mic_label_starts("마이크"), WAIT)
        .await;
    page.wait_for(
        "the count in Korean",
        &format!(
            "document.querySelector({}).textContent === '1명'",
            js(&testid("participant-count"))
        ),
        WAIT,
    )
    .await;

    // English, from the More menu: at once, and still after a reload.
    page.click("toggle-more").await;
    page.eval(&format!(
        "(() => {{ const s = document.querySelector({}); s.value = 'en'; \
         s.dispatchEvent(new Event('change', {{ bubbles: true }})); }})()",
        js(&testid("language"))
    ))
    .await;
    page.wait_for("the call in English", &mic_label_starts("Microphone"), WAIT)
        .await;
    page.eval("location.reload()").await;
    page.wait_for(
        "English after a reload",
        "document.documentElement.lang === 'en' && document.body.textContent.includes('Join now')",
        WAIT,
    )
    .await;
    browser.close().await;
}
