//! Latency histograms, send timestamps, and the server's memory and CPU read from /proc.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Microseconds since this process started measuring: the send timestamp carried in payloads.
/// Sender and receiver are the same process, so one monotonic clock serves both ends.
pub fn now_us() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// Latencies in microseconds (1 µs to 1 min, 3 significant digits).
#[derive(Debug, Clone)]
pub struct Latencies(Histogram<u64>);

impl Latencies {
    pub fn new() -> Self {
        // These bounds are valid, so construction cannot fail.
        Self(Histogram::new_with_bounds(1, 60_000_000, 3).unwrap_or_else(|_| unreachable!()))
    }

    pub fn record(&mut self, took: Duration) {
        self.record_us(took.as_micros() as u64);
    }

    pub fn record_us(&mut self, us: u64) {
        self.0.saturating_record(us.max(1));
    }

    /// The value at `quantile` (0..=1), in milliseconds.
    pub fn ms(&self, quantile: f64) -> f64 {
        self.0.value_at_quantile(quantile) as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        self.0.max() as f64 / 1000.0
    }
}

/// A histogram many reader tasks record into. At tens of thousands of samples a second the
/// lock is uncontended in practice, and one histogram costs far less memory than one per task.
#[derive(Debug, Clone)]
pub struct SharedLatencies(Arc<Mutex<Latencies>>);

impl Default for SharedLatencies {
    fn default() -> Self {
        Self::new()
    }
}

impl SharedLatencies {
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(Latencies::new())))
    }

    /// Records the time since `sent_us` (a [`now_us`] value).
    pub fn since(&self, sent_us: u64) {
        let us = now_us().saturating_sub(sent_us);
        if let Ok(mut hist) = self.0.lock() {
            hist.record_us(us);
        }
    }

    pub fn snapshot(&self) -> Latencies {
        self.0
            .lock()
            .map_or_else(|_| Latencies::new(), |hist| hist.clone())
    }
}

/// The server process's resident memory and CPU time at one moment, from /proc (Linux).
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub rss_kib: u64,
    pub cpu: Duration,
}

/// Clock ticks per second of /proc/PID/stat: 100 on every Linux Noom runs on (USER_HZ).
const TICKS_PER_SECOND: u64 = 100;

impl Usage {
    /// Reads `pid`'s usage now; `None` without `--pid`.
    pub fn read(pid: Option<u32>) -> anyhow::Result<Option<Self>> {
        let Some(pid) = pid else { return Ok(None) };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let rss_kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/{pid}/status"))?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name (which may hold spaces, hence the last ')'): the
        // 12th and 13th are utime and stime.
        let ticks: u64 = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().skip(11).take(2))
            .into_iter()
            .flatten()
            .filter_map(|field| field.parse::<u64>().ok())
            .sum();
        Ok(Some(Self {
            rss_kib,
            cpu: Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND),
        }))
    }
}
