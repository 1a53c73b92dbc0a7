//! End to end in real browsers: the real server serving the real release bundle (`dist/`, built
//! by `trunk build --release` before the tests), and headless Chromium with fake camera and
//! microphone. One browser process; each participant has its own browser context.
//!
//! One scenario, in order, because every step needs the call the steps before it built:
//! 1. the lobby refuses an empty name before sending anything;
//! 2. three people join one room through the UI (lobby form and deep links) and see and hear
//!    each other: on every link inbound video frames decoded and audio packets received, both
//!    rising, and every remote `<video>` playing; the time from Join to the first decoded frame
//!    is printed; the lobby counts 3; screenshots at laptop and phone width;
//! 3. a chat message appears once in every page, as text; a 5 MB file sent from the chat panel,
//!    while someone else sends another, arrives peer to peer in both other pages with the same
//!    SHA-256, and the transfer rate is printed; the cap the server was given is stated, and a
//!    file over it is refused in words; a large file is sent only once each receiver, asked in
//!    words, accepts it; a file cancelled by its sender, and one declined by a receiver, end in
//!    words on every side;
//! 4. mute shows on the others' tiles; a raised hand shows on the tile and at the top of the
//!    people list, and goes when lowered by the `h` shortcut; the stats panel shows a bitrate
//!    from each other person and every remote tile a quality indicator; the shortcuts dialog
//!    opens and Escape closes it; the speaker layout shows one remote tile large; camera-off
//!    shows; a remote tile lights up while speaking;
//! 5. switching microphone mid-call reaches every link with no renegotiation;
//! 6. a dropped network: the socket breaks, the seat is taken back (`resume`), nobody sees a
//!    leave, chat works again and media never stopped;
//! 7. a fourth person who blocked the camera is told so in words, and finds the room full;
//! 8. one person leaves in the middle of sending a large file: the others' rows (accepted, or
//!    still asking) end as failed rather than hanging; they lose the tile within 2 s, the lobby counts 2;
//! 9. the fourth person then joins with the microphone only, sees and hears both others, and
//!    is heard;
//! 10. someone who blocked both camera and microphone is offered to watch and listen;
//! 11. the server stops: the pages say they are reconnecting, and media still flows peer to
//!     peer.

use std::time::Duration;

use noom_server::Config;
use noom_tests::TestServer;
use noom_tests::browser::{
    Browser, MEDIA_STATS, Page, WAIT, artifact, assert_media_flows, built_dist, join, js,
    media_stats, open_panel, self_peer_id, testid,
};
use noom_tests::files::{TestFile, file_state, pick_empty_file};
use noom_tests::proxy::CutProxy;
use noom_tests::server::workspace_root;
use serde_json::Value;

const ROOM: &str = "e2e standup";
const MAX_ROOM_SIZE: u32 = 3;
/// The file cap this server is given (the default is 100 MB).
const MAX_FILE_BYTES: u64 = 95_000_000;

