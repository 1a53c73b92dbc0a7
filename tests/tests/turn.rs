//! TURN credentials minted per connection: the ones in a real `welcome` get a relay from a
//! real coturn sharing the secret; expired ones and ones made with another secret do not; and
//! no secret is ever printed by `--help`.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::process::Command;
use std::time::{Duration, Instant};

use noom_server::{Config, Secret};
use noom_shared::IceServer;
use noom_tests::binary::server_executable;
use noom_tests::coturn::TestTurn;
use noom_tests::{TestClient, TestServer};

const SECRET: &str = "shared-with-coturn";

async fn minted(secret: &str, turn: &TestTurn, ttl: Duration) -> IceServer {
    let server = TestServer::with_config(Config {
        turn_secret: Some(Secret::new(secret.into())),
        turn_urls: vec![turn.url()],
        turn_ttl: ttl,
        ..Config::default()
    })
    .await;
    let client = TestClient::connect(&server.ws_url()).await;
    let ice = client
        .welcome
        .ice_servers
        .last()
        .cloned()
        .expect("TURN in welcome");
    assert_eq!(ice.urls, vec![turn.url()]);
    let username = ice.username.clone().unwrap();
    let (expiry, peer) = username.split_once(':').unwrap();
    assert_eq!(
        peer,
        client.welcome.peer_id.to_string(),
        "named for the connection"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expiry: u64 = expiry.parse().unwrap();
    assert!(
        expiry.abs_diff(now + ttl.as_secs()) <= 2,
        "expires after the TTL"
    );
    ice
}

fn relays(turn: &TestTurn, ice: &IceServer) -> bool {
    turn.relays_for(
        ice.username.as_deref().unwrap(),
        ice.credential.as_deref().unwrap(),
    )
}

#[tokio::test]
async fn minted_credentials_get_a_relay_and_bad_ones_do_not() {
    let turn = TestTurn::start(SECRET);
    let started = Instant::now();

    let good = minted(SECRET, &turn, Duration::from_secs(3600)).await;
    assert!(relays(&turn, &good), "coturn refused fresh credentials");
    println!(
        "allocation with fresh credentials in {:?}",
        started.elapsed()
    );

    let other_secret = minted("not-the-shared-secret", &turn, Duration::from_secs(3600)).await;
    assert!(
        !relays(&turn, &other_secret),
        "coturn took another secret's credentials"
    );

    let short = minted(SECRET, &turn, Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!relays(&turn, &short), "coturn took expired credentials");

    // A fresh connection gets fresh credentials.
    let again = minted(SECRET, &turn, Duration::from_secs(3600)).await;
    assert_ne!(again.username, good.username);
}

#[test]
fn help_never_prints_secrets_from_the_environment() {
    let output = Command::new(server_executable())
        .arg("--help")
        .env("NOOM_TURN_SECRET", "hunter2-turn")
        .env(
            "NOOM_REDIS_URL",
            "redis://:hunter2-redis@redis.internal:6379/",
        )
        .env(
            "NOOM_ICE_SERVERS",
            r#"[{"urls":["turn:t.example"],"username":"u","credential":"hunter2-ice"}]"#,
        )
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--turn-secret"), "{help}");
    assert!(!help.contains("hunter2"), "a secret in --help:\n{help}");
}
