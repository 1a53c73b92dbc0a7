//! `noom-load`: how many people can this box hold? Drives a running Noom with simulated
//! signaling clients over real WebSockets and reports latency, correctness and, with `--pid`,
//! the server's memory and CPU. One module per scenario; see `docs/benchmarks.md`.

mod client;
mod fanout;
mod idle;
mod join;
mod relay;
mod report;
mod sfu;
mod sfu_peer;
mod stats;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::report::Report;

/// Load-tests a running Noom server with simulated clients over real WebSockets.
#[derive(Debug, Parser)]
#[command(name = "noom-load", version)]
struct Cli {
    /// The server's WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:8080/ws", global = true)]
    url: String,
    /// Print one JSON object instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// The server's process id: report its memory (VmRSS) and CPU time from /proc.
    #[arg(long, global = true)]
    pid: Option<u32>,
    /// Connections opened at once while setting up.
    #[arg(long, default_value_t = 200, global = true)]
    batch: usize,
    /// Give up (and fail) after this many seconds, whatever the scenario is doing.
    #[arg(long, default_value_t = 120, global = true)]
    timeout: u64,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Open connections, wait for `welcome`, hold them: connect times and memory per connection.
    Idle(idle::Args),
    /// Pairs in rooms of two exchanging `signal`: delivery, latency, CPU per message.
    Relay(relay::Args),
    /// Lobby clients all joining rooms at once: time until everyone is in, room-list frames.
    Join(join::Args),
    /// Rooms whose members all chat: each message reaches every member once; latency.
    Fanout(fanout::Args),
    /// Rooms of participants over real WebRTC through the SFU: forwarded streams, loss,
    /// forwarding latency, join to first frame, server CPU per megabit.
    Sfu(sfu::Args),
}

/// Where and how to connect, shared by every scenario.
pub struct Target {
    pub url: String,
    pub pid: Option<u32>,
    pub batch: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let target = Target {
        url: cli.url,
        pid: cli.pid,
        batch: cli.batch,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("noom-load: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let limit = Duration::from_secs(cli.timeout);
    let outcome = runtime.block_on(async {
        let run = async {
            match &cli.scenario {
                Scenario::Idle(args) => idle::run(&target, args).await,
                Scenario::Relay(args) => relay::run(&target, args).await,
                Scenario::Join(args) => join::run(&target, args).await,
                Scenario::Fanout(args) => fanout::run(&target, args).await,
                Scenario::Sfu(args) => sfu::run(&target, args).await,
            }
        };
        tokio::time::timeout(limit, run).await
    });
    // Connections still open close with the runtime; don't wait for their tasks.
    runtime.shutdown_background();
    let error = match outcome {
        Ok(Ok(report)) => return print(&report, cli.json),
        Ok(Err(err)) => format!("{err:#}"),
        Err(_) => format!("gave up after --timeout {} s", cli.timeout),
    };
    eprintln!("noom-load: {error}");
    if cli.json {
        // `--json` always prints one object, so a script can read a failed run too.
        println!("{}", serde_json::json!({ "ok": false, "error": error }));
    }
    ExitCode::FAILURE
}

fn print(report: &Report, json: bool) -> ExitCode {
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
