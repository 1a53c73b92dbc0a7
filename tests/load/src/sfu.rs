//! `sfu`: rooms of K members over real WebRTC through the server's SFU (start it with
//! `--sfu-udp`, and `--mesh-max` below K). P members of each room publish paced synthetic video
//! (in simulcast layers with `--simulcast-kbps`, which viewers pick from with `--tile`),
//! S of them (default P) send Opus-sized audio, the rest are muted, and everyone receives what
//! the server sends it (`sfu_peer.rs`). Once every participant has a frame from every camera it
//! should get (every publisher's, or the `sfu_cameras` it is told of), a window of
//! `--duration` seconds is measured: frames and megabits forwarded per second, frames lost,
//! send → receive latency, keyframe requests, and with `--pid` the server's CPU (in cores and
//! per forwarded megabit) and memory per participant.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::Target;
use crate::client::{connect_many, run_tag};
use crate::report::{Report, progress, round};
use crate::sfu_peer::{self, Plan, Shared, VideoLayer};
use crate::stats::Usage;
use noom_shared::CAMERA_LAYER_RIDS;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rooms, each of --room-size members.
    #[arg(long, default_value_t = 1)]
    rooms: usize,
    #[arg(long, default_value_t = 25)]
    room_size: usize,
    /// Members of each room that send video (default: all).
    #[arg(long)]
    publishers: Option<usize>,
    /// Members of each room whose microphone is on (default: the publishers); the others
    /// are muted and send no audio.
    #[arg(long)]
    speakers: Option<usize>,
    /// Each publisher's video bitrate (without simulcast).
    #[arg(long, default_value_t = 200)]
    video_kbps: u32,
    /// Send each camera in simulcast layers at these bitrates, smallest first (up to three:
    /// a quarter, half and the whole of 1280x720), as the browser does with 150,500,1500.
    #[arg(long, value_delimiter = ',', num_args = 1..=3)]
    simulcast_kbps: Vec<u32>,
    /// The size, WIDTHxHEIGHT, every viewer shows each camera at (`sfu_view`): 320x180 gets
    /// the smallest layer, 1280x720 the largest. Without it viewers get the largest.
    #[arg(long, value_parser = parse_tile)]
    tile: Option<(u32, u32)>,
    /// Video frames per second.
    #[arg(long, default_value_t = 15)]
    fps: u32,
    /// Seconds measured, once everyone receives everyone.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds everyone may take to receive a first frame from every publisher.
    #[arg(long, default_value_t = 60)]
    setup: u64,
    /// The address the participants' UDP sockets bind, and their ICE candidates name.
    #[arg(long, default_value = "127.0.0.1")]
    local_ip: IpAddr,
}

/// How long frames still in flight get once the window closes.
const DRAIN: Duration = Duration::from_millis(300);

/// The picture sizes of up to three simulcast layers, smallest first: the browser scales its
/// 1280x720 capture down by 4, 2 and 1.
const LAYER_SIZES: [(u16, u16); 3] = [(320, 180), (640, 360), (1280, 720)];

fn parse_tile(text: &str) -> Result<(u32, u32), String> {
    let (width, height) = text
        .split_once('x')
        .ok_or_else(|| format!("{text:?} is not WIDTHxHEIGHT"))?;
    let number = |n: &str| n.parse::<u32>().map_err(|e| format!("{n:?}: {e}"));
    Ok((number(width)?, number(height)?))
}

/// The layers each publisher sends: one without a rid at `--video-kbps`, or the simulcast
/// layers asked for, each at its size (the smallest sizes when fewer than three).
fn camera_layers(args: &Args) -> Vec<VideoLayer> {
    let bytes = |kbps: u32| (kbps as usize * 1000 / 8 / args.fps.max(1) as usize).max(32);
    if args.simulcast_kbps.is_empty() {
        let (width, height) = LAYER_SIZES[0];
        return vec![VideoLayer {
            rid: None,
            width,
            height,
            frame_bytes: bytes(args.video_kbps),
        }];
    }
    args.simulcast_kbps
        .iter()
        .zip(CAMERA_LAYER_RIDS.iter().zip(LAYER_SIZES))
        .map(|(&kbps, (&rid, (width, height)))| VideoLayer {
            rid: Some(rid),
            width,
            height,
            frame_bytes: bytes(kbps),
        })
        .collect()
}

