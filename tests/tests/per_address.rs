//! What one address may make the server keep beyond its connections: the rooms it opened and
//! the seats held for its lost connections. Distinct 127.0.0.x sources stand in for distinct
//! clients (127.0.0.1, a local proxy's address, is not counted).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::net::IpAddr;
use std::time::{Duration, Instant};

use noom_server::Config;
use noom_shared::*;
use noom_tests::client::join_message;
use noom_tests::{TestClient, TestServer};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[tokio::test]
async fn one_address_opens_at_most_its_share_of_rooms() {
    let server = TestServer::with_config(Config {
        max_rooms_per_ip: 2,
        ..Config::default()
    })
    .await;
    let (office, elsewhere) = (ip("127.0.0.2"), ip("127.0.0.3"));
    let mut ann = TestClient::connect_from(server.addr, office).await;
    ann.join("alpha", "Ann").await;
    let mut bo = TestClient::connect_from(server.addr, office).await;
    bo.join("beta", "Bo").await;

    let mut cy = TestClient::connect_from(server.addr, office).await;
    cy.send(join_message("gamma", "Cy")).await;
    let refused = cy.expect_error(ErrorCode::TooManyRooms).await;
    assert!(
        refused.message.contains("opened as many rooms"),
        "{refused:?}"
    );
    cy.join("alpha", "Cy").await; // an open room is always fine

    let mut di = TestClient::connect_from(server.addr, elsewhere).await;
    di.join("gamma", "Di").await; // another address has its own share

    bo.send(ClientMessage::Leave(Empty {})).await; // beta closes
    let mut ed = TestClient::connect_from(server.addr, office).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        ed.send(join_message("delta", "Ed")).await;
        match ed.recv().await {
            ServerMessage::Joined(_) => break,
            ServerMessage::Error(e) if e.code == ErrorCode::TooManyRooms => {
                assert!(Instant::now() < deadline, "beta's place never came back");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("expected joined, got {other:?}"),
        }
    }
}

/// Waits for a `peer_left` for `who`, skipping other room news, up to `wait`.
async fn sees_leave(watcher: &mut TestClient, who: &PeerId, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match tokio::time::timeout(left, watcher.recv()).await {
            Ok(ServerMessage::PeerLeft(gone)) if gone.peer_id == *who => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

#[tokio::test]
async fn one_address_has_at_most_its_share_of_held_seats() {
    let server = TestServer::with_config(Config {
        max_connections_per_ip: 2,
        ..Config::default()
    })
    .await;
    let mut host = TestClient::connect(&server.ws_url()).await;
    host.join("standup", "Host").await;
    let flaky = ip("127.0.0.4");
    for n in 0..2 {
        let mut lost = TestClient::connect_from(server.addr, flaky).await;
        lost.join("standup", &format!("Lost {n}")).await;
        let id = lost.peer_id().clone();
        drop(lost); // no close frame: the seat is held for a resume
        assert!(
            !sees_leave(&mut host, &id, Duration::from_millis(700)).await,
            "seat {n} is held"
        );
    }
    let mut third = TestClient::connect_from(server.addr, flaky).await;
    third.join("standup", "Lost 2").await;
    let id = third.peer_id().clone();
    let started = Instant::now();
    drop(third);
    assert!(
        sees_leave(&mut host, &id, Duration::from_secs(10)).await,
        "a third held seat for the address is given up at once"
    );
    println!("the third lost seat left after {:?}", started.elapsed());
}
