//! Every row of protocol v1 and every error code, through real WebSockets, on one node and on
//! a cluster of two nodes sharing Redis (successive clients alternate between the nodes).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use noom_server::{Config, IceServers};
use noom_shared::*;
use noom_tests::client::join_message;
use noom_tests::{Deployment, TestClient, Topology};

fn signal(to: &PeerId, json: &str) -> ClientMessage {
    ClientMessage::Signal(SignalTo {
        to: to.clone(),
        data: SignalData::from_json(json).unwrap(),
    })
}

fn chat(text: &str) -> ClientMessage {
    ClientMessage::Chat(ChatSend {
        text: ChatText::new(text).unwrap(),
    })
}

async fn welcome_announces_peer_id_ice_servers_and_limits(topology: Topology) {
    let config = Config {
        ice_servers: IceServers::parse("stun:stun.example.org:3478").unwrap(),
        max_room_size: 5,
        ..Config::default()
    };
    let server = Deployment::start(topology, config).await;
    let a = TestClient::connect(&server.url()).await;
    let b = TestClient::connect(&server.url()).await;
    assert_ne!(a.peer_id(), b.peer_id());
    assert_eq!(a.welcome.protocol, 1);
    assert_eq!(a.welcome.max_room_size, 5);
    assert_eq!(
        a.welcome.ice_servers[0].urls,
        vec!["stun:stun.example.org:3478".to_owned()]
    );
}

async fn list_rooms_answers_with_counts_and_the_request_id(topology: Topology) {
    let server = Deployment::start(topology, Config::default()).await;
    let mut a = TestClient::connect(&server.url()).await;
    let mut b = TestClient::connect(&server.url()).await;
    let id = b.send(ClientMessage::ListRooms(Empty {})).await;
    let envelope = b.recv_envelope().await;
    assert_eq!(envelope.id, Some(id));
    assert_eq!(
        envelope.message,
        ServerMessage::Rooms(Rooms { rooms: vec![] })
    );

    a.join("standup", "Ada").await;
    // b watches the lobby: the change is pushed to it (on a cluster, from the other node).
    let pushed = b.recv_room_push().await;
    assert_eq!(pushed.rooms[0].participants, 1);
    b.send(ClientMessage::ListRooms(Empty {})).await;
    let ServerMessage::Rooms(rooms) = b.recv().await else {
        panic!("expected rooms")
    };
    assert_eq!(
        rooms.rooms,
        vec![RoomInfo {
            name: RoomName::new("standup").unwrap(),
            participants: 1,
            locked: false,
        }]
    );
}

async fn join_lists_peers_already_there_and_tells_them(topology: Topology) {
    let server = Deployment::start(topology, Config::default()).await;
    let mut ada = TestClient::connect(&server.url()).await;
    let mut bob = TestClient::connect(&server.url()).await;
    let mut cy = TestClient::connect(&server.url()).await;

    let joined = ada.join("standup", "Ada").await;
    assert_eq!(joined.room.as_str(), "standup");
    assert_eq!(&joined.peer_id, ada.peer_id());
    assert!(joined.peers.is_empty());

    let joined = bob.join(" standup ", "Bob").await;
    assert_eq!(
        joined.peers,
        vec![PeerInfo {
            peer_id: ada.peer_id().clone(),
            nickname: Nickname::new("Ada").unwrap()
        }]
    );
    assert_eq!(
        ada.recv().await,
        ServerMessage::PeerJoined(PeerInfo {
            peer_id: bob.peer_id().clone(),
            nickname: Nickname::new("Bob").unwrap()
        })
    );

    let joined = cy.join("standup", "Cy").await;
    let order: Vec<_> = joined.peers.iter().map(|p| p.peer_id.clone()).collect();
    assert_eq!(order, vec![ada.peer_id().clone(), bob.peer_id().clone()]);
    for other in [&mut ada, &mut bob] {
        assert!(
            matches!(other.recv().await, ServerMessage::PeerJoined(p) if p.nickname.as_str() == "Cy")
        );
    }
}

async fn leave_answers_left_and_tells_the_room(topology: Topology) {
    let server = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob) = server.two_in_a_room().await;

    let id = bob.send(ClientMessage::Leave(Empty {})).await;
    let envelope = bob.recv_envelope().await;
    assert_eq!(envelope.id, Some(id));
    assert_eq!(
        envelope.message,
        ServerMessage::Left(Left {
            room: RoomName::new("r").unwrap()
        })
    );
    assert_eq!(
        ada.recv().await,
        ServerMessage::PeerLeft(PeerLeft {
            peer_id: bob.peer_id().clone()
        })
    );

    // Back in the lobby, Bob may join again.
    let joined = bob.join("r", "Bob").await;
    assert_eq!(joined.peers.len(), 1);
}

