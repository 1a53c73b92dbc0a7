//! Cluster failures: a node killed with SIGKILL, and Redis lost and restarted empty.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::{Duration, Instant};

use noom_server::Config;
use noom_shared::*;
use noom_tests::media_peer::MediaPeer;
use noom_tests::node::NodeProcess;
use noom_tests::redis::TestRedis;
use noom_tests::server::{wait_until_healthy, wait_until_out_of_step};
use noom_tests::{TestClient, TestServer};

fn cluster_config(redis: &TestRedis) -> Config {
    Config {
        redis_url: Some(redis.url()),
        ..Config::default()
    }
}

/// A node in its own process, so that it can be killed.
async fn start_node(redis: &TestRedis) -> NodeProcess {
    start_node_with(redis, &[]).await
}

/// A node in its own process, with more server flags.
async fn start_node_with(redis: &TestRedis, flags: &[&str]) -> NodeProcess {
    let url = redis.url();
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--static-dir",
        "/nonexistent",
        "--redis-url",
        &url,
    ];
    args.extend_from_slice(flags);
    NodeProcess::start(env!("CARGO_BIN_EXE_noom-node"), &args).await
}

fn chat(text: &str) -> ClientMessage {
    ClientMessage::Chat(ChatSend {
        text: ChatText::new(text).unwrap(),
    })
}

#[tokio::test]
async fn the_peers_of_a_killed_node_leave_the_other_nodes_rooms_within_10_s() {
    let redis = TestRedis::start().await;
    let survivor = TestServer::with_config(cluster_config(&redis)).await;
    let mut doomed = start_node(&redis).await;

    let mut ada = TestClient::connect(&survivor.ws_url()).await;
    let mut lobby = TestClient::connect(&survivor.ws_url()).await;
    let mut bob = TestClient::connect(&format!("ws://{}/ws", doomed.addr)).await;
    ada.join("standup", "Ada").await;
    let joined = bob.join("standup", "Bob").await;
    assert_eq!(joined.peers.len(), 1, "Bob, on the other node, sees Ada");
    assert!(
        matches!(ada.recv().await, ServerMessage::PeerJoined(p) if p.nickname.as_str() == "Bob")
    );

    doomed.kill(); // SIGKILL: no goodbye to Redis
    let killed = Instant::now();
    let left = ada.recv_within(Duration::from_secs(12)).await;
    let waited = killed.elapsed();
    assert_eq!(
        left,
        ServerMessage::PeerLeft(PeerLeft {
            peer_id: bob.peer_id().clone()
        })
    );
    println!("a killed node's peer left its room after {waited:?}");
    assert!(waited < Duration::from_secs(10), "took {waited:?}");

    // The cluster-wide count follows.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let rooms = lobby.recv_room_push().await;
        if rooms
            .rooms
            .iter()
            .any(|r| r.name.as_str() == "standup" && r.participants == 1)
        {
            break;
        }
        assert!(Instant::now() < deadline, "room count never went back to 1");
    }
}

#[tokio::test]
async fn nodes_serve_their_own_peers_through_a_redis_outage_and_recover() {
    let mut redis = TestRedis::start().await;
    let first = TestServer::with_config(cluster_config(&redis)).await;
    let second = TestServer::with_config(cluster_config(&redis)).await;
    let mut ada = TestClient::connect(&first.ws_url()).await;
    let mut cy = TestClient::connect(&first.ws_url()).await;
    let mut bob = TestClient::connect(&second.ws_url()).await;
    ada.join("r", "Ada").await;
    cy.join("r", "Cy").await;
    bob.join("r", "Bob").await;
    ada.recv().await; // Cy joined
    ada.recv().await; // Bob joined
    cy.recv().await; // Bob joined

    redis.stop();
    wait_until_out_of_step(first.addr).await;
    // The node still serves the peers connected to it.
    ada.send(chat("still talking")).await;
    for member in [&mut ada, &mut cy] {
        let message = match member.recv().await {
            ServerMessage::Chat(message) => message,
            other => panic!("expected chat, got {other:?}"),
        };
        assert_eq!(message.text.as_str(), "still talking");
    }

    redis.restart().await; // empty: every node registers its peers again
    wait_until_healthy(first.addr).await;
    wait_until_healthy(second.addr).await;

    // A new join across nodes works and sees everyone.
    let mut dan = TestClient::connect(&second.ws_url()).await;
    let joined = dan.join("r", "Dan").await;
    let mut names: Vec<_> = joined
        .peers
        .iter()
        .map(|p| p.nickname.to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["Ada", "Bob", "Cy"]);
    // Ada hears of Dan (skipping any flap of Bob while the nodes re-registered).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match ada.recv().await {
            ServerMessage::PeerJoined(p) if p.nickname.as_str() == "Dan" => break,
            ServerMessage::PeerJoined(_) | ServerMessage::PeerLeft(_) => {}
            other => panic!("unexpected {other:?}"),
        }
        assert!(Instant::now() < deadline);
    }
    // And messages cross nodes again.
    ada.send(chat("welcome back")).await;
    loop {
        if let ServerMessage::Chat(message) = bob.recv().await {
            assert_eq!(message.text.as_str(), "welcome back");
            break;
        }
    }
}

/// The last node stopping takes its people out of Redis: a node started after it finds the
/// rooms empty, with no seat left behind. (While another node is up, a stopping node's people
/// keep their seats to resume them there: `resume.rs`.)
#[tokio::test]
async fn the_last_node_stopping_leaves_no_seats_behind() {
    let redis = TestRedis::start().await;
    let only = TestServer::with_config(cluster_config(&redis)).await;
    let mut ada = TestClient::connect(&only.ws_url()).await;
    ada.join("r", "Ada").await;
    only.shutdown().await;

    let next = TestServer::with_config(cluster_config(&redis)).await;
    let mut lobby = TestClient::connect(&next.ws_url()).await;
    lobby.send(ClientMessage::ListRooms(Empty {})).await;
    let ServerMessage::Rooms(rooms) = lobby.recv().await else {
        panic!("expected the room list")
    };
    assert!(rooms.rooms.is_empty(), "left behind: {:?}", rooms.rooms);
}

