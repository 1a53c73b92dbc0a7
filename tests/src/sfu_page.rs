//! What a page's one connection to the SFU carries, read from its `getStats()`
//! (`window.__noom.sfu` is that connection).

use std::time::Duration;

use serde_json::Value;

use crate::browser::{Page, WAIT};

/// The local ports of every candidate of `page`'s SFU connection: where the SFU sends it.
pub async fn sfu_ports(page: &Page) -> Vec<u16> {
    const PORTS: &str = "(async () => { const ports = new Set(); \
         (await window.__noom.sfu.getStats()).forEach(r => { \
           if (r.type === 'local-candidate' && r.port) ports.add(r.port); }); \
         return [...ports]; })()";
    let ports: Vec<u16> = page
        .eval(PORTS)
        .await
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| u16::try_from(p.as_u64()?).ok())
        .collect();
    assert!(
        !ports.is_empty(),
        "the page's SFU connection has no candidates"
    );
    ports
}

/// The SFU connection's inbound tracks: `{video: [framesDecoded], audio: [packetsReceived],
/// sendsVideo}`, or `null` without one.
pub const SFU_STATS: &str = r#"(async () => {
    const pc = window.__noom && window.__noom.sfu;
    if (!pc) return null;
    const out = { video: [], audio: [], sendsVideo: false };
    (await pc.getStats()).forEach(r => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') out.video.push(r.framesDecoded || 0);
        if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audio.push(r.packetsReceived || 0);
        if (r.type === 'outbound-rtp' && r.kind === 'video' && r.bytesSent > 0) out.sendsVideo = true;
    });
    return out;
})()"#;

/// `page` gets everything of `others` remote participants through its one SFU connection (a
/// screen m-line that carried a presentation still counts as a decoded video track):
/// video decoding and audio arriving, both still rising; no peer links; its own video sent
/// there; and every remote tile playing.
/// Returns how long the media took to arrive (at most `deadline`).
pub async fn assert_sfu_media(
    name: &str,
    page: &Page,
    others: usize,
    deadline: Duration,
) -> Duration {
    let flowing = format!(
        "{SFU_STATS}.then(s => s !== null && \
         s.video.filter(f => f > 0).length >= {others} && \
         s.audio.filter(p => p > 0).length === {others} && s.sendsVideo && \
         window.__noom.peers.size === 0)"
    );
    let waited = page
        .wait_for(
            &format!("{name} to get {others} cameras and microphones through the SFU"),
            &flowing,
            deadline,
        )
        .await;
    let before = page.eval(SFU_STATS).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let after = page.eval(SFU_STATS).await;
    for kind in ["video", "audio"] {
        assert!(
            total(&after, kind) > total(&before, kind),
            "{name}: {kind} through the SFU stalled ({before} → {after})"
        );
    }
    page.wait_for(
        &format!("{name}'s {others} remote tiles to play"),
        &format!(
            "[...document.querySelectorAll('[data-testid=\"tile\"][data-self=\"false\"] video')]\
             .filter(v => v.videoWidth > 0 && !v.paused).length === {others}"
        ),
        WAIT,
    )
    .await;
    waited
}

/// The sum of `kind` (`video` frames decoded or `audio` packets) over an [`SFU_STATS`] result.
pub fn total(stats: &Value, kind: &str) -> u64 {
    stats[kind]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} in SFU stats {stats}"))
        .iter()
        .filter_map(Value::as_u64)
        .sum()
}

/// Remembers the page's SFU connection, for [`assert_new_sfu_connection`].
pub async fn note_sfu_connection(page: &Page) {
    page.eval("window.__noted_sfu = window.__noom.sfu").await;
}

/// `page` replaced the SFU connection noted last (within `deadline`) and gets everything of
/// `others` through the new one.
pub async fn assert_new_sfu_connection(name: &str, page: &Page, others: usize, deadline: Duration) {
    page.wait_for(
        &format!("{name}'s new SFU connection"),
        "!!window.__noom.sfu && window.__noom.sfu !== window.__noted_sfu",
        deadline,
    )
    .await;
    assert_sfu_media(name, page, others, deadline).await;
}