async fn closing_the_socket_is_announced_as_peer_left(topology: Topology) {
    let server = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob) = server.two_in_a_room().await;
    let bob_id = bob.peer_id().clone();
    bob.socket.close(None).await.unwrap();
    drop(bob);
    assert_eq!(
        ada.recv().await,
        ServerMessage::PeerLeft(PeerLeft { peer_id: bob_id })
    );
}

/// Ada and Bob in room `r` (Ada told of Bob), Eve in another room.
async fn ada_and_bob_in_r_eve_elsewhere(
    server: &Deployment,
) -> (TestClient, TestClient, TestClient) {
    let (ada, bob) = server.two_in_a_room().await;
    let mut eve = TestClient::connect(&server.url()).await;
    eve.join("elsewhere", "Eve").await;
    (ada, bob, eve)
}

async fn signal_is_relayed_untouched_to_one_peer_of_the_same_room(topology: Topology) {
    let server = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob, mut eve) = ada_and_bob_in_r_eve_elsewhere(&server).await;

    let offer = r#"{"description":{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}"#;
    bob.send(signal(ada.peer_id(), offer)).await;
    let ServerMessage::Signal(relayed) = ada.recv().await else {
        panic!("expected signal")
    };
    assert_eq!(&relayed.from, bob.peer_id());
    assert_eq!(relayed.data.as_json(), offer);
    ada.send(signal(bob.peer_id(), r#"{"candidate":null}"#))
        .await;
    let ServerMessage::Signal(relayed) = bob.recv().await else {
        panic!("expected signal")
    };
    assert_eq!(relayed.data.as_json(), r#"{"candidate":null}"#);

    // Eve is in another room: refused, and Ada hears nothing.
    eve.send(signal(ada.peer_id(), "{}")).await;
    eve.expect_error(ErrorCode::UnknownPeer).await;
    ada.send(signal(ada.peer_id(), "{}")).await;
    ada.expect_error(ErrorCode::UnknownPeer).await;
    bob.expect_silence(Duration::from_millis(200)).await;
}

async fn chat_reaches_everyone_in_the_room_with_server_time(topology: Topology) {
    let server = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob, mut eve) = ada_and_bob_in_r_eve_elsewhere(&server).await;

    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    ada.send(chat("<script>alert(1)</script> hi")).await;
    for member in [&mut ada, &mut bob] {
        let ServerMessage::Chat(message) = member.recv().await else {
            panic!("expected chat")
        };
        assert_eq!(message.text.as_str(), "<script>alert(1)</script> hi");
        assert_eq!(message.nickname.as_str(), "Ada");
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(
            (before..=after).contains(&message.ts),
            "ts {} within [{before}, {after}]",
            message.ts
        );
    }
    eve.expect_silence(Duration::from_millis(200)).await;
}

async fn set_nickname_and_set_status_reach_the_room(topology: Topology) {
    let server = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob) = server.two_in_a_room().await;

    ada.send(ClientMessage::SetNickname(SetNickname {
        nickname: Nickname::new("Ada L.").unwrap(),
    }))
    .await;
    let expected = ServerMessage::PeerUpdated(PeerInfo {
        peer_id: ada.peer_id().clone(),
        nickname: Nickname::new("Ada L.").unwrap(),
    });
    assert_eq!(ada.recv().await, expected);
    assert_eq!(bob.recv().await, expected);

    let status = PeerStatus {
        muted: true,
        camera_off: true,
        hand_raised: false,
        presenting: false,
    };
    ada.send(ClientMessage::SetStatus(status)).await;
    let expected = ServerMessage::PeerStatus(PeerStatusUpdate {
        peer_id: ada.peer_id().clone(),
        status,
    });
    assert_eq!(bob.recv().await, expected);
    assert_eq!(ada.recv().await, expected);

    // A later joiner learns the new nickname and the status right after `joined`.
    let mut cy = TestClient::connect(&server.url()).await;
    let joined = cy.join("r", "Cy").await;
    assert_eq!(joined.peers[0].nickname.as_str(), "Ada L.");
    assert_eq!(cy.recv().await, expected);
}