#[tokio::test]
async fn room_size_holds_across_nodes_under_a_race() {
    let redis = TestRedis::start().await;
    let config = Config {
        max_room_size: 3,
        ..cluster_config(&redis)
    };
    let first = TestServer::with_config(config.clone()).await;
    let second = TestServer::with_config(config).await;
    let mut clients = Vec::new();
    for i in 0..10 {
        let node = if i % 2 == 0 { &first } else { &second };
        clients.push(TestClient::connect(&node.ws_url()).await);
    }
    let outcomes = futures_util::future::join_all(clients.iter_mut().enumerate().map(
        |(i, client)| async move {
            client
                .send(noom_tests::client::join_message("race", &format!("p{i}")))
                .await;
            match client.recv().await {
                ServerMessage::Joined(_) => true,
                ServerMessage::Error(e) if e.code == ErrorCode::RoomFull => false,
                other => panic!("unexpected {other:?}"),
            }
        },
    ))
    .await;
    assert_eq!(
        outcomes.iter().filter(|joined| **joined).count(),
        3,
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_node_without_redis_still_holds_the_room_size() {
    let mut redis = TestRedis::start().await;
    let node = TestServer::with_config(Config {
        max_room_size: 3,
        ..cluster_config(&redis)
    })
    .await;
    let mut ada = TestClient::connect(&node.ws_url()).await;
    ada.join("r", "Ada").await;
    redis.stop();
    wait_until_out_of_step(node.addr).await;
    // Without Redis the node admits by its own count: two more, then the room is full.
    let mut admitted = Vec::new();
    for name in ["Bo", "Cy"] {
        let mut client = TestClient::connect(&node.ws_url()).await;
        client.join("r", name).await;
        admitted.push(client);
    }
    for name in ["Di", "Ed", "Flo"] {
        let mut late = TestClient::connect(&node.ws_url()).await;
        late.send(noom_tests::client::join_message("r", name)).await;
        late.expect_error(ErrorCode::RoomFull).await;
    }
}

/// How long the survivors of a killed media node may take to hear each other again: the node's
/// heartbeat expires (5 s), a reaper notices (each second), then a new DTLS handshake. Generous,
/// for a loaded machine; the time taken is printed.
const MEDIA_MOVES_WITHIN: Duration = Duration::from_secs(40);

/// Until `listener` has heard more than `frames` more audio frames from `speaker`.
async fn hears(listener: &MediaPeer, speaker: &MediaPeer, frames: usize, within: Duration) {
    let from = listener.heard_from(speaker);
    let waited = listener
        .until_within(&format!("audio from {}", speaker.id), within, |s| {
            s.heard.get(&speaker.id).is_some_and(|n| *n > from + frames)
        })
        .await;
    println!("{} hears {} after {waited:?}", listener.id, speaker.id);
}

#[tokio::test]
async fn an_sfu_rooms_media_lives_on_one_node_and_moves_when_that_node_dies() {
    let redis = TestRedis::start().await;
    let survivor = TestServer::with_config(Config {
        sfu_udp: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        mesh_max: 1,
        ..cluster_config(&redis)
    })
    .await;
    let sfu = ["--sfu-udp", "127.0.0.1:0", "--mesh-max", "1"];
    let mut doomed = start_node_with(&redis, &sfu).await;
    let on_doomed = format!("ws://{}/ws", doomed.addr);

    let ana = MediaPeer::join(&survivor.ws_url(), "standup", "Ana").await;
    // Ben's join, on the other node, makes it an SFU room there.
    let ben = MediaPeer::join(&on_doomed, "standup", "Ben").await;
    let cy = MediaPeer::join(&survivor.ws_url(), "standup", "Cy").await;
    let everyone = [&ana, &ben, &cy];
    for listener in everyone {
        for speaker in everyone.iter().filter(|p| p.id != listener.id) {
            hears(listener, speaker, 20, WAIT_FOR_MEDIA).await;
        }
    }
    // One SFU for the room, whichever node each member's socket is on.
    let media_node = ben.seen().server;
    assert!(media_node.is_some());
    assert_eq!(ana.seen().server, media_node);
    assert_eq!(cy.seen().server, media_node);

    doomed.kill();
    let killed = Instant::now();
    for (peer, media) in [
        (&ana, vec![Media::Mesh, Media::Sfu]),
        (&cy, vec![Media::Sfu]),
    ] {
        let moved = [media, vec![Media::Sfu]].concat();
        peer.until_within("the room's media to move", MEDIA_MOVES_WITHIN, |s| {
            s.media == moved
        })
        .await;
    }
    hears(&ana, &cy, 20, MEDIA_MOVES_WITHIN).await;
    hears(&cy, &ana, 20, MEDIA_MOVES_WITHIN).await;
    println!(
        "the survivors hear each other through the other node's SFU {:?} after the kill",
        killed.elapsed()
    );
    let moved_to = ana.seen().server;
    assert_ne!(moved_to, media_node, "the survivor's own SFU");
    assert_eq!(cy.seen().server, moved_to);
    for peer in [&ana, &cy] {
        let seen = peer.seen();
        assert_eq!(seen.left, vec![ben.id.clone()], "only Ben left");
        assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    }
}

/// Media through a fresh SFU connection: a DTLS handshake on a busy machine.
const WAIT_FOR_MEDIA: Duration = Duration::from_secs(15);
