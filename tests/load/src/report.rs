//! Results: a table for people, one JSON object for programs, and a progress line meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::stats::{Latencies, Usage};

/// What one scenario measured, in the order it is printed, and what went wrong.
pub struct Report {
    scenario: &'static str,
    rows: Vec<(String, Value, &'static str)>,
    /// Correctness failures: anything here makes the run fail (exit status 1).
    pub failures: Vec<String>,
}

impl Report {
    pub fn new(scenario: &'static str) -> Self {
        Self {
            scenario,
            rows: Vec::new(),
            failures: Vec::new(),
        }
    }

    pub fn add(&mut self, key: &str, value: impl Into<Value>, unit: &'static str) {
        self.rows.push((key.to_owned(), value.into(), unit));
    }

    /// p50, p90, p99 and max of `latencies` as `<prefix>_p50_ms` and so on.
    pub fn latencies(&mut self, prefix: &str, latencies: &Latencies) {
        for (name, quantile) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
            self.add(
                &format!("{prefix}_{name}_ms"),
                round(latencies.ms(quantile)),
                "ms",
            );
        }
        self.add(&format!("{prefix}_max_ms"), round(latencies.max_ms()), "ms");
    }

    /// The server's memory and CPU between two readings; CPU is divided over `messages`
    /// (frames the server delivered) when there are any.
    pub fn server_usage(&mut self, before: Option<Usage>, after: Option<Usage>, messages: u64) {
        let (Some(before), Some(after)) = (before, after) else {
            return;
        };
        self.add("server_rss_before_kib", before.rss_kib, "KiB");
        self.add("server_rss_after_kib", after.rss_kib, "KiB");
        let cpu = after.cpu.saturating_sub(before.cpu);
        self.add("server_cpu_ms", cpu.as_millis() as u64, "ms");
        if messages > 0 {
            let per_message = cpu.as_secs_f64() * 1e6 / messages as f64;
            self.add("server_cpu_us_per_msg", round(per_message), "µs");
        }
    }

    /// Fails the run with `what` unless `count` is zero.
    pub fn expect_zero(&mut self, what: &str, count: u64) {
        if count > 0 {
            self.failures.push(format!("{count} {what}"));
        }
    }

    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("scenario".into(), json!(self.scenario));
        for (key, value, _) in &self.rows {
            object.insert(key.clone(), value.clone());
        }
        object.insert("ok".into(), json!(self.failures.is_empty()));
        object.insert("failures".into(), json!(self.failures));
        Value::Object(object)
    }

    pub fn to_table(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|(key, ..)| key.len())
            .max()
            .unwrap_or(0);
        let mut out = format!("noom-load {}\n", self.scenario);
        for (key, value, unit) in &self.rows {
            let line = format!("  {key:<width$}  {:>10} {unit}", value.to_string());
            out += line.trim_end();
            out += "\n";
        }
        if self.failures.is_empty() {
            out += "  result: ok\n";
        }
        for failure in &self.failures {
            out += &format!("  FAILED: {failure}\n");
        }
        out
    }
}

/// Two decimals are plenty for milliseconds and KiB.
pub fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Counters the scenario bumps and the progress line shows.
#[derive(Debug, Default)]
pub struct Counters {
    pub sent: AtomicU64,
    pub received: AtomicU64,
}

impl Counters {
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

/// Prints `label: Ns sent S received R` to stderr every second until `stop` is cancelled, so
/// that a long run shows it is alive (stdout stays clean for `--json`).
pub fn progress(label: &'static str, counters: Arc<Counters>, stop: CancellationToken) {
    tokio::spawn(async move {
        let started = Instant::now();
        let mut ticks = tokio::time::interval(Duration::from_secs(1));
        ticks.tick().await;
        while stop.run_until_cancelled(ticks.tick()).await.is_some() {
            eprintln!(
                "{label}: {:>3}s  sent {:>9}  received {:>9}",
                started.elapsed().as_secs(),
                counters.sent(),
                counters.received()
            );
        }
    });
}
