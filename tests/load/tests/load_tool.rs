//! `noom-load` itself, briefly, so the tool cannot rot: a one-second relay at a low rate
//! against an in-process server must deliver every signal, and two-second SFU runs must
//! forward every publisher to everyone else, in the simulcast layer the viewers' tiles ask for. (The real runs are in docs/benchmarks.md; they
//! are too heavy for the test suite.)

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::net::SocketAddr;
use std::process::Command;

use noom_server::Config;
use serde_json::Value;

/// Runs `noom-load --json <args>` against an in-process server with `config`; its report.
async fn load_report(config: Config, args: &[&str]) -> Value {
    let listener = noom_server::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(noom_server::run(listener, config, async {
        let _ = stopped.await;
    }));
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_noom-load"))
            .args(["--url", &url, "--json", "--timeout", "60"])
            .args(args)
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
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    let report = serde_json::from_str(&stdout).unwrap();
    println!("{report}");
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_relay_run_delivers_every_signal() {
    const ARGS: &[&str] = &["relay", "--pairs", "4", "--rate", "200", "--duration", "1"];
    let report = load_report(Config::default(), ARGS).await;
    assert_eq!(report["scenario"], "relay");
    assert!(report["sent"].as_u64().unwrap() >= 150, "{report}");
    assert_eq!(report["delivered"], report["sent"], "{report}");
    assert_eq!(report["lost"], 0);
    assert_eq!(report["misrouted"], 0);
}

fn sfu_config() -> Config {
    Config {
        sfu_udp: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        mesh_max: 1,
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_sfu_run_forwards_every_publisher_to_everyone_else() {
    const ARGS: &[&str] = &[
        "sfu",
        "--room-size",
        "3",
        "--publishers",
        "2",
        "--duration",
        "2",
    ];
    let report = load_report(sfu_config(), ARGS).await;
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulcast_viewers_with_small_tiles_get_the_small_layer_only() {
    const ARGS: &[&str] = &[
        "sfu",
        "--room-size",
        "3",
        "--simulcast-kbps",
        "100,300",
        "--tile",
        "320x180",
        "--duration",
        "2",
    ];
    let report = load_report(sfu_config(), ARGS).await;
    assert_eq!(report["forwarded_video_streams"], 6);
    // 2 s at 15 fps: about 30 frames a publisher, each to two others, all of the small layer.
    let small = report["video_frames_received_layer_0"].as_u64().unwrap();
    assert!(small >= 150, "{report}");
    assert_eq!(report["video_frames_received_layer_1"], 0, "{report}");
    assert!(
        report["video_loss_percent"].as_f64().unwrap() < 5.0,
        "{report}"
    );
}
