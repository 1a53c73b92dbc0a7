//! Simulcast in real browsers: in a five-page SFU room every camera (a 1280×720 fake one) is
//! sent in layers, and each page gets the layer that fits the tile it shows: small grid tiles
//! get a low layer; the speaker layout's large tile gets the larger layer that fits it within
//! two seconds, while the strip's small tiles stay low. A page behind a slow downlink gets a
//! smaller layer until the link widens. And a camera is captured at 1280×720 while its room
//! uses the SFU (the top layer needs it), at the usual 640×480 in the mesh.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use noom_tests::TestServer;
use noom_tests::browser::{Browser, Page, built_dist, join};
use noom_tests::firewall::PortBlock;
use noom_tests::sfu_page::{assert_sfu_media, sfu_ports};
use serde_json::Value;

/// How long five pages encoding 720p on a loaded two-core machine may take to get going.
const CROWDED: Duration = Duration::from_secs(90);

const CAMERA: (usize, usize) = (1280, 720);

/// The tests take turns: five pages encoding 720p leave no room for more.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn sfu_config() -> noom_server::Config {
    noom_server::Config {
        static_dir: Some(built_dist()),
        sfu_udp: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        mesh_max: 1,
        ..noom_server::Config::default()
    }
}

/// The frame widths of the video the page receives (`inbound`) and sends, per layer
/// (`outbound`, widths of the layers that carry frames).
const VIDEO_WIDTHS: &str = r#"(async () => {
    const pc = window.__noom && window.__noom.sfu;
    if (!pc) return null;
    const out = { inbound: [], outbound: [] };
    (await pc.getStats()).forEach(r => {
        if (r.kind !== 'video' || !r.frameWidth) return;
        if (r.type === 'inbound-rtp') out.inbound.push(r.frameWidth);
        if (r.type === 'outbound-rtp' && r.framesEncoded > 0) out.outbound.push(r.frameWidth);
    });
    return out;
})()"#;