pub async fn run(target: &Target, args: &Args) -> anyhow::Result<Report> {
    let publishers = args
        .publishers
        .unwrap_or(args.room_size)
        .min(args.room_size);
    let total = args.rooms * args.room_size;
    let before = Usage::read(target.pid)?;
    let opened = connect_many(&target.url, total, target.batch).await?;
    anyhow::ensure!(
        opened.failures.is_empty(),
        "could not connect everyone: {}",
        opened.failures.join("; ")
    );
    let shared = Arc::new(Shared::default());
    shared.cameras_min.store(u64::MAX, Relaxed);
    let stop = CancellationToken::new();
    progress("sfu", shared.frames.clone(), stop.clone());
    let layers = camera_layers(args);
    let tag = run_tag();
    let mut tasks = JoinSet::new();
    for (index, conn) in opened.conns.into_iter().enumerate() {
        let member = index % args.room_size;
        let publishes = member < publishers;
        let speaks = member < args.speakers.unwrap_or(publishers);
        let plan = Plan {
            index: index as u32,
            publishes,
            speaks,
            publishers_heard: publishers - usize::from(publishes),
            fps: args.fps,
            layers: layers.clone(),
            tile: args.tile,
            ip: args.local_ip,
        };
        let room = format!("{tag}-sfu-{}", index / args.room_size);
        tasks.spawn(sfu_peer::run(
            conn,
            room,
            plan,
            shared.clone(),
            stop.clone(),
        ));
    }

    let setup_started = Instant::now();
    let everyone = total as u64;
    while shared.ready.load(Relaxed) < everyone {
        if let Some(failed) = tasks.try_join_next() {
            failed.context("a participant stopped")??;
            anyhow::bail!("a participant stopped during setup");
        }
        anyhow::ensure!(
            setup_started.elapsed() < Duration::from_secs(args.setup),
            "after {} s only {} of {everyone} participants had a frame from every publisher",
            args.setup,
            shared.ready.load(Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let setup = setup_started.elapsed();

    let window_start = Usage::read(target.pid)?;
    let opened_at = Instant::now();
    shared.measuring.store(true, Relaxed);
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    shared.measuring.store(false, Relaxed);
    let window = opened_at.elapsed();
    let window_end = Usage::read(target.pid)?;
    tokio::time::sleep(DRAIN).await;
    stop.cancel();
    while let Some(done) = tasks.join_next().await {
        done.context("a participant panicked")??;
    }

    let mut report = Report::new("sfu");
    let streams = args.rooms * publishers * (args.room_size - 1);
    report.add("participants", total as u64, "");
    report.add("publishers", (args.rooms * publishers) as u64, "");
    report.add("forwarded_video_streams", streams as u64, "");
    report.add("setup_s", round(setup.as_secs_f64()), "s");
    report.latencies("join_to_first_frames", &shared.first_frames.snapshot());
    let seconds = window.as_secs_f64();
    let sent = shared.video_frames_sent.load(Relaxed);
    let received = shared.video_frames_received.load(Relaxed);
    let lost = shared.video_frames_lost.load(Relaxed);
    let megabits = shared.bytes_received.load(Relaxed) as f64 * 8.0 / 1e6;
    report.add("video_frames_sent", sent, "");
    report.add("video_frames_received", received, "");
    report.add("video_frames_lost", lost, "");
    let loss = lost as f64 / (received + lost).max(1) as f64;
    report.add("video_loss_percent", round(loss * 100.0), "%");
    report.add(
        "frames_forwarded_per_s",
        round(received as f64 / seconds),
        "/s",
    );
    report.add("mbit_forwarded_per_s", round(megabits / seconds), "Mbit/s");
    report.latencies("forwarding", &shared.latencies.snapshot());
    report.add(
        "cameras_per_viewer_min",
        shared.cameras_min.load(Relaxed),
        "",
    );
    report.add(
        "cameras_per_viewer_max",
        shared.cameras_max.load(Relaxed),
        "",
    );
    for (layer, count) in shared.frames_by_layer.iter().enumerate().take(layers.len()) {
        report.add(
            &format!("video_frames_received_layer_{layer}"),
            count.load(Relaxed),
            "",
        );
    }
    report.add(
        "keyframe_requests",
        shared.keyframe_requests.load(Relaxed),
        "",
    );
    if let (Some(start), Some(end)) = (window_start, window_end) {
        let cpu = end.cpu.saturating_sub(start.cpu).as_secs_f64();
        report.add("server_cores", round(cpu / seconds), "cores");
        report.add(
            "server_cpu_ms_per_mbit",
            round(cpu * 1000.0 / megabits.max(1e-9)),
            "ms",
        );
        if let Some(before) = before {
            let grown = end.rss_kib.saturating_sub(before.rss_kib);
            report.add(
                "server_rss_kib_per_participant",
                round(grown as f64 / total as f64),
                "KiB",
            );
        }
    }
    report.expect_zero("errors from the server", shared.errors.load(Relaxed));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tile_is_width_x_height() {
        assert_eq!(parse_tile("320x180"), Ok((320, 180)));
        assert!(parse_tile("320").is_err(), "no height");
        assert!(parse_tile("wide x 180").is_err());
        assert!(parse_tile("-1x180").is_err());
    }
}
