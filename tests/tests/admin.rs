//! The admin view's API: off without a token, 401 with a wrong one and 429 after too many, the
//! state of real clients, their events as they happen, and the actions seen by the clients.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Duration;

use noom_server::{Config, Secret};
use noom_tests::http::{get, post, request_head};
use noom_tests::{Deployment, TestClient, TestServer, Topology};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const TOKEN: &str = "admin-token-for-tests";
const AUTH: &str = "Authorization: Bearer admin-token-for-tests";

async fn admin_server(readonly: bool) -> TestServer {
    TestServer::with_config(Config {
        admin_token: Some(Secret::new(TOKEN.into())),
        admin_readonly: readonly,
        ..Config::default()
    })
    .await
}

async fn state(server: &TestServer) -> Value {
    let response = get(server.addr, "/admin/api/state", &[AUTH]).await;
    assert_eq!(response.status, 200);
    serde_json::from_slice(&response.body).unwrap()
}

async fn close_ops(server: &TestServer) -> noom_tests::http::HttpResponse {
    post(
        server.addr,
        "/admin/api/close_room",
        &[AUTH],
        r#"{"room":"ops"}"#,
    )
    .await
}

#[tokio::test]
async fn without_a_token_there_is_no_admin_view() {
    let server = TestServer::start().await;
    for path in ["/admin", "/admin/api/state", "/admin/api/events"] {
        assert_eq!(get(server.addr, path, &[AUTH]).await.status, 404, "{path}");
    }
}

#[tokio::test]
async fn tokens_are_checked_and_guessing_is_limited() {
    let server = admin_server(false).await;
    let page = get(server.addr, "/admin", &[]).await;
    assert_eq!(page.status, 200, "the page asks for the token itself");
    assert!(String::from_utf8_lossy(&page.body).contains("Admin token"));
    assert_eq!(get(server.addr, "/admin/api/state", &[]).await.status, 401);
    assert_eq!(state(&server).await["nodes"][0]["connections"], 0);
    for _ in 0..5 {
        let wrong = get(
            server.addr,
            "/admin/api/state",
            &["Authorization: Bearer guess"],
        )
        .await;
        assert_eq!(wrong.status, 401);
    }
    let locked = get(server.addr, "/admin/api/state", &[AUTH]).await;
    assert_eq!(locked.status, 429, "this address guessed too often");
}

#[tokio::test]
async fn the_state_and_events_follow_clients_and_actions_reach_them() {
    let server = admin_server(false).await;
    let mut events = EventStream::open(&server).await;
    let mut ana = TestClient::connect(&server.ws_url()).await;
    let mut ben = TestClient::connect(&server.ws_url()).await;
    ana.join("ops", "Ana").await;
    ben.join("ops", "Ben").await;
    let joined = events
        .until(|e| e["kind"] == "join" && e["peer"] == ben.peer_id().as_str())
        .await;
    assert_eq!(joined["room"], "ops");

    let now = state(&server).await;
    assert_eq!(now["nodes"][0]["connections"], 2);
    assert_eq!(now["rooms"][0]["name"], "ops");
    assert_eq!(now["rooms"][0]["participants"], 2);
    // Ages are taken on the 100 ms chores tick.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        state(&server).await["rooms"][0]["age_s"].is_u64(),
        "the room's age"
    );
    let names: Vec<&str> = now["nodes"][0]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["nickname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ana", "Ben"]);
    let ana_row = &now["nodes"][0]["participants"][0];
    assert_eq!(ana_row["messages_in"], 1, "Ana sent her join");
    assert!(
        ana_row["messages_out"].as_u64().unwrap() >= 3,
        "welcome, joined, session, ..."
    );
    assert!(
        now["nodes"][0]["participants"][0].get("ip").is_none(),
        "no addresses unless asked"
    );

    let body = format!(r#"{{"peer_id":"{}"}}"#, ana.peer_id());
    let removed = post(server.addr, "/admin/api/disconnect", &[AUTH], &body).await;
    assert_eq!(removed.status, 200);
    assert_eq!(ana.close_code().await, Some(CloseCode::Policy));
    events
        .until(|e| e["kind"] == "disconnect" && e["peer"] == ana.peer_id().as_str())
        .await;
    let after = state(&server).await;
    assert_eq!(
        after["rooms"][0]["participants"], 1,
        "removed at once, no held seat"
    );

    let closed = close_ops(&server).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&closed.body).unwrap()["disconnected"],
        1
    );
    assert_eq!(ben.close_code().await, Some(CloseCode::Policy));
    let empty = post(server.addr, "/admin/api/disconnect", &[AUTH], &body).await;
    assert_eq!(empty.status, 404, "no such connection any more");
    let bad = post(server.addr, "/admin/api/close_room", &[AUTH], "{}").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn a_readonly_view_watches_but_cannot_act() {
    let server = admin_server(true).await;
    let mut ana = TestClient::connect(&server.ws_url()).await;
    ana.join("ops", "Ana").await;
    assert_eq!(state(&server).await["readonly"], true);
    let refused = close_ops(&server).await;
    assert_eq!(refused.status, 403);
    assert_eq!(state(&server).await["rooms"][0]["participants"], 1);
}

