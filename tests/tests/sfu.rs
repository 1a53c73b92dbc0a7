//! The SFU through the real server: WebSocket signaling and media over real UDP on loopback,
//! with str0m as the clients (`noom_tests::media_peer`).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::net::SocketAddr;

use noom_server::Config;
use noom_shared::{ClientMessage, Empty, ErrorCode, Media, SfuAnswer};
use noom_tests::TestServer;
use noom_tests::media_peer::MediaPeer;

async fn sfu_server(mesh_max: u32) -> TestServer {
    TestServer::with_config(Config {
        sfu_udp: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        mesh_max,
        ..Config::default()
    })
    .await
}

#[tokio::test]
async fn a_room_beyond_the_mesh_forwards_everyone_to_everyone() {
    let server = sfu_server(2).await;
    let url = server.ws_url();
    let ana = MediaPeer::join(&url, "standup", "Ana").await;
    let ben = MediaPeer::join(&url, "standup", "Ben").await;
    assert_eq!(ana.seen().media, [Media::Mesh]);
    assert_eq!(ben.seen().media, [Media::Mesh]);

    let cy = MediaPeer::join(&url, "standup", "Cy").await;
    assert_eq!(cy.seen().media, [Media::Sfu]);
    ana.until("the switch to the SFU", |s| {
        s.media == [Media::Mesh, Media::Sfu]
    })
    .await;
    let peers = [&ana, &ben, &cy];
    for listener in peers {
        for speaker in peers.iter().filter(|p| p.id != listener.id) {
            let waited = listener
                .until(&format!("audio from {}", speaker.id), |s| {
                    s.heard.get(&speaker.id).is_some_and(|n| *n > 20)
                })
                .await;
            println!(
                "{} hears {} after {} ms",
                listener.id,
                speaker.id,
                waited.as_millis()
            );
        }
        let seen = listener.seen();
        assert_eq!(
            seen.tracks.len(),
            5,
            "3 own m-lines and each other member's audio (no camera or screen is sent, so no \
             slot carries one)"
        );
        assert_eq!(seen.misrouted, 0);
        assert!(seen.errors.is_empty(), "{:?}", seen.errors);
        assert!(seen.left.is_empty(), "nobody leaves across the switch");
    }
    // Each sender's frames carry its own byte only: nothing is crossed over.
    let ana_seen = ana.seen();
    assert_eq!(ana_seen.bytes[&ben.id], b"B");
    assert_eq!(ana_seen.bytes[&cy.id], b"C");

    // Cy leaves: the other two go back to the mesh.
    cy.send(ClientMessage::Leave(Empty {}));
    for peer in [&ana, &ben] {
        peer.until("the switch back to the mesh", |s| {
            s.media == [Media::Mesh, Media::Sfu, Media::Mesh]
        })
        .await;
    }
}

#[tokio::test]
async fn sfu_signaling_that_does_not_fit_gets_bad_sdp() {
    let server = sfu_server(1).await;
    let url = server.ws_url();
    // A mesh room (one member here is at most --mesh-max 1: the second makes it an SFU room).
    let ana = MediaPeer::join(&url, "retro", "Ana").await;
    ana.send(ClientMessage::SfuRestart(Empty {}));
    ana.until("a refused restart in a mesh room", |s| {
        s.errors == [ErrorCode::BadSdp]
    })
    .await;

    let ben = MediaPeer::join(&url, "retro", "Ben").await;
    ben.until("audio from Ana", |s| {
        s.heard.get(&ana.id).is_some_and(|n| *n > 20)
    })
    .await;
    // No offer awaits an answer now, and this is not SDP anyway.
    ben.send(ClientMessage::SfuAnswer(SfuAnswer {
        sdp: "hello".into(),
    }));
    ben.until("a refused answer", |s| s.errors == [ErrorCode::BadSdp])
        .await;
    // Ben's connection is unharmed: Ana still reaches him.
    let before = ben.heard_from(&ana);
    ben.until("more audio from Ana", |s| {
        s.heard.get(&ana.id).is_some_and(|n| *n > before + 20)
    })
    .await;

    // Garbage on the media port is dropped; everyone carries on.
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let media_port = ana.seen().server.expect("the server's candidate");
    for size in [1, 12, 100, 1400] {
        socket.send_to(&vec![0x80; size], media_port).unwrap();
    }
    let before = ana.heard_from(&ben);
    ana.until("audio from Ben after the garbage", |s| {
        s.heard.get(&ben.id).is_some_and(|n| *n > before + 20)
    })
    .await;
}

#[tokio::test]
async fn a_room_size_whose_answers_outgrow_the_frame_limit_is_refused_at_start() {
    let big_rooms = Config {
        sfu_udp: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        max_room_size: 50,
        ..Config::default()
    };
    let listener = noom_server::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let refused = noom_server::run(listener, big_rooms.clone(), std::future::pending())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("--max-room-size 50 needs --max-frame-bytes 156672"),
        "{refused}"
    );

    // With the frame limit it names, the server starts and offers rooms of 50.
    let server = TestServer::with_config(Config {
        max_frame_bytes: 156_672,
        ..big_rooms
    })
    .await;
    let client = noom_tests::TestClient::connect(&server.ws_url()).await;
    assert_eq!(client.welcome.max_room_size, 50);
}
