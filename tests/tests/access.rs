//! Who gets into a meeting, over real WebSockets, on one node and on a two-node cluster: a
//! room's password (and guessing it), its lobby (knock, admit, deny, withdraw), how locked
//! rooms are listed, and `--room-list off`.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::net::IpAddr;
use std::time::{Duration, Instant};

use noom_server::{Config, RoomList};
use noom_shared::*;
use noom_tests::server::wait_until_healthy;
use noom_tests::{Deployment, TestClient, TestServer, Topology};

fn password(text: &str) -> RoomPassword {
    RoomPassword::new(text).unwrap()
}

fn join_with(room: &str, nickname: &str, typed: Option<&str>) -> ClientMessage {
    ClientMessage::Join(Join {
        room: RoomName::new(room).unwrap(),
        nickname: Nickname::new(nickname).unwrap(),
        password: typed.map(password),
    })
}

fn set_access(typed: Option<&str>, lobby: bool) -> ClientMessage {
    ClientMessage::SetRoomAccess(SetRoomAccess {
        password: typed.map(password),
        lobby,
    })
}

fn target(client: &TestClient) -> PeerTarget {
    PeerTarget {
        peer_id: client.peer_id().clone(),
    }
}

/// Reads until `joined`, which must answer request `id`.
async fn expect_joined(client: &mut TestClient, id: u32) -> Joined {
    let envelope = client.recv_envelope().await;
    assert_eq!(envelope.id, Some(id));
    match envelope.message {
        ServerMessage::Joined(joined) => joined,
        other => panic!("expected joined, got {other:?}"),
    }
}

async fn a_password_keeps_out_those_without_it(topology: Topology) {
    let deployment = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob) = deployment.two_in_a_room().await;
    bob.send(set_access(Some("sesame"), false)).await;
    bob.expect_error(ErrorCode::NotHost).await;
    let started = Instant::now();
    ada.send(set_access(Some("sesame"), false)).await;
    let shut = ServerMessage::RoomAccess(RoomAccess {
        has_password: true,
        lobby: false,
    });
    assert_eq!(ada.recv().await, shut);
    assert_eq!(bob.recv().await, shut);
    println!("password set (hashed) in {:?}", started.elapsed());

    let mut cy = TestClient::connect(&deployment.url()).await;
    cy.send(join_with("r", "Cy", None)).await;
    let asked = cy.expect_error(ErrorCode::WrongPassword).await;
    assert!(asked.message.contains("password"), "{asked:?}");
    cy.send(join_with("r", "Cy", Some("Sesame"))).await;
    cy.expect_error(ErrorCode::WrongPassword).await;
    let id = cy.send(join_with("r", "Cy", Some("sesame"))).await;
    let joined = expect_joined(&mut cy, id).await;
    assert_eq!(joined.peers.len(), 2);
    assert_eq!(cy.recv().await, shut, "a joiner learns the room is shut");
    assert!(matches!(ada.recv().await, ServerMessage::PeerJoined(_)));

    // Listed as locked, with its count.
    let mut lobby = TestClient::connect(&deployment.url()).await;
    lobby.send(ClientMessage::ListRooms(Empty {})).await;
    let ServerMessage::Rooms(rooms) = lobby.recv().await else {
        panic!("expected rooms")
    };
    let listed = &rooms.rooms[0];
    assert!(listed.locked && listed.participants == 3, "{listed:?}");

    // Cleared: anyone may come in again.
    ada.send(set_access(None, false)).await;
    let open = ServerMessage::RoomAccess(RoomAccess::default());
    assert_eq!(ada.recv().await, open);
    let mut dee = TestClient::connect(&deployment.url()).await;
    dee.join("r", "Dee").await;
}

async fn wrong_passwords_in_a_row_are_rate_limited_for_that_address(topology: Topology) {
    let deployment = Deployment::start(topology, Config::default()).await;
    let (mut ada, _bob) = deployment.two_in_a_room().await;
    ada.send(set_access(Some("sesame"), false)).await;
    ada.recv().await; // room_access
    let node = deployment.nodes[deployment.nodes.len() - 1].addr;
    let guesser_ip: IpAddr = [127, 0, 0, 2].into();
    let mut guesser = TestClient::connect_from(node, guesser_ip).await;
    let mut answers = Vec::new();
    let started = Instant::now();
    for n in 0..20 {
        guesser
            .send(join_with("r", "Guesser", Some(&format!("guess{n}"))))
            .await;
        let ServerMessage::Error(error) = guesser.recv().await else {
            panic!("a guess got in")
        };
        answers.push(error.code);
    }
    println!("20 guesses answered in {:?}", started.elapsed());
    let wrong = answers
        .iter()
        .filter(|c| **c == ErrorCode::WrongPassword)
        .count();
    assert_eq!(wrong, 5, "five guesses are checked: {answers:?}");
    assert!(
        answers[5..].iter().all(|c| *c == ErrorCode::RateLimited),
        "then every guess is refused unchecked: {answers:?}"
    );
    // Even the right password is refused while the address is held back...
    guesser
        .send(join_with("r", "Guesser", Some("sesame")))
        .await;
    let held = guesser.expect_error(ErrorCode::RateLimited).await;
    assert!(held.message.contains("wait"), "{held:?}");
    // ...but another address is not.
    let mut honest = TestClient::connect_from(node, [127, 0, 0, 3].into()).await;
    let id = honest.send(join_with("r", "Honest", Some("sesame"))).await;
    expect_joined(&mut honest, id).await;
}

