//! `noom-load` itself, briefly, so the tool cannot rot: a one-second relay at a low rate
//! against an in-process server must deliver every signal. (The real runs are in
//! docs/benchmarks.md; they are too heavy for the test suite.)

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::net::SocketAddr;
use std::process::Command;

use noom_server::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_relay_run_delivers_every_signal() {
    let listener = noom_server::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(noom_server::run(listener, Config::default(), async {
        let _ = stopped.await;
    }));

    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_noom-load"))
            .args(["--url", &url, "--json", "--timeout", "20", "relay"])
            .args(["--pairs", "4", "--rate", "200", "--duration", "1"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["scenario"], "relay");
    assert!(report["sent"].as_u64().unwrap() >= 150, "{report}");
    assert_eq!(report["delivered"], report["sent"], "{report}");
    assert_eq!(report["lost"], 0);
    assert_eq!(report["misrouted"], 0);

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_sfu_run_forwards_every_publisher_to_everyone_else() {
    let listener = noom_server::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let config = Config {
        sfu_udp: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        mesh_max: 1,
        ..Config::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(noom_server::run(listener, config, async {
        let _ = stopped.await;
    }));

    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_noom-load"))
            .args(["--url", &url, "--json", "--timeout", "60", "sfu"])
            .args(["--room-size", "3", "--publishers", "2", "--duration", "2"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    println!("{report}");
    assert_eq!(report["scenario"], "sfu");
    assert_eq!(
        report["forwarded_video_streams"], 4,
        "2 publishers, 2 viewers each"
    );
    // 2 s at 15 fps: about 30 frames a publisher, each to two others.
    let received = report["video_frames_received"].as_u64().unwrap();
    assert!(received >= 80, "{report}");
    assert!(
        report["video_loss_percent"].as_f64().unwrap() < 5.0,
        "{report}"
    );

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
