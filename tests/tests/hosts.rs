//! A room's host over real WebSockets, on one node and on a two-node cluster: who it is, how
//! the role passes, and what only the host may do (hand it over, mute, remove). Also: two
//! members cannot hold the same nickname.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Duration;

use noom_server::Config;
use noom_shared::*;
use noom_tests::client::join_message;
use noom_tests::{Deployment, TestClient, Topology};

fn target(client: &TestClient) -> PeerTarget {
    PeerTarget {
        peer_id: client.peer_id().clone(),
    }
}

fn host_changed(to: &TestClient) -> ServerMessage {
    ServerMessage::HostChanged(target(to))
}

async fn the_first_in_is_host_and_the_longest_present_takes_over(topology: Topology) {
    let deployment = Deployment::start(topology, Config::default()).await;
    let mut ada = TestClient::connect(&deployment.url()).await;
    let mut bob = TestClient::connect(&deployment.url()).await;
    let mut cy = TestClient::connect(&deployment.url()).await;
    assert_eq!(ada.join("r", "Ada").await.host, *ada.peer_id());
    assert_eq!(bob.join("r", "Bob").await.host, *ada.peer_id());
    assert_eq!(cy.join("r", "Cy").await.host, *ada.peer_id());
    ada.recv().await; // Bob joined
    ada.recv().await; // Cy joined
    bob.recv().await; // Cy joined

    ada.send(ClientMessage::Leave(Empty {})).await;
    let bob_is_host = host_changed(&bob);
    for member in [&mut bob, &mut cy] {
        assert!(matches!(member.recv().await, ServerMessage::PeerLeft(_)));
        assert_eq!(member.recv().await, bob_is_host, "Bob came first");
    }
}

async fn a_host_whose_socket_drops_is_still_host_when_it_comes_back(topology: Topology) {
    let deployment = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob) = deployment.two_in_a_room().await;
    let token = ada.recv_session().await.resume_token;
    let ada_id = ada.peer_id().clone();
    drop(ada); // no close frame: the seat is held
    bob.expect_silence(Duration::from_millis(500)).await;
    let mut back = TestClient::connect(&deployment.nodes[0].ws_url()).await;
    back.send(ClientMessage::Resume(Resume { token })).await;
    let ServerMessage::Resumed(resumed) = back.recv().await else {
        panic!("expected resumed")
    };
    assert_eq!(resumed.host, ada_id, "still the host");
    // And it may still act as host.
    back.send(ClientMessage::MutePeer(MutePeer {
        peer_id: bob.peer_id().clone(),
        kind: MediaKind::Video,
    }))
    .await;
    let muted = ServerMessage::MutedByHost(MutedByHost {
        kind: MediaKind::Video,
    });
    assert_eq!(bob.recv().await, muted);
}

async fn only_the_host_mutes_or_hands_the_role_over(topology: Topology) {
    let deployment = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob) = deployment.two_in_a_room().await;
    let mute = |who: &TestClient| {
        ClientMessage::MutePeer(MutePeer {
            peer_id: who.peer_id().clone(),
            kind: MediaKind::Audio,
        })
    };
    bob.send(mute(&ada)).await;
    let refused = bob.expect_error(ErrorCode::NotHost).await;
    assert!(refused.message.contains("host"), "{refused:?}");
    ada.send(mute(&bob)).await;
    let muted = ServerMessage::MutedByHost(MutedByHost {
        kind: MediaKind::Audio,
    });
    assert_eq!(bob.recv().await, muted);

    ada.send(ClientMessage::MakeHost(target(&bob))).await;
    assert_eq!(ada.recv().await, host_changed(&bob));
    assert_eq!(bob.recv().await, host_changed(&bob));
    ada.send(mute(&bob)).await;
    ada.expect_error(ErrorCode::NotHost).await;
    bob.send(mute(&bob)).await;
    bob.expect_error(ErrorCode::UnknownPeer).await; // not oneself
}

async fn a_removed_member_is_out_at_once_and_cannot_resume(topology: Topology) {
    let deployment = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob) = deployment.two_in_a_room().await;
    let token = bob.recv_session().await.resume_token;
    ada.send(ClientMessage::RemovePeer(target(&bob))).await;
    assert_eq!(bob.recv().await, ServerMessage::Removed(Empty {}));
    assert_eq!(
        ada.recv().await,
        ServerMessage::PeerLeft(PeerLeft {
            peer_id: bob.peer_id().clone()
        })
    );
    // Its seat and its token are gone: nobody can take the seat back.
    let mut thief = TestClient::connect(&deployment.nodes[0].ws_url()).await;
    thief.send(ClientMessage::Resume(Resume { token })).await;
    thief.expect_error(ErrorCode::InvalidToken).await;
    // Bob is in the lobby again, and may join as anyone would.
    let rejoined = bob.join("r", "Bob").await;
    assert_eq!(rejoined.peers[0].peer_id, *ada.peer_id());
}

async fn two_members_cannot_hold_the_same_nickname(topology: Topology) {
    let deployment = Deployment::start(topology, Config::default()).await;
    let (_ada, mut bob) = deployment.two_in_a_room().await;
    let mut imposter = TestClient::connect(&deployment.url()).await;
    for name in ["Ada", "ADA", "\u{FF21}da"] {
        imposter.send(join_message("r", name)).await;
        let taken = imposter.expect_error(ErrorCode::InvalidNickname).await;
        assert!(
            taken.message.contains("already has that nickname"),
            "{name}: {taken:?}"
        );
    }
    bob.send(ClientMessage::SetNickname(SetNickname {
        nickname: Nickname::new("ada").unwrap(),
    }))
    .await;
    bob.expect_error(ErrorCode::InvalidNickname).await;
    // A name of one's own, or one nobody here has, is fine.
    imposter.join("r", "Ada Two").await;
}

noom_tests::on_each_topology!(
    the_first_in_is_host_and_the_longest_present_takes_over,
    a_host_whose_socket_drops_is_still_host_when_it_comes_back,
    only_the_host_mutes_or_hands_the_role_over,
    a_removed_member_is_out_at_once_and_cannot_resume,
    two_members_cannot_hold_the_same_nickname,
);
