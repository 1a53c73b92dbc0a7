//! `/metrics` on its own listener moves as connections, joins, errors, rate limits and SFU
//! media happen, and Prometheus's own `promtool` accepts what it serves.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use noom_shared::{ChatSend, ChatText, ClientMessage, ErrorCode};
use noom_tests::TestClient;
use noom_tests::binary::{ServerProcess, empty_dir, field, server_executable};
use noom_tests::http::get;
use noom_tests::media_peer::MediaPeer;

/// The real binary with `args`, in a fresh directory named `name`, and its metrics address.
fn start_with_metrics(name: &str, args: &[&str]) -> (ServerProcess, SocketAddr) {
    let listen = ["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"];
    let args: Vec<&str> = listen.iter().chain(args).copied().collect();
    let mut server = ServerProcess::start(&server_executable(), &empty_dir(name), &args);
    let metrics = field(&server.wait_for_log("metrics at /metrics"), "addr")
        .unwrap()
        .parse()
        .unwrap();
    (server, metrics)
}

/// Each `name{labels}` with its value.
async fn scrape(addr: SocketAddr) -> (String, HashMap<String, f64>) {
    let response = get(addr, "/metrics", &[]).await;
    assert_eq!(response.status, 200);
    assert!(
        response
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(response.body).unwrap();
    let values = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect();
    (text, values)
}

/// Scrapes until `series` has `value` (gauges follow connections a moment later).
async fn until(addr: SocketAddr, series: &str, value: f64) -> HashMap<String, f64> {
    let started = Instant::now();
    loop {
        let (_, values) = scrape(addr).await;
        if values.get(series) == Some(&value) {
            return values;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{series} is {:?}, not {value}",
            values.get(series)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn chat(text: &str) -> ClientMessage {
    ClientMessage::Chat(ChatSend {
        text: ChatText::new(text).unwrap(),
    })
}

#[tokio::test]
async fn metrics_follow_what_happens_and_pass_promtool() {
    let (server, metrics) = start_with_metrics(
        "metrics",
        &[
            "--max-room-size",
            "2",
            "--rate-limit",
            "1",
            "--rate-burst",
            "10",
        ],
    );
    let before = until(metrics, "noom_connections", 0.0).await;
    assert_eq!(before["noom_rooms"], 0.0);
    assert_eq!(before["noom_build_info{version=\"0.1.0\"}"], 1.0);

    let url = format!("ws://{}/ws", server.addr);
    let (mut ana, mut ben, mut cyd) = (
        TestClient::connect(&url).await,
        TestClient::connect(&url).await,
        TestClient::connect(&url).await,
    );
    ana.join("metrics", "Ana").await;
    ben.join("metrics", "Ben").await;
    cyd.send(noom_tests::client::join_message("metrics", "Cyd"))
        .await;
    cyd.expect_error(ErrorCode::RoomFull).await;
    cyd.send_text("not json").await;
    cyd.expect_error(ErrorCode::BadMessage).await;
    // Past the burst of 10, not so far that the connection is dropped as abusive.
    for n in 0..16 {
        ana.send(chat(&format!("hello {n}"))).await;
    }
    ana.until_error(ErrorCode::RateLimited).await;

    let during = until(metrics, "noom_connections", 3.0).await;
    for (series, value) in [
        ("noom_rooms", 1.0),
        ("noom_participants", 2.0),
        ("noom_room_size_bucket{le=\"2\"}", 1.0),
        ("noom_messages_received_total{type=\"join\"}", 3.0),
        ("noom_messages_received_total{type=\"invalid\"}", 1.0),
        ("noom_messages_sent_total{type=\"welcome\"}", 3.0),
        ("noom_errors_total{code=\"room_full\"}", 1.0),
        ("noom_errors_total{code=\"bad_message\"}", 1.0),
        ("noom_errors_total{code=\"rate_limited\"}", 1.0),
    ] {
        assert_eq!(during.get(series), Some(&value), "{series}");
    }
    let limited = during["noom_rate_limited_total"];
    // The join took one of the 10 tokens, so at least 7 of the 16 are refused unless tokens
    // refill (1 a second) while sending: a loaded machine may take seconds for it, so only
    // the upper bound is exact.
    assert!(
        (1.0..=7.0).contains(&limited),
        "rate limited {limited} of 16"
    );

    // Sockets gone without a close frame: the two seats are held for them to resume.
    drop((ana, ben, cyd));
    let after = until(metrics, "noom_connections", 0.0).await;
    assert_eq!(after["noom_seats_held"], 2.0);
    assert_eq!(after["noom_participants"], 2.0);

    let (text, _) = scrape(metrics).await;
    assert_promtool_accepts(&text);
}

/// Prometheus's `promtool check metrics` takes `text` without a complaint.
fn assert_promtool_accepts(text: &str) {
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (scripts/setup.sh --test installs prometheus)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}{}\n{text}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[tokio::test]
async fn sfu_counts_show_forwarded_frames_and_stray_datagrams() {
    let (mut server, metrics) = start_with_metrics(
        "metrics-sfu",
        &["--sfu-udp", "127.0.0.1:0", "--mesh-max", "1"],
    );
    let media_port: SocketAddr = field(&server.wait_for_log("SFU media port"), "bound")
        .unwrap()
        .parse()
        .unwrap();
    let url = format!("ws://{}/ws", server.addr);
    let ana = MediaPeer::join(&url, "standup", "Ana").await;
    let ben = MediaPeer::join(&url, "standup", "Ben").await;
    ben.until("Ben to hear Ana through the SFU", |s| {
        s.heard.get(&ana.id).is_some_and(|n| *n > 20)
    })
    .await;
    let stray = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..3 {
        stray.send_to(b"not WebRTC", media_port).unwrap();
    }
    // At least these three: a peer's packet that came after its connection went is one too.
    let started = Instant::now();
    let counted = loop {
        let (_, values) = scrape(metrics).await;
        if values["noom_sfu_datagrams_unclaimed_total"] >= 3.0 {
            break values;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{values:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        counted["noom_sfu_frames_forwarded_total"] > 40.0,
        "{:?}",
        counted.get("noom_sfu_frames_forwarded_total")
    );
    assert_eq!(counted["noom_sfu_frames_over_budget_total"], 0.0);
    assert_eq!(counted["noom_sfu_downlink_cuts_total"], 0.0);
    let (text, _) = scrape(metrics).await;
    assert_promtool_accepts(&text);
}