async fn widths(page: &Page) -> Value {
    page.eval(VIDEO_WIDTHS).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grid_tiles_get_a_low_layer_and_the_speakers_tile_a_larger_one() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = TestServer::with_config(sfu_config()).await;
    let browser = Browser::launch_with_camera(CAMERA.0, CAMERA.1).await;
    let room_url = format!("{}/room/layers", server.http_url());
    let names = ["Ana", "Ben", "Cy", "Dee", "Eve"];
    let mut pages = Vec::new();
    for name in names {
        let page = browser.open(&room_url).await;
        join(&page, Some(name)).await;
        pages.push(page);
    }
    for (name, page) in names.iter().zip(&pages) {
        assert_sfu_media(name, page, names.len() - 1, CROWDED).await;
    }
    let ana = &pages[0];
    let half = CAMERA.0 / 2;
    let low = format!(
        "{VIDEO_WIDTHS}.then(w => w !== null && w.inbound.length === 4 && \
         w.inbound.every(width => width <= {half}))"
    );
    let waited = ana
        .wait_for("Ana's grid to get low layers only", &low, CROWDED)
        .await;
    // Until the browser's bandwidth estimate has grown, the top layers may not be sent yet.
    let all_layers = format!("{VIDEO_WIDTHS}.then(w => w !== null && w.outbound.length === 3)");
    ana.wait_for("Ana to send three layers", &all_layers, CROWDED)
        .await;
    let grid = widths(ana).await;
    println!(
        "grid: Ana gets {} and sends layers {} (low layers after {} ms)",
        grid["inbound"],
        grid["outbound"],
        waited.as_millis(),
    );
    let sent: Vec<u64> = grid["outbound"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let (smallest, largest) = (sent.iter().min(), sent.iter().max());
    assert!(
        sent.len() >= 2 && smallest < largest,
        "Ana's camera goes out in layers of different sizes: {sent:?}"
    );

    ana.click("toggle-layout").await;
    let clicked = Instant::now();

    let grid_widest = grid["inbound"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .max()
        .unwrap();
    let raised = format!(
        "{VIDEO_WIDTHS}.then(w => w !== null && \
         w.inbound.filter(width => width > {grid_widest}).length === 1 && \
         w.inbound.filter(width => width <= {grid_widest}).length === 3)"
    );
    ana.wait_for(
        "the speaker's tile to get a larger layer, the strip's to stay low",
        &raised,
        CROWDED,
    )
    .await;
    let took = clicked.elapsed();
    println!(
        "speaker layout: Ana gets {} ({} ms after the click)",
        widths(ana).await["inbound"],
        took.as_millis()
    );
    // The target is 2 s (0.2 to 2.1 s measured on this two-core box: a keyframe of the new
    // layer, from an encoder that five pages keep busy). On a box so loaded that Chromium
    // drops packets even on loopback, its receiver reports would show loss, and the downlink
    // cap holds a page below the rate it lost at for 8 s before rising (8.4 s once in CI,
    // right after another browser test). The bound is for that box; the time is printed.
    assert!(
        took <= Duration::from_secs(20),
        "the large tile took {} ms to get its layer",
        took.as_millis()
    );
    browser.close().await;
}

/// The width of the page's own camera as captured now.
const CAMERA_WIDTH: &str = "(() => { const v = document.querySelector(\
    '[data-testid=\"tile\"][data-self=\"true\"] video'); \
    const t = v && v.srcObject && v.srcObject.getVideoTracks()[0]; \
    return t ? t.getSettings().width : 0; })()";

async fn wait_for_camera_width(name: &str, page: &Page, width: u64) -> Duration {
    page.wait_for(
        &format!("{name}'s camera to be captured {width} wide"),
        &format!("{CAMERA_WIDTH} === {width}"),
        CROWDED,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_is_captured_at_720p_in_an_sfu_room_and_at_480p_in_the_mesh() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = TestServer::with_config(sfu_config()).await;
    // Chromium's own fake camera, which gives whatever size is asked of it; a browser each,
    // as Chromium opens a camera once for all its pages, at the size the first one asked.
    let (ana_browser, ben_browser) = (Browser::launch().await, Browser::launch().await);
    let room_url = format!("{}/room/sizes", server.http_url());
    let ana = ana_browser.open(&room_url).await;
    join(&ana, Some("Ana")).await;
    wait_for_camera_width("Ana, alone in the mesh,", &ana, 640).await;

    let ben = ben_browser.open(&room_url).await;
    let joined = Instant::now();
    join(&ben, Some("Ben")).await;
    for (name, page) in [("Ana", &ana), ("Ben", &ben)] {
        wait_for_camera_width(name, page, 1280).await;
    }
    println!(
        "in the SFU room both cameras are 1280 wide {} ms after Ben's join",
        joined.elapsed().as_millis()
    );

    ben.click("leave").await;
    let left = Instant::now();
    wait_for_camera_width("Ana, back in the mesh,", &ana, 640).await;
    println!(
        "back in the mesh Ana's camera is 640 wide {} ms after Ben left",
        left.elapsed().as_millis()
    );
    ana_browser.close().await;
    ben_browser.close().await;
}

/// Whether every video the page receives is at most `width` wide (`at_most`), or one is
/// wider.
fn inbound(at_most: bool, width: u64) -> String {
    let test = if at_most {
        format!("w.inbound.every(x => x <= {width})")
    } else {
        format!("w.inbound.some(x => x > {width})")
    };
    format!("{VIDEO_WIDTHS}.then(w => w !== null && w.inbound.length > 0 && {test})")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_downlink_gets_the_small_layer_until_it_widens() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = TestServer::with_config(sfu_config()).await;
    let browser = Browser::launch_with_camera(CAMERA.0, CAMERA.1).await;
    let room_url = format!("{}/room/slow", server.http_url());
    let mut pages = Vec::new();
    for name in ["Ana", "Ben"] {
        let page = browser.open(&room_url).await;
        join(&page, Some(name)).await;
        pages.push(page);
    }
    for (name, page) in ["Ana", "Ben"].iter().zip(&pages) {
        assert_sfu_media(name, page, 1, CROWDED).await;
    }
    let ana = &pages[0];
    // Ben large: Ana's tile asks for more than the smallest layer.
    ana.click("toggle-layout").await;
    ana.wait_for(
        "Ben's large tile to get a larger layer",
        &inbound(false, 320),
        CROWDED,
    )
    .await;
    let wide = widths(ana).await["inbound"].clone();

    // 100 kbit/s to Ana. Chromium's fake camera is easy to encode: its 320-wide layer takes
    // 16-21 kbit/s and its 640-wide one 110-215 (measured from the server's log), so the
    // small layer and Ben's audio fit and the larger layer does not. (At 250 kbit/s the
    // larger one fitted too, and only a burst now and then was lost.)
    let slow = PortBlock::slow(&sfu_ports(ana).await, 100);
    let cut = Instant::now();
    ana.wait_for(
        "the small layer behind the slow link",
        &inbound(true, 320),
        CROWDED,
    )
    .await;
    println!(
        "behind 100 kbit/s Ana gets the 320-wide layer {} ms after the link slowed (was {wide})",
        cut.elapsed().as_millis()
    );
    // Still so a while later: the cap holds (a larger layer would be lost again).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(widths(ana).await["inbound"], serde_json::json!([320]));

    drop(slow);
    let widened = Instant::now();
    ana.wait_for(
        "a larger layer once the link widens",
        &inbound(false, 320),
        CROWDED,
    )
    .await;
    println!(
        "the link widened: Ana gets {} after {} ms",
        widths(ana).await["inbound"],
        widened.elapsed().as_millis()
    );
    browser.close().await;
}
