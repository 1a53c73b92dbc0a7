//! Abuse and failure: oversized frames, floods, stalled readers, silent peers, shutdown.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use noom_server::Config;
use noom_shared::*;
use noom_tests::{TestClient, TestServer};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

/// A `chat` frame of exactly `len` bytes.
fn chat_frame_of_len(len: usize) -> String {
    let empty = r#"{"type":"chat","payload":{"text":""}}"#;
    format!(
        r#"{{"type":"chat","payload":{{"text":"{}"}}}}"#,
        "x".repeat(len - empty.len())
    )
}

#[tokio::test]
async fn a_frame_over_64_kib_is_refused_with_close_1009() {
    let server = TestServer::start().await;
    let mut ada = TestClient::connect(&server.ws_url()).await;
    ada.join("r", "Ada").await;

    let at_limit = chat_frame_of_len(64 * 1024);
    assert_eq!(at_limit.len(), 65_536);
    ada.send_text(&at_limit).await;
    // Within the frame limit, so decoded: the text itself is too long for a chat message.
    ada.expect_error(ErrorCode::InvalidText).await;

    ada.send_text(&chat_frame_of_len(64 * 1024 + 1)).await;
    ada.expect_error(ErrorCode::TooLarge).await;
    assert_eq!(ada.close_code().await, Some(CloseCode::Size));

    // Far larger frames are refused at their header, unread, and still told why.
    let mut bob = TestClient::connect(&server.ws_url()).await;
    bob.send_text(&chat_frame_of_len(1024 * 1024)).await;
    let (told, code) = bob.messages_until_close().await;
    assert!(
        told.iter()
            .any(|m| matches!(m, ServerMessage::Error(e) if e.code == ErrorCode::TooLarge)),
        "{told:?}"
    );
    assert_eq!(code, Some(CloseCode::Size));
}

