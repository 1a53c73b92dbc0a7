//! `idle`: open N connections (`--batch` at a time), each waiting for `welcome`, and hold them.
//! Reports connect-time percentiles, failures, connections the server dropped while held, and
//! with `--pid` the server's memory per connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::Target;
use crate::client::{self, connect_many};
use crate::report::{Report, round};
use crate::stats::Usage;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Connections to open.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Seconds to hold them all open before measuring and closing.
    #[arg(long, default_value_t = 3)]
    hold: u64,
}

pub async fn run(target: &Target, args: &Args) -> anyhow::Result<Report> {
    let before = Usage::read(target.pid)?;
    let opened = connect_many(&target.url, args.connections, target.batch).await?;
    let connected = opened.conns.len() as u64;
    // Read every socket while holding, so pings get their pongs and a drop is noticed.
    let dropped = Arc::new(AtomicU64::new(0));
    let mut held = Vec::with_capacity(opened.conns.len());
    for conn in opened.conns {
        let dropped = dropped.clone();
        let mut stream = conn.stream;
        held.push((
            conn.sink,
            tokio::spawn(async move {
                while let Ok(Some(_)) = client::recv(&mut stream).await {}
                dropped.fetch_add(1, Ordering::Relaxed);
            }),
        ));
    }
    tokio::time::sleep(Duration::from_secs(args.hold)).await;
    let after = Usage::read(target.pid)?;

    let mut report = Report::new("idle");
    report.add("connections", connected, "");
    report.add("failed", opened.failures.len() as u64, "");
    report.add("dropped_while_held", dropped.load(Ordering::Relaxed), "");
    report.latencies("connect", &opened.connect);
    report.server_usage(before, after, 0);
    if let (Some(before), Some(after)) = (before, after)
        && connected > 0
    {
        let per_conn = after.rss_kib.saturating_sub(before.rss_kib) as f64 / connected as f64;
        report.add("server_kib_per_conn", round(per_conn), "KiB");
    }
    report.expect_zero("connections failed", opened.failures.len() as u64);
    report.expect_zero("connections dropped", dropped.load(Ordering::Relaxed));
    report.failures.extend(opened.failures.into_iter().take(3));
    for (_, reader) in &held {
        reader.abort();
    }
    Ok(report)
}
