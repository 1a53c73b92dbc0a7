//! Resuming a lost connection: the seat is held, taken back unseen, or given up after the
//! grace period. Run on one node and on a two-node cluster (reconnecting to the same node).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::{Duration, Instant};

use noom_server::Config;
use noom_shared::*;
use noom_tests::{Deployment, TestClient, Topology};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

fn resume(token: &ResumeToken) -> ClientMessage {
    ClientMessage::Resume(Resume {
        token: token.clone(),
    })
}

fn chat(text: &str) -> ClientMessage {
    ClientMessage::Chat(ChatSend {
        text: ChatText::new(text).unwrap(),
    })
}

async fn a_lost_connection_is_resumed_without_the_room_noticing(topology: Topology) {
    let deployment = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob) = deployment.two_in_a_room().await;
    let session = bob.recv_session().await;
    assert_eq!(session.grace_ms, 30_000);
    let bob_id = bob.peer_id().clone();
    let bob_node = deployment.nodes.len() - 1;
    drop(bob); // the socket breaks: no close frame

    let mut back = TestClient::connect(&deployment.nodes[bob_node].ws_url()).await;
    let id = back.send(resume(&session.resume_token)).await;
    let envelope = back.recv_envelope().await;
    assert_eq!(envelope.id, Some(id));
    let ServerMessage::Resumed(resumed) = envelope.message else {
        panic!("expected resumed, got {:?}", envelope.message)
    };
    assert_eq!(
        resumed.peer_id, bob_id,
        "the old peer id, so others' connections still fit"
    );
    assert_eq!(resumed.peers[0].peer_id, *ada.peer_id());
    ada.expect_silence(Duration::from_millis(300)).await;

    // The resumed connection is Bob in every way.
    ada.send(ClientMessage::Signal(SignalTo {
        to: bob_id.clone(),
        data: SignalData::from_json("{}").unwrap(),
    }))
    .await;
    assert!(matches!(back.recv().await, ServerMessage::Signal(s) if s.from == *ada.peer_id()));
    back.send(chat("I'm back")).await;
    let ServerMessage::Chat(message) = ada.recv().await else {
        panic!("expected chat")
    };
    assert_eq!((message.from, message.nickname.as_str()), (bob_id, "Bob"));
    // A fresh token replaces the used one, which no longer works.
    assert_ne!(back.recv_session().await.resume_token, session.resume_token);
    let mut thief = TestClient::connect(&deployment.nodes[bob_node].ws_url()).await;
    thief.send(resume(&session.resume_token)).await;
    thief.expect_error(ErrorCode::InvalidToken).await;
}

async fn what_a_held_seat_missed_is_delivered_after_resuming(topology: Topology) {
    let deployment = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob) = deployment.two_in_a_room().await;
    let token = bob.recv_session().await.resume_token;
    let bob_id = bob.peer_id().clone();
    let bob_node = deployment.nodes.len() - 1;
    drop(bob);
    tokio::time::sleep(Duration::from_millis(100)).await; // the server sees the socket break

    let offer = r#"{"description":{"type":"offer","sdp":"v=0\r\n"}}"#;
    ada.send(ClientMessage::Signal(SignalTo {
        to: bob_id.clone(),
        data: SignalData::from_json(offer).unwrap(),
    }))
    .await;
    ada.send(chat("are you there?")).await;
    assert!(matches!(ada.recv().await, ServerMessage::Chat(_)));

    let mut back = TestClient::connect(&deployment.nodes[bob_node].ws_url()).await;
    back.send(resume(&token)).await;
    assert!(matches!(back.recv().await, ServerMessage::Resumed(_)));
    let ServerMessage::Signal(signal) = back.recv().await else {
        panic!("expected the missed offer")
    };
    assert_eq!(
        (signal.from, signal.data.as_json()),
        (ada.peer_id().clone(), offer)
    );
    assert!(
        matches!(back.recv().await, ServerMessage::Chat(c) if c.text.as_str() == "are you there?")
    );
}

async fn a_seat_not_taken_back_in_time_is_given_up(topology: Topology) {
    let config = Config {
        resume_grace: Duration::from_millis(300),
        ..Config::default()
    };
    let deployment = Deployment::start(topology, config).await;
    let (mut ada, mut bob) = deployment.two_in_a_room().await;
    let token = bob.recv_session().await.resume_token;
    let bob_id = bob.peer_id().clone();
    let lost = Instant::now();
    drop(bob);
    assert_eq!(
        ada.recv().await,
        ServerMessage::PeerLeft(PeerLeft { peer_id: bob_id })
    );
    let waited = lost.elapsed();
    assert!(
        waited >= Duration::from_millis(250),
        "left after {waited:?}, before the grace ended"
    );

    let mut late = TestClient::connect(&deployment.url()).await;
    late.send(resume(&token)).await;
    late.expect_error(ErrorCode::InvalidToken).await;
}

async fn a_clean_close_leaves_at_once(topology: Topology) {
    let deployment = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob) = deployment.two_in_a_room().await;
    let bob_id = bob.peer_id().clone();
    let closed = Instant::now();
    bob.socket.close(None).await.unwrap();
    assert_eq!(
        ada.recv().await,
        ServerMessage::PeerLeft(PeerLeft { peer_id: bob_id })
    );
    assert!(closed.elapsed() < Duration::from_secs(1));
}