#[tokio::test]
async fn a_flood_is_rate_limited_then_closed_with_1008() {
    let config = Config {
        rate_limit: 5,
        rate_burst: 5,
        ..Config::default()
    };
    let server = TestServer::with_config(config).await;
    let mut ada = TestClient::connect(&server.ws_url()).await;
    for _ in 0..16 {
        ada.send(ClientMessage::ListRooms(Empty {})).await;
    }
    for _ in 0..5 {
        assert!(matches!(ada.recv().await, ServerMessage::Rooms(_)));
    }
    let error = ada.expect_error(ErrorCode::RateLimited).await;
    assert!(!error.message.is_empty());
    assert_eq!(ada.close_code().await, Some(CloseCode::Policy));

    // Others are unaffected.
    let mut bob = TestClient::connect(&server.ws_url()).await;
    assert!(bob.join("r", "Bob").await.peers.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_is_dropped_and_its_room_keeps_working() {
    let sent = stalled_reader_case(Config {
        send_queue: 64,
        send_queue_bytes: 1 << 30,
        ..Config::default()
    })
    .await;
    println!("dropped by its message count after {sent} signals of 32 KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_is_dropped_when_its_queue_holds_too_many_bytes() {
    // Room for 100,000 messages, but only 256 KiB.
    let sent = stalled_reader_case(Config {
        send_queue: 100_000,
        send_queue_bytes: 256 * 1024,
        ..Config::default()
    })
    .await;
    println!("dropped by its queued bytes after {sent} signals of 32 KiB");
    // Socket buffers take some megabytes first; a count-only queue would take 3 GB.
    assert!(sent < 2_000, "{sent} signals of 32 KiB queued");
}

/// Ada floods a member who never reads until the server drops it; Bob, who reads, sees it
/// leave and then still gets chat. Returns how many signals it took.
async fn stalled_reader_case(config: Config) -> usize {
    let config = Config {
        rate_limit: 100_000,
        rate_burst: 100_000,
        ..config
    };
    let server = TestServer::with_config(config).await;
    let mut ada = TestClient::connect(&server.ws_url()).await;
    let mut bob = TestClient::connect(&server.ws_url()).await;
    let mut stalled = TestClient::connect(&server.ws_url()).await;
    ada.join("r", "Ada").await;
    bob.join("r", "Bob").await;
    stalled.join("r", "Stalled").await;
    let stalled_id = stalled.peer_id().clone();

    // Bob keeps reading; he watches for the stalled peer's departure, then for a chat.
    let gone = Arc::new(AtomicBool::new(false));
    let bob_task = tokio::spawn({
        let gone = gone.clone();
        let stalled_id = stalled_id.clone();
        async move {
            loop {
                match bob.recv().await {
                    ServerMessage::PeerLeft(left) if left.peer_id == stalled_id => {
                        gone.store(true, Ordering::SeqCst)
                    }
                    ServerMessage::Chat(chat) if gone.load(Ordering::SeqCst) => return chat.text,
                    _ => {}
                }
            }
        }
    });

    // Ada floods the stalled peer with 32 KiB signals until the server gives up on it.
    let data = format!(
        r#"{{"description":{{"type":"offer","sdp":"{}"}}}}"#,
        "a".repeat(32 * 1024)
    );
    let signal = ClientMessage::Signal(SignalTo {
        to: stalled_id.clone(),
        data: SignalData::from_json(&data).unwrap(),
    });
    let started = Instant::now();
    let mut sent = 0;
    while !gone.load(Ordering::SeqCst) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "stalled peer still there after {sent} signals"
        );
        ada.send(signal.clone()).await;
        sent += 1;
        if sent % 32 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    println!("stalled reader dropped in {:?}", started.elapsed());

    ada.send(ClientMessage::Chat(ChatSend {
        text: ChatText::new("still here").unwrap(),
    }))
    .await;
    let text = tokio::time::timeout(Duration::from_secs(5), bob_task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(text.as_str(), "still here");
    // Ada hears of the departure too; signals she sent after it were refused as unknown_peer.
    loop {
        match ada.recv().await {
            ServerMessage::PeerJoined(_) => {}
            ServerMessage::PeerLeft(left) => assert_eq!(left.peer_id, stalled_id),
            ServerMessage::Error(error) => assert_eq!(error.code, ErrorCode::UnknownPeer),
            ServerMessage::Chat(chat) => {
                assert_eq!(chat.text.as_str(), "still here");
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    sent
}

#[tokio::test]
async fn a_quiet_peer_is_pinged_and_stays_while_it_answers() {
    let config = Config {
        idle_timeout: Duration::from_millis(600),
        ..Config::default()
    };
    let server = TestServer::with_config(config).await;
    let mut ada = TestClient::connect(&server.ws_url()).await;
    let mut quiet = TestClient::connect(&server.ws_url()).await;
    ada.join("r", "Ada").await;
    quiet.join("r", "Quiet").await;
    ada.recv().await; // peer_joined
    // Both send nothing for five idle timeouts, but read, so they answer the pings.
    tokio::join!(
        ada.expect_silence(Duration::from_secs(3)),
        quiet.expect_silence(Duration::from_secs(3))
    );
    ada.send(ClientMessage::Chat(ChatSend {
        text: ChatText::new("still there?").unwrap(),
    }))
    .await;
    assert!(
        matches!(quiet.recv().await, ServerMessage::Chat(chat) if chat.text.as_str() == "still there?"),
        "the quiet peer is still in the room"
    );
}

#[tokio::test]
async fn a_silent_peer_is_dropped_and_its_room_told() {
    let config = Config {
        idle_timeout: Duration::from_millis(600),
        ..Config::default()
    };
    let server = TestServer::with_config(config).await;
    let mut ada = TestClient::connect(&server.ws_url()).await;
    let mut silent = TestClient::connect(&server.ws_url()).await;
    ada.join("r", "Ada").await;
    silent.join("r", "Silent").await;
    ada.recv().await; // peer_joined
    // `silent` is never read again, so it never answers the server's pings.
    let started = Instant::now();
    assert_eq!(
        ada.recv().await,
        ServerMessage::PeerLeft(PeerLeft {
            peer_id: silent.peer_id().clone()
        })
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(3),
        "dropped after {waited:?}"
    );
    // Ada reads (and so answers pings): she stays well past the timeout.
    ada.expect_silence(Duration::from_millis(1500)).await;
    ada.send(ClientMessage::ListRooms(Empty {})).await;
    assert!(matches!(ada.recv().await, ServerMessage::Rooms(r) if r.rooms[0].participants == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_list_pushes_to_the_lobby_are_coalesced() {
    const WATCHERS: usize = 1000;
    const JOINERS: usize = 200;
    const ROOM_SIZE: usize = 4;
    let server = TestServer::start().await;
    let url = server.ws_url();

    let watchers =
        futures_util::future::join_all((0..WATCHERS).map(|_| TestClient::connect(&url))).await;
    let joiners =
        futures_util::future::join_all((0..JOINERS).map(|_| TestClient::connect(&url))).await;
    let expected = Rooms {
        rooms: {
            let mut rooms: Vec<_> = (0..JOINERS / ROOM_SIZE)
                .map(|r| RoomInfo {
                    name: RoomName::new(&format!("room-{r:03}")).unwrap(),
                    participants: ROOM_SIZE as u32,
                    locked: false,
                })
                .collect();
            rooms.sort_by(|a, b| a.name.cmp(&b.name));
            rooms
        },
    };
    let watching: Vec<_> = watchers
        .into_iter()
        .map(|mut watcher| {
            let expected = expected.clone();
            tokio::spawn(async move {
                let mut pushes = 0usize;
                loop {
                    let rooms = watcher.recv_room_push().await;
                    pushes += 1;
                    if rooms == expected {
                        return pushes;
                    }
                }
            })
        })
        .collect();

    let started = Instant::now();
    futures_util::future::join_all(joiners.into_iter().enumerate().map(
        |(i, mut joiner)| async move {
            joiner
                .join(&format!("room-{:03}", i / ROOM_SIZE), &format!("p{i}"))
                .await;
            joiner
        },
    ))
    .await;
    let joined_in = started.elapsed();

    let mut total = 0;
    for watcher in watching {
        total += watcher
            .await
            .expect("every watcher sees the final room list");
    }
    println!(
        "{JOINERS} joins in {joined_in:?}: {WATCHERS} lobby clients got {total} room-list frames"
    );
    assert!(
        total <= WATCHERS * 20,
        "{total} room-list frames is not coalesced"
    );
}

/// Nobody is told that the others leave: they all reconnect, to the server restarted.
#[tokio::test]
async fn shutdown_closes_every_socket_with_1001_within_5_s_and_no_leaves() {
    let server = TestServer::start().await;
    let mut ada = TestClient::connect(&server.ws_url()).await;
    let mut bob = TestClient::connect(&server.ws_url()).await;
    let mut lobby = TestClient::connect(&server.ws_url()).await;
    ada.join("r", "Ada").await;
    bob.join("r", "Bob").await;
    let took = server.shutdown().await;
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    for client in [&mut ada, &mut bob, &mut lobby] {
        let (messages, code) = client.messages_until_close().await;
        assert_eq!(code, Some(CloseCode::Away));
        assert!(
            !messages
                .iter()
                .any(|m| matches!(m, ServerMessage::PeerLeft(_))),
            "a leave was announced on shutdown: {messages:?}"
        );
    }
}

/// `frame` from Ada, in a room with Ben: Ada is closed with `code`, and Ben sees her leave at
/// once (a broken client's seat is not held for the resume grace).
async fn a_broken_frame_closes_and_frees_the_seat(frame: Frame, code: CloseCode) {
    let server = TestServer::start().await;
    let mut ada = TestClient::connect(&server.ws_url()).await;
    let mut ben = TestClient::connect(&server.ws_url()).await;
    ada.join("r", "Ada").await;
    ben.join("r", "Ben").await;
    ada.send_frame(Message::Frame(frame)).await;
    assert_eq!(ada.close_code().await, Some(code));
    loop {
        match ben.recv_within(Duration::from_secs(3)).await {
            ServerMessage::PeerLeft(left) if &left.peer_id == ada.peer_id() => break,
            _ => continue,
        }
    }
}

#[tokio::test]
async fn invalid_utf8_closes_with_1007_and_frees_the_seat_at_once() {
    let frame = Frame::message(vec![0xff, 0xfe, 0xfd], OpCode::Data(Data::Text), true);
    a_broken_frame_closes_and_frees_the_seat(frame, CloseCode::Invalid).await;
}

#[tokio::test]
async fn a_protocol_error_closes_with_1002_and_frees_the_seat_at_once() {
    let mut frame = Frame::message(b"{}".to_vec(), OpCode::Data(Data::Text), true);
    // Reserved bits without a negotiated extension.
    frame.header_mut().rsv1 = true;
    a_broken_frame_closes_and_frees_the_seat(frame, CloseCode::Protocol).await;
}

async fn connect_from(source: std::net::IpAddr, server: &TestServer) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::new(source, 0)).unwrap();
    socket.connect(server.addr).await.unwrap()
}

/// A TCP connection from `source` that the server either serves (`true`) or closes at once.
async fn served_from(
    source: std::net::IpAddr,
    server: &TestServer,
) -> (bool, tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = connect_from(source, server).await;
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    let _ = stream.write_all(request.as_bytes()).await;
    let mut reply = [0u8; 12];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut reply))
        .await
        .expect("an answer or a close within 5 s");
    (matches!(read, Ok(n) if n > 0), stream)
}

#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let server = TestServer::with_config(Config {
        max_connections_per_ip: 3,
        max_connections: 5,
        ..Config::default()
    })
    .await;
    let (one, two, three): (std::net::IpAddr, std::net::IpAddr, std::net::IpAddr) = (
        "127.0.0.2".parse().unwrap(),
        "127.0.0.3".parse().unwrap(),
        "127.0.0.4".parse().unwrap(),
    );
    let mut open = Vec::new();
    for _ in 0..3 {
        let (served, stream) = served_from(one, &server).await;
        assert!(served, "within the per-address cap");
        open.push(stream);
    }
    assert!(
        !served_from(one, &server).await.0,
        "a fourth from the same address"
    );
    for _ in 0..2 {
        let (served, stream) = served_from(two, &server).await;
        assert!(served, "another address still gets in");
        open.push(stream);
    }
    assert!(!served_from(three, &server).await.0, "five in all");
    open.pop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        served_from(three, &server).await.0,
        "a closed connection frees its place"
    );
}

#[tokio::test]
async fn an_open_websocket_keeps_its_place() {
    let server = TestServer::with_config(Config {
        max_connections_per_ip: 1,
        ..Config::default()
    })
    .await;
    let client: std::net::IpAddr = "127.0.0.5".parse().unwrap();
    let stream = connect_from(client, &server).await;
    let url = format!("ws://{}/ws", server.addr);
    let (socket, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    assert!(
        !served_from(client, &server).await.0,
        "the WebSocket holds the place"
    );
    drop(socket);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        served_from(client, &server).await.0,
        "and frees it when it ends"
    );
}

#[tokio::test]
async fn a_ping_flood_is_rate_limited_like_messages() {
    let server = TestServer::with_config(Config {
        rate_limit: 5,
        rate_burst: 5,
        ..Config::default()
    })
    .await;
    let mut ada = TestClient::connect(&server.ws_url()).await;
    for _ in 0..50 {
        if !ada.try_send_frame(Message::Ping(Default::default())).await {
            break;
        }
    }
    assert_eq!(ada.close_code().await, Some(CloseCode::Policy));
}

#[tokio::test]
async fn reconnecting_does_not_refill_an_address_s_rate_limit() {
    let server = TestServer::with_config(Config {
        rate_limit: 1000,
        rate_burst: 1000,
        rate_limit_per_ip: 1,
        rate_burst_per_ip: 10,
        ..Config::default()
    })
    .await;
    let (flooder, other): (std::net::IpAddr, std::net::IpAddr) =
        ("127.0.0.8".parse().unwrap(), "127.0.0.9".parse().unwrap());
    let mut first = TestClient::connect_from(server.addr, flooder).await;
    first.join("r", "Flo").await;
    for n in 0..12 {
        let text = ChatText::new(&format!("{n}")).unwrap();
        first.send(ClientMessage::Chat(ChatSend { text })).await;
    }
    first.until_error(ErrorCode::RateLimited).await;
    drop(first);

    // A fresh connection from the same address finds the bucket as it was left.
    let mut again = TestClient::connect_from(server.addr, flooder).await;
    again
        .send(noom_tests::client::join_message("r", "Flo2"))
        .await;
    again.until_error(ErrorCode::RateLimited).await;
    // Another address is not affected.
    let mut bystander = TestClient::connect_from(server.addr, other).await;
    bystander.join("r", "Bea").await;
}