async fn the_lobby_admits_denies_and_withdraws(topology: Topology) {
    let deployment = Deployment::start(topology, Config::default()).await;
    let (mut ada, mut bob) = deployment.two_in_a_room().await;
    ada.send(set_access(None, true)).await;
    let lobby_on = ServerMessage::RoomAccess(RoomAccess {
        has_password: false,
        lobby: true,
    });
    assert_eq!(ada.recv().await, lobby_on);
    assert_eq!(bob.recv().await, lobby_on);

    // Admitted: the joiner is told to wait, the host is asked, and then it is in.
    let mut cy = TestClient::connect(&deployment.url()).await;
    let id = cy.send(join_with("r", "Cy", None)).await;
    let waiting = cy.recv_envelope().await;
    assert_eq!(waiting.id, Some(id));
    assert!(matches!(waiting.message, ServerMessage::Waiting(_)));
    let knock = ServerMessage::Knock(PeerInfo {
        peer_id: cy.peer_id().clone(),
        nickname: Nickname::new("Cy").unwrap(),
    });
    assert_eq!(ada.recv().await, knock);
    bob.expect_silence(Duration::from_millis(300)).await; // only the host is asked
    bob.send(ClientMessage::Admit(target(&cy))).await;
    bob.expect_error(ErrorCode::NotHost).await;
    ada.send(ClientMessage::Admit(target(&cy))).await;
    let ServerMessage::Joined(joined) = cy.recv().await else {
        panic!("expected joined")
    };
    assert_eq!(joined.peers.len(), 2);
    assert_eq!(cy.recv().await, lobby_on);
    assert!(matches!(ada.recv().await, ServerMessage::PeerJoined(_)));

    // Denied: told so, in words, and back in the lobby.
    let mut dee = TestClient::connect(&deployment.url()).await;
    dee.send(join_with("r", "Dee", None)).await;
    assert!(matches!(dee.recv().await, ServerMessage::Waiting(_)));
    assert!(matches!(ada.recv().await, ServerMessage::Knock(_)));
    ada.send(ClientMessage::Deny(target(&dee))).await;
    let denied = dee.expect_error(ErrorCode::Denied).await;
    assert!(denied.message.contains("host"), "{denied:?}");
    ada.send(ClientMessage::Admit(target(&dee))).await;
    ada.expect_error(ErrorCode::UnknownPeer).await; // no longer waiting

    // Withdrawn: a waiter whose connection ends.
    let mut eve = TestClient::connect(&deployment.url()).await;
    eve.send(join_with("r", "Eve", None)).await;
    assert!(matches!(eve.recv().await, ServerMessage::Waiting(_)));
    assert!(matches!(ada.recv().await, ServerMessage::Knock(_)));
    let eve_id = eve.peer_id().clone();
    drop(eve);
    assert_eq!(
        ada.recv().await,
        ServerMessage::KnockWithdrawn(PeerTarget { peer_id: eve_id })
    );

    // A removed member must knock again.
    ada.send(ClientMessage::RemovePeer(target(&cy))).await;
    assert_eq!(cy.recv().await, ServerMessage::Removed(Empty {}));
    cy.send(join_with("r", "Cy", None)).await;
    assert!(matches!(cy.recv().await, ServerMessage::Waiting(_)));
}

async fn with_the_room_list_off_the_lobby_sees_no_rooms(topology: Topology) {
    let config = Config {
        room_list: RoomList::Off,
        ..Config::default()
    };
    let deployment = Deployment::start(topology, config).await;
    let mut watcher = TestClient::connect(&deployment.url()).await;
    let (_ada, _bob) = deployment.two_in_a_room().await;
    watcher.send(ClientMessage::ListRooms(Empty {})).await;
    assert_eq!(watcher.recv().await, ServerMessage::Rooms(Rooms::default()));
    // Pushes would come within a chores tick; none does.
    watcher.expect_silence(Duration::from_millis(1500)).await;
    assert!(watcher.rooms.rooms.is_empty(), "{:?}", watcher.rooms);
}

/// The room's access lives with the room in Redis: a node that joins the cluster later
/// holds the room shut too.
#[tokio::test]
async fn a_node_that_joins_later_knows_the_rooms_password() {
    let deployment = Deployment::start(Topology::TwoNodes, Config::default()).await;
    let (mut ada, _bob) = deployment.two_in_a_room().await;
    ada.send(set_access(Some("sesame"), true)).await;
    ada.recv().await; // room_access
    let redis = deployment.redis.as_ref().unwrap();
    let late = TestServer::with_config(Config {
        redis_url: Some(redis.url()),
        ..Config::default()
    })
    .await;
    wait_until_healthy(late.addr).await;
    let mut cy = TestClient::connect(&late.ws_url()).await;
    cy.send(join_with("r", "Cy", None)).await;
    cy.expect_error(ErrorCode::WrongPassword).await;
    cy.send(join_with("r", "Cy", Some("sesame"))).await;
    assert!(
        matches!(cy.recv().await, ServerMessage::Waiting(_)),
        "the lobby too"
    );
    assert!(matches!(ada.recv().await, ServerMessage::Knock(_)));
    ada.send(ClientMessage::Admit(target(&cy))).await;
    assert!(matches!(cy.recv().await, ServerMessage::Joined(_)));
}

noom_tests::on_each_topology!(
    a_password_keeps_out_those_without_it,
    wrong_passwords_in_a_row_are_rate_limited_for_that_address,
    the_lobby_admits_denies_and_withdraws,
    with_the_room_list_off_the_lobby_sees_no_rooms,
);