/// Every link's local SDP, to tell whether anything was renegotiated.
const LOCAL_SDPS: &str =
    "[...window.__noom.peers.values()].map(pc => pc.localDescription && pc.localDescription.sdp)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_from_lobby_to_leaving() {
    let dist = built_dist();
    let server = TestServer::with_config(Config {
        static_dir: Some(dist),
        max_room_size: MAX_ROOM_SIZE,
        max_file_bytes: MAX_FILE_BYTES,
        ..Config::default()
    })
    .await;
    let base = server.http_url();
    let room_url = format!("{base}/room/{}", ROOM.replace(' ', "%20"));
    let browser = Browser::launch().await;

    // A lobby page watches the room list throughout.
    let lobby = browser.open(&format!("{base}/")).await;
    lobby
        .wait_for(
            "the lobby to connect",
            &format!("document.querySelector({})", js(&testid("no-rooms"))),
            WAIT,
        )
        .await;

    // Ana comes through the lobby form, over a network that will drop later; Ben and Cy follow
    // the invite link (a deep link).
    let ana_network = CutProxy::start(server.addr).await;
    let ana = browser.open(&format!("{}/", ana_network.http_url())).await;
    ana.fill("nickname", " ").await;
    ana.fill("room-name", ROOM).await;
    ana.click("enter-room").await;
    ana.wait_for(
        "the lobby to refuse an empty name before sending anything",
        &format!(
            "document.querySelector({}).textContent.includes('must not be empty')",
            js(&testid("lobby-error"))
        ),
        WAIT,
    )
    .await;
    ana.fill("nickname", "Ana").await;
    ana.fill("room-name", ROOM).await;
    ana.click("enter-room").await;
    join(&ana, None).await;
    let ben = browser.open(&room_url).await;
    ben.wait_for(
        "Ben's microphone meter to move",
        &format!(
            "document.querySelector({}).getAttribute('aria-valuenow') > 0",
            js(&testid("mic-level"))
        ),
        WAIT,
    )
    .await;
    ben.screenshot(&artifact("pre-join.png")).await;
    join(&ben, Some("Ben")).await;
    let cy = browser.open(&room_url).await;
    let clicked = join(&cy, Some("Cy")).await;
    cy.wait_for(
        "a first decoded remote video frame",
        &format!("{MEDIA_STATS}.then(s => Object.values(s).some(([frames]) => frames > 0))"),
        WAIT,
    )
    .await;
    println!(
        "join → first decoded remote frame: {} ms",
        clicked.elapsed().as_millis()
    );

    let people = [("Ana", &ana), ("Ben", &ben), ("Cy", &cy)];
    for (name, page) in people {
        page.wait_for(
            &format!("{name} to see three tiles"),
            &format!(
                "document.querySelectorAll({}).length === 3",
                js(&testid("tile"))
            ),
            WAIT,
        )
        .await;
    }
    for (name, page) in people {
        assert_media_flows(name, page, 2).await;
    }
    lobby
        .wait_for("the lobby to count 3", &room_count_is(3), WAIT)
        .await;

    ana.screenshot(&artifact("three-person-call.png")).await;
    lobby.screenshot(&artifact("lobby.png")).await;
    ben.resize(390, 844).await;
    ben.screenshot(&artifact("three-person-call-phone.png"))
        .await;
    ben.resize(1280, 800).await;
    println!(
        "screenshots: {}",
        workspace_root().join("tests/artifacts").display()
    );

    // Chat: text arrives once in each other page, as text (never as HTML).
    let text = "Hello <b>team</b> & welcome";
    open_panel(&ana, "toggle-chat").await;
    ana.fill("chat-input", text).await;
    ana.click("chat-send").await;
    for (name, page) in [("Ben", &ben), ("Cy", &cy)] {
        open_panel(page, "toggle-chat").await;
        page.wait_for(
            &format!("{name} to receive the chat message"),
            &format!("{} > 0", chat_copies(text)),
            WAIT,
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (name, page) in people {
        let copies = page.eval(&chat_copies(text)).await;
        assert_eq!(copies, Value::from(1), "{name} shows the message once");
        assert_eq!(
            page.count(".chat-text b").await,
            0,
            "{name} renders chat text as text"
        );
    }

    send_files(&ana, &ben, &cy).await;
    stop_files(&ana, &ben, &cy).await;

    // Mute: Ben mutes, and Ana and Cy see it on Ben's tile.
    let ben_id = self_peer_id(&ben).await;
    ben.click("toggle-mic").await;
    for (name, page) in [("Ana", &ana), ("Cy", &cy)] {
        page.wait_for(
            &format!("{name} to see Ben muted"),
            &format!(
                "document.querySelector('[data-peer=\"{ben_id}\"][data-muted=\"true\"] {}')",
                testid("tile-muted")
            ),
            WAIT,
        )
        .await;
    }

    cy.screenshot(&artifact("chat-and-mute.png")).await;

    // Raise hand: Cy raises a hand; Ana and Ben see it on Cy's tile and at the top of the
    // people list; Cy lowers it with the `h` shortcut and it goes for everyone.
    let cy_id = self_peer_id(&cy).await;
    cy.click("toggle-hand").await;
    let hand_shown = format!(
        "document.querySelector('[data-testid=\"tile\"][data-peer=\"{cy_id}\"] {}') && \
         document.querySelector('[data-testid=\"person\"]').dataset.peer === '{cy_id}' && \
         document.querySelector('[data-testid=\"person\"]').dataset.hand === 'true'",
        testid("tile-hand")
    );
    for (name, page) in [("Ana", &ana), ("Ben", &ben)] {
        page.wait_for(&format!("{name} to see Cy's hand"), &hand_shown, WAIT)
            .await;
    }
    ben.click("toggle-people").await;
    ben.screenshot(&artifact("raised-hand.png")).await;
    cy.eval(
        "document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'h', bubbles: true }))",
    )
    .await;
    for (name, page) in [("Ana", &ana), ("Ben", &ben)] {
        page.wait_for(
            &format!("{name} to see Cy's hand lowered"),
            &format!("document.querySelector('[data-peer=\"{cy_id}\"][data-hand=\"false\"]')"),
            WAIT,
        )
        .await;
    }

    // Stats: Ana's stats panel shows a bitrate from each of the others, and every remote tile
    // has a connection indicator.
    ana.click("toggle-stats").await;
    ana.wait_for(
        "Ana's stats panel to show a bitrate from both others",
        &format!(
            "[...document.querySelectorAll({})].filter(td => Number(td.dataset.kbps) > 0).length === 2",
            js(&testid("stats-in"))
        ),
        WAIT,
    )
    .await;
    let rates = ana
        .eval(&format!(
            "[...document.querySelectorAll({})].map(td => td.textContent)",
            js(&testid("stats-in"))
        ))
        .await;
    println!("Ana's stats panel, received: {rates}");
    assert_eq!(
        ana.count(&format!("[data-self=\"false\"] {}", testid("tile-quality")))
            .await,
        2,
        "every remote tile shows its connection quality"
    );
    ana.screenshot(&artifact("stats-panel.png")).await;
    ana.click("show-shortcuts").await;
    ana.wait_for(
        "the shortcuts dialog",
        &format!(
            "document.querySelector({}).open",
            js(&testid("help-dialog"))
        ),
        WAIT,
    )
    .await;
    ana.screenshot(&artifact("shortcuts.png")).await;
    ana.eval("document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))")
        .await;

    // Speaker layout: one remote tile (the active speaker) large, the others in a strip.
    ana.click("toggle-layout").await;
    ana.wait_for(
        "one large remote tile in the speaker layout",
        "(() => { const f = document.querySelectorAll('.tile.featured'); \
         const others = [...document.querySelectorAll('.tile:not(.featured)')]; \
         return f.length === 1 && f[0].dataset.self === 'false' && others.length === 2 && \
         others.every(t => t.offsetWidth * 2 < f[0].offsetWidth); })()",
        WAIT,
    )
    .await;
    ana.screenshot(&artifact("speaker-layout.png")).await;
    ana.click("toggle-layout").await;
    for page in [&ana, &ben] {
        open_panel(page, "toggle-chat").await;
    }

    // Camera off: Cy's tile shows it to the others.
    cy.click("toggle-camera").await;
    ana.wait_for(
        "Ana to see Cy's camera off",
        &format!("document.querySelector('[data-peer=\"{cy_id}\"][data-camera-off=\"true\"]')"),
        WAIT,
    )
    .await;

    // Someone is seen speaking (the fake microphone beeps).
    ana.wait_for(
        "a speaking highlight on a remote tile",
        "document.querySelector('[data-testid=\"tile\"][data-self=\"false\"].speaking')",
        WAIT,
    )
    .await;

    // Ana switches microphone mid-call: every link sends the new track, with no renegotiation.
    let sdp_before = ana.eval(LOCAL_SDPS).await;
    ana.click("toggle-settings").await;
    let label = ana
        .eval(
            "(() => { const s = document.querySelector('[data-testid=\"microphone-select\"]'); \
             const other = [...s.options].find(o => o.value !== s.value); s.value = other.value; \
             s.dispatchEvent(new Event('change', { bubbles: true })); return other.textContent; })()",
        )
        .await;
    let label = label
        .as_str()
        .expect("a second microphone to pick")
        .to_owned();
    ana.wait_for(
        "every link to send the new microphone",
        &format!(
            "[...window.__noom.peers.values()].every(pc => pc.getSenders().some(s => \
             s.track && s.track.kind === 'audio' && s.track.label === {}))",
            js(&label)
        ),
        WAIT,
    )
    .await;
    assert_eq!(
        ana.eval(LOCAL_SDPS).await,
        sdp_before,
        "switching needs no renegotiation"
    );
    assert_media_flows("Ben", &ben, 2).await;

    // Ana hears the others on another speaker: every remote tile plays there.
    let speaker = ana
        .eval(
            "(() => { const s = document.querySelector('[data-testid=\"speaker-select\"]'); \
             const other = [...s.options].find(o => o.value !== s.value); s.value = other.value; \
             s.dispatchEvent(new Event('change', { bubbles: true })); return other.value; })()",
        )
        .await;
    let speaker = speaker
        .as_str()
        .expect("a second speaker to pick")
        .to_owned();
    ana.wait_for(
        "every remote tile to play on the chosen speaker",
        &format!(
            "(() => {{ const v = [...document.querySelectorAll('[data-testid=\"tile\"][data-self=\"false\"] video')]; \
             return v.length === 2 && v.every(e => e.sinkId === {}); }})()",
            js(&speaker)
        ),
        WAIT,
    )
    .await;

    // Ana's network drops (her socket breaks with no close frame): she takes her seat back,
    // nobody sees her leave, and the call goes on over the same peer connections.
    ana_network.cut();
    ana.wait_for(
        "Ana to show that she is reconnecting",
        &format!("document.querySelector({})", js(&testid("reconnecting"))),
        WAIT,
    )
    .await;
    ana.wait_for(
        "Ana to be back",
        &format!("!document.querySelector({})", js(&testid("reconnecting"))),
        WAIT,
    )
    .await;
    ana.fill("chat-input", "Back again").await;
    ana.click("chat-send").await;
    for (name, page) in [("Ben", &ben), ("Cy", &cy)] {
        page.wait_for(
            &format!("{name} to get Ana's message after her reconnection"),
            &format!("{} === 1", chat_copies("Back again")),
            WAIT,
        )
        .await;
        assert!(
            !page.text().await.contains("Ana left"),
            "{name} never saw Ana leave"
        );
        assert_eq!(
            page.count(&testid("tile")).await,
            3,
            "{name} still has 3 tiles"
        );
    }
    assert_media_flows("Ana", &ana, 2).await;

    // A fourth person, who blocked the camera, is told so in words, then finds the room full.
    let dan = browser.open_blocking(&room_url, &["camera"]).await;
    dan.wait_for(
        "Dan to be told the camera is blocked",
        &format!(
            "document.querySelector({}).textContent.includes('Camera blocked')",
            js(&testid("media-problems"))
        ),
        WAIT,
    )
    .await;
    assert!(
        dan.text()
            .await
            .contains("You can join with your microphone only."),
        "Dan is offered to join with what works"
    );
    dan.fill("prejoin-nickname", "Dan").await;
    dan.click("join-button").await;
    dan.wait_for(
        "Dan to see the room-full message",
        &format!("document.querySelector({})", js(&testid("room-full"))),
        WAIT,
    )
    .await;
    assert!(
        dan.text().await.contains("This room is full"),
        "the room-full message is in words"
    );

    // Cy leaves while sending a large file: Ana's and Ben's rows for it end as failed.
    // Ben never answers the question about it.
    let big = "big.bin";
    pick_empty_file(&cy, "file-input", big, 90_000_000).await;
    accept_large_file(&ana, "Ana", big).await;
    cy.click("leave").await;
    for (name, page) in [("Ana", &ana), ("Ben", &ben)] {
        page.wait_for(
            &format!("{name}'s row for Cy's file to fail"),
            &format!("{} === 'failed'", file_state(big)),
            WAIT,
        )
        .await;
    }

    // Cy has left: the others lose the tile within 2 s, and the lobby counts 2.
    let gone = format!("!document.querySelector('[data-peer=\"{cy_id}\"]')");
    for (name, page) in [("Ana", &ana), ("Ben", &ben)] {
        let took = page
            .wait_for(
                &format!("{name} to lose Cy's tile"),
                &gone,
                Duration::from_secs(2),
            )
            .await;
        println!("{name} saw Cy leave after {} ms", took.as_millis());
    }
    lobby
        .wait_for("the lobby to count 2", &room_count_is(2), WAIT)
        .await;
    cy.wait_for(
        "Cy to be back in the lobby",
        &format!("document.querySelector({})", js(&testid("enter-room"))),
        WAIT,
    )
    .await;

    // Dan tries again and joins with the microphone only: Dan sees and hears both others, and
    // they hear Dan and see Dan's camera as off.
    dan.eval(&format!("location.href = {}", js(&room_url)))
        .await;
    join(&dan, Some("Dan")).await;
    assert_media_flows("Dan", &dan, 2).await;
    let dan_id = self_peer_id(&dan).await;
    for (name, page) in [("Ana", &ana), ("Ben", &ben)] {
        page.wait_for(
            &format!("{name} to see Dan's camera off"),
            &format!(
                "document.querySelector('[data-peer=\"{dan_id}\"][data-camera-off=\"true\"]')"
            ),
            WAIT,
        )
        .await;
        let before = media_stats(page).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = media_stats(page).await;
        assert!(
            after[&dan_id].1 > before[&dan_id].1,
            "{name} hears Dan ({:?} → {:?} audio packets)",
            before.get(&dan_id),
            after.get(&dan_id)
        );
    }

    // With both camera and microphone blocked, pre-join offers to watch and listen.
    let eve = browser
        .open_blocking(&room_url, &["camera", "microphone"])
        .await;
    eve.wait_for(
        "Eve to be offered to watch and listen",
        &format!(
            "document.querySelector({}).textContent.includes('You can join to watch and listen.')",
            js(&testid("media-problems"))
        ),
        WAIT,
    )
    .await;
    assert!(eve.text().await.contains("Microphone blocked"));

    // The server goes away: the pages say they are reconnecting, and the call goes on peer to
    // peer meanwhile (coming back after a restart is `browser_restart.rs`).
    server.shutdown().await;
    for (name, page) in [("Ana", &ana), ("Ben", &ben)] {
        page.wait_for(
            &format!("{name} to show that the server is out of reach"),
            &format!("document.querySelector({})", js(&testid("reconnecting"))),
            WAIT,
        )
        .await;
        let before = media_stats(page).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = media_stats(page).await;
        assert_eq!(after.len(), 2, "{name} keeps both peer connections");
        for (peer, (_, packets)) in &after {
            assert!(
                *packets > before[peer].1,
                "{name} still hears {peer} without the server"
            );
        }
    }

    browser.close().await;
}

/// Files, two at once: Ana sends 5 MB of random bytes from the chat panel while Ben sends 1 MB;
/// each other page gets verified downloads with the same SHA-256, name, size and type, and each
/// sender's row says both receivers confirmed it. Prints Ana's rate. Then a file over the cap is
/// refused in words; Ana cancels a large file midway and both receivers' rows say so; Cy
/// declines a file from Ben, which still reaches Ana, and Ben's row says so.
async fn send_files(ana: &Page, ben: &Page, cy: &Page) {
    let noise = TestFile {
        name: "noise.bin",
        mime: "application/x-noom-test",
        size: 5_000_000,
        seed: 0x5eed_f11e,
    };
    let notes = TestFile {
        name: "notes.txt",
        mime: "text/plain",
        size: 1_000_000,
        seed: 0x0b0e_5eed,
    };
    let started = std::time::Instant::now();
    noise.pick(ana).await;
    notes.pick(ben).await;
    for (who, page) in [("Ben", ben), ("Cy", cy)] {
        noise.assert_received(who, page).await;
    }
    let took = started.elapsed();
    for (who, page) in [("Ana", ana), ("Cy", cy)] {
        notes.assert_received(who, page).await;
    }
    for (who, page, file) in [("Ana", ana, &noise), ("Ben", ben, &notes)] {
        page.wait_for(
            &format!("{who}'s row to say both confirmed {}", file.name),
            &format!(
                "{} === 'delivered' && {}.includes('Delivered to 2')",
                file_state(file.name),
                file_row_text(file.name)
            ),
            WAIT,
        )
        .await;
    }
    let mb = noise.size as f64 / 1e6;
    println!(
        "file transfer (beside a second one): {mb:.1} MB to 2 people in {} ms, \
         {:.1} MB/s to each ({:.1} MB/s sent)",
        took.as_millis(),
        mb / took.as_secs_f64(),
        2.0 * mb / took.as_secs_f64(),
    );

    assert!(
        ana.eval(&format!(
            "document.querySelector({}).textContent",
            js(&testid("file-cap"))
        ))
        .await
        .as_str()
        .is_some_and(|text| text.contains("Up to 95 MB")),
        "the server's file cap is stated beside the button"
    );
    pick_empty_file(ana, "file-input", "huge.iso", MAX_FILE_BYTES as usize + 1).await;
    ana.wait_for(
        "a file over the cap to be refused in words",
        &format!(
            "document.querySelector({}).textContent.includes('files up to 95 MB can be sent')",
            js(&testid("file-error"))
        ),
        WAIT,
    )
    .await;
}

/// Ana cancels a file midway; then Cy declines one of Ben's.
async fn stop_files(ana: &Page, ben: &Page, cy: &Page) {
    // Large, so each receiver is asked first; nothing goes before they accept.
    let big = "big-cancelled.bin";
    pick_empty_file(ana, "file-input", big, 60_000_000).await;
    ana.wait_for(
        "Ana's row to wait for the others to accept",
        &format!(
            "{} === 'offered' && {}.includes('Waiting for them to accept')",
            file_state(big),
            file_row_text(big)
        ),
        WAIT,
    )
    .await;
    for (who, page) in [("Ben", ben), ("Cy", cy)] {
        accept_large_file(page, who, big).await;
    }
    ana.eval(&click_cancel(big)).await;
    for (who, page) in [("Ben", ben), ("Cy", cy)] {
        page.wait_for(
            &format!("{who}'s row to say Ana cancelled {big}"),
            &format!(
                "{} === 'cancelled' && {}.includes('Ana cancelled it')",
                file_state(big),
                file_row_text(big)
            ),
            WAIT,
        )
        .await;
    }
    assert_eq!(ana.eval(&file_state(big)).await, Value::from("cancelled"));

    let slides = TestFile {
        name: "slides.bin",
        mime: "application/octet-stream",
        size: 4_000_000,
        seed: 0x51de_5eed,
    };
    slides.pick(ben).await;
    cy.wait_for(
        "Cy to start receiving the slides",
        &format!("{} === 'receiving'", file_state(slides.name)),
        WAIT,
    )
    .await;
    cy.eval(&click_cancel(slides.name)).await;
    slides.assert_received("Ana", ana).await;
    ben.wait_for(
        "Ben's row to say Ana has the slides and Cy declined them",
        &format!(
            "{} === 'delivered' && {}.includes('Delivered to 1, 1 declined')",
            file_state(slides.name),
            file_row_text(slides.name)
        ),
        WAIT,
    )
    .await;
    assert_eq!(
        cy.eval(&file_state(slides.name)).await,
        Value::from("cancelled")
    );
}

/// A JavaScript expression: the text of the file row for `name`.
fn file_row_text(name: &str) -> String {
    format!(
        "document.querySelector('[data-testid=\"file-transfer\"][data-name=' + CSS.escape({}) + ']').textContent",
        js(name)
    )
}

/// A JavaScript statement: clicks Cancel in the file row for `name`.
fn click_cancel(name: &str) -> String {
    click_in_file_row(name, "file-cancel")
}

/// A JavaScript statement: clicks the button `test_id` in the file row for `name`.
fn click_in_file_row(name: &str, test_id: &str) -> String {
    format!(
        "document.querySelector('[data-testid=\"file-transfer\"][data-name=' + CSS.escape({}) + '] {}').click()",
        js(name),
        testid(test_id)
    )
}

/// `page`'s user (`who`) is asked about the large file `name`, in words, and accepts it;
/// then it arrives.
async fn accept_large_file(page: &Page, who: &str, name: &str) {
    page.wait_for(
        &format!("{who} to be asked about {name}"),
        &format!(
            "{} === 'asking' && {}.includes('accept it?')",
            file_state(name),
            file_row_text(name)
        ),
        // The sender hashes the whole file before it offers it: 90 MB of SHA-256 in WASM
        // takes tens of seconds on a slow two-core machine.
        WAIT * 3,
    )
    .await;
    page.eval(&click_in_file_row(name, "file-accept")).await;
    page.wait_for(
        &format!("{who} to start receiving {name}"),
        &format!("{} === 'receiving'", file_state(name)),
        WAIT,
    )
    .await;
}

/// A JavaScript expression: how many chat messages read exactly `text`.
fn chat_copies(text: &str) -> String {
    format!(
        "[...document.querySelectorAll({})].filter(e => e.textContent === {}).length",
        js(&testid("chat-text")),
        js(text)
    )
}

/// A JavaScript condition: the lobby lists the test room with `count` people.
fn room_count_is(count: u32) -> String {
    format!(
        "document.querySelector('[data-room={}] {}')?.dataset.count === '{count}'",
        js(ROOM),
        testid("room-count")
    )
}
