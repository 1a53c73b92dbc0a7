//! The real binary: SIGTERM closes every socket with 1001 and exits 0 within 5 s.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn sigterm_closes_sockets_with_1001_and_exits_0() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_noom-server"))
        .args(["--listen", "127.0.0.1:0", "--static-dir", "/nonexistent"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start noom-server");
    let stdout = server.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let rest = line.split_once("addr=")?.1;
            Some(rest.split_whitespace().next()?.to_owned())
        })
        .expect("the server logs its address");
    std::thread::spawn(move || lines.for_each(drop));

    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    let welcome = socket.next().await.expect("a frame").expect("readable");
    assert!(matches!(welcome, Message::Text(ref t) if t.contains("\"welcome\"")));

    let started = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await
    .expect("close frame within 5 s");
    assert_eq!(close, Some(CloseCode::Away));
    loop {
        if let Some(status) = server.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still running after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