async fn a_resume_takes_over_a_connection_that_still_looks_alive(topology: Topology) {
    let deployment = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut stale) = deployment.two_in_a_room().await;
    let token = stale.recv_session().await.resume_token;
    let bob_node = deployment.nodes.len() - 1;
    let mut fresh = TestClient::connect(&deployment.nodes[bob_node].ws_url()).await;
    fresh.send(resume(&token)).await;
    assert!(
        matches!(fresh.recv().await, ServerMessage::Resumed(r) if r.peer_id == *stale.peer_id())
    );
    assert_eq!(
        stale.close_code().await,
        Some(CloseCode::Away),
        "the old connection is closed"
    );
    ada.expect_silence(Duration::from_millis(300)).await;
    fresh.send(chat("still me")).await;
    assert!(matches!(ada.recv().await, ServerMessage::Chat(c) if c.text.as_str() == "still me"));
}

#[tokio::test]
async fn a_seat_is_resumed_on_another_node_of_the_cluster() {
    let config = Config {
        resume_grace: Duration::from_millis(500),
        ..Config::default()
    };
    let deployment = Deployment::start(Topology::TwoNodes, config).await;
    let (mut ada, mut bob) = deployment.two_in_a_room().await; // Ada on node 0, Bob on node 1
    let token = bob.recv_session().await.resume_token;
    let bob_id = bob.peer_id().clone();
    drop(bob);

    // No sticky sessions: Bob's client comes back through the other node.
    let mut back = TestClient::connect(&deployment.nodes[0].ws_url()).await;
    back.send(resume(&token)).await;
    let ServerMessage::Resumed(resumed) = back.recv().await else {
        panic!("expected resumed")
    };
    assert_eq!(resumed.peer_id, bob_id);
    // Past the grace period: the old node gave the seat up to the new one, so nobody is told
    // that Bob left.
    ada.expect_silence(Duration::from_millis(900)).await;

    ada.send(ClientMessage::Signal(SignalTo {
        to: bob_id.clone(),
        data: SignalData::from_json("{}").unwrap(),
    }))
    .await;
    assert!(matches!(back.recv().await, ServerMessage::Signal(s) if s.from == *ada.peer_id()));
    back.send(chat("moved")).await;
    assert!(matches!(ada.recv().await, ServerMessage::Chat(c) if c.from == bob_id));
    // His clean close now leaves at once, from his new node.
    back.socket.close(None).await.unwrap();
    assert_eq!(
        ada.recv().await,
        ServerMessage::PeerLeft(PeerLeft { peer_id: bob_id })
    );
}

/// A rolling restart: a node is stopped (SIGTERM). Its people come back through the other node
/// and take their seats back, and nobody sees them leave; one who never comes back is removed
/// once the stopped node's heartbeat has expired.
#[tokio::test]
async fn the_people_of_a_stopped_node_resume_on_another_unseen() {
    let mut deployment = Deployment::start(Topology::TwoNodes, Config::default()).await;
    let (mut ada, mut bob) = deployment.two_in_a_room().await; // Ada on node 0, Bob on node 1
    let token = bob.recv_session().await.resume_token;
    let bob_id = bob.peer_id().clone();
    let mut cy = TestClient::connect(&deployment.nodes[1].ws_url()).await;
    cy.join("r", "Cy").await;
    let cy_id = cy.peer_id().clone();
    assert!(matches!(ada.recv().await, ServerMessage::PeerJoined(p) if p.peer_id == cy_id));

    let stopped = deployment.nodes.pop().unwrap();
    stopped.shutdown().await;
    assert_eq!(bob.close_code().await, Some(CloseCode::Away));
    let mut back = TestClient::connect(&deployment.nodes[0].ws_url()).await;
    back.send(resume(&token)).await;
    let ServerMessage::Resumed(resumed) = back.recv().await else {
        panic!("expected resumed")
    };
    assert_eq!(resumed.peer_id, bob_id);

    // Cy never comes back: Ada hears that Cy left, and never that Bob did.
    let stopped_at = Instant::now();
    loop {
        match ada.recv_within(Duration::from_secs(12)).await {
            ServerMessage::PeerLeft(left) if left.peer_id == cy_id => break,
            ServerMessage::PeerLeft(left) => panic!("{} was said to leave", left.peer_id),
            _ => {}
        }
    }
    println!(
        "a stopped node's straggler removed after {:?}",
        stopped_at.elapsed()
    );
    ada.expect_silence(Duration::from_secs(1)).await;
    back.send(chat("still here")).await;
    assert!(matches!(ada.recv().await, ServerMessage::Chat(c) if c.from == bob_id));
}

noom_tests::on_each_topology!(
    a_lost_connection_is_resumed_without_the_room_noticing,
    what_a_held_seat_missed_is_delivered_after_resuming,
    a_seat_not_taken_back_in_time_is_given_up,
    a_clean_close_leaves_at_once,
    a_resume_takes_over_a_connection_that_still_looks_alive,
);