/// `/admin/api/events` read as it streams.
struct EventStream {
    stream: TcpStream,
    buffer: String,
}

impl EventStream {
    async fn open(server: &TestServer) -> Self {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let request = request_head(
            "GET",
            &server.addr.to_string(),
            "/admin/api/events",
            &[AUTH],
            None,
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut events = Self {
            stream,
            buffer: String::new(),
        };
        events
            .read_until(|buffer| buffer.contains("\r\n\r\n"))
            .await;
        assert!(
            events.buffer.starts_with("HTTP/1.1 200"),
            "{}",
            events.buffer
        );
        assert!(events.buffer.contains("text/event-stream"));
        events
    }

    /// The first event from now on that `wanted` accepts.
    async fn until(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let found = self.buffer.lines().find_map(|line| {
                let event: Value = serde_json::from_str(line.strip_prefix("data: ")?).ok()?;
                wanted(&event).then_some(event)
            });
            if let Some(event) = found {
                return event;
            }
            let before = self.buffer.len();
            self.read_until(|buffer| buffer.len() > before).await;
        }
    }

    async fn read_until(&mut self, done: impl Fn(&str) -> bool) {
        let mut chunk = [0u8; 4096];
        while !done(&self.buffer) {
            let read = tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut chunk))
                .await
                .expect("an event within 10 s")
                .unwrap();
            assert!(read > 0, "the event stream ended");
            self.buffer
                .push_str(&String::from_utf8_lossy(&chunk[..read]));
        }
    }
}

#[tokio::test]
async fn a_cluster_admin_view_shows_every_node_and_acts_on_any() {
    let cluster = Deployment::start(
        Topology::TwoNodes,
        Config {
            admin_token: Some(Secret::new(TOKEN.into())),
            ..Config::default()
        },
    )
    .await;
    let (first, second) = (&cluster.nodes[0], &cluster.nodes[1]);
    let mut ana = TestClient::connect(&first.ws_url()).await;
    let mut ben = TestClient::connect(&second.ws_url()).await;
    ana.join("ops", "Ana").await;
    ben.join("ops", "Ben").await;

    // Each node publishes its view every second: wait for both on the first node.
    let started = std::time::Instant::now();
    let seen = loop {
        let now = state(first).await;
        let people: Vec<String> = now["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|node| node["participants"].as_array().unwrap().clone())
            .map(|p| p["nickname"].as_str().unwrap_or_default().to_owned())
            .collect();
        if people.len() == 2 {
            break now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "only {people:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(seen["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(seen["rooms"][0]["participants"], 2);

    // Ben is on the second node; the first node's admin view disconnects him.
    let body = format!(r#"{{"peer_id":"{}"}}"#, ben.peer_id());
    let removed = post(first.addr, "/admin/api/disconnect", &[AUTH], &body).await;
    assert_eq!(removed.status, 200);
    assert_eq!(ben.close_code().await, Some(CloseCode::Policy));
}