async fn bad_messages_are_answered_and_the_connection_stays_usable(topology: Topology) {
    let server = Deployment::start(topology, Config::default()).await;
    let mut ada = TestClient::connect(&server.url()).await;
    ada.send_text("{this is not json").await;
    ada.expect_error(ErrorCode::BadMessage).await;
    ada.send_text(r#"{"type":"teleport","payload":{"to":"mars"},"id":77}"#)
        .await;
    let envelope = ada.recv_envelope().await;
    assert_eq!(envelope.id, Some(77));
    let ServerMessage::Error(error) = envelope.message else {
        panic!("expected error")
    };
    assert_eq!(error.code, ErrorCode::BadMessage);
    assert!(error.message.contains("teleport"), "{}", error.message);
    ada.send_text(r#"{"type":"join","payload":{"room":"r"},"id":78}"#)
        .await;
    ada.expect_error(ErrorCode::BadMessage).await;
    ada.send_frame(tokio_tungstenite::tungstenite::Message::binary(vec![
        1u8, 2, 3,
    ]))
    .await;
    ada.expect_error(ErrorCode::BadMessage).await;

    // Still a working connection.
    assert!(ada.join("r", "Ada").await.peers.is_empty());
}

async fn invalid_names_and_text_get_their_codes(topology: Topology) {
    let server = Deployment::start(topology, Config::default()).await;
    let mut ada = TestClient::connect(&server.url()).await;
    ada.send_text(r#"{"type":"join","payload":{"room":"   ","nickname":"Ada"}}"#)
        .await;
    ada.expect_error(ErrorCode::InvalidRoom).await;
    let long_room = "r".repeat(65);
    ada.send_text(&format!(
        r#"{{"type":"join","payload":{{"room":"{long_room}","nickname":"Ada"}}}}"#
    ))
    .await;
    ada.expect_error(ErrorCode::InvalidRoom).await;
    ada.send_text(r#"{"type":"join","payload":{"room":"r","nickname":"a\u0007b"}}"#)
        .await;
    ada.expect_error(ErrorCode::InvalidNickname).await;
    ada.join("r", "Ada").await;
    ada.send_text(&format!(
        r#"{{"type":"chat","payload":{{"text":"{}"}}}}"#,
        "x".repeat(2001)
    ))
    .await;
    ada.expect_error(ErrorCode::InvalidText).await;
    ada.send_text(r#"{"type":"set_nickname","payload":{"nickname":""}}"#)
        .await;
    ada.expect_error(ErrorCode::InvalidNickname).await;
}

async fn state_errors_not_in_room_already_in_room_room_full(topology: Topology) {
    let config = Config {
        max_room_size: 2,
        ..Config::default()
    };
    let server = Deployment::start(topology, config).await;
    let mut ada = TestClient::connect(&server.url()).await;
    let mut bob = TestClient::connect(&server.url()).await;
    let mut cy = TestClient::connect(&server.url()).await;

    for message in [
        ClientMessage::Leave(Empty {}),
        chat("hi"),
        signal(bob.peer_id(), "{}"),
    ] {
        ada.send(message).await;
        ada.expect_error(ErrorCode::NotInRoom).await;
    }
    ada.join("r", "Ada").await;
    ada.send(join_message("s", "Ada")).await;
    ada.expect_error(ErrorCode::AlreadyInRoom).await;
    bob.join("r", "Bob").await;
    let id = cy.send(join_message("r", "Cy")).await;
    let envelope = cy.recv_envelope().await;
    assert_eq!(envelope.id, Some(id));
    assert!(
        matches!(envelope.message, ServerMessage::Error(ref e) if e.code == ErrorCode::RoomFull)
    );

    // A place frees up: the room admits again.
    bob.send(ClientMessage::Leave(Empty {})).await;
    bob.recv().await;
    assert_eq!(cy.join("r", "Cy").await.peers.len(), 1);
}

noom_tests::on_each_topology!(
    welcome_announces_peer_id_ice_servers_and_limits,
    list_rooms_answers_with_counts_and_the_request_id,
    join_lists_peers_already_there_and_tells_them,
    leave_answers_left_and_tells_the_room,
    closing_the_socket_is_announced_as_peer_left,
    signal_is_relayed_untouched_to_one_peer_of_the_same_room,
    chat_reaches_everyone_in_the_room_with_server_time,
    set_nickname_and_set_status_reach_the_room,
    bad_messages_are_answered_and_the_connection_stays_usable,
    invalid_names_and_text_get_their_codes,
    state_errors_not_in_room_already_in_room_room_full,
);
