//! Time as the server reads it. Held seats expire on a monotonic clock, so a wall-clock jump
//! (NTP, a suspended VM) can neither end a seat early nor keep it forever; chat is stamped with
//! wall-clock time, which is what people read.

#[cfg(test)]
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Milliseconds on a clock that never goes back.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> u64;
}

/// Milliseconds since the server started.
#[derive(Debug)]
pub struct Monotonic(Instant);

impl Monotonic {
    pub fn start() -> Self {
        Self(Instant::now())
    }
}

impl Clock for Monotonic {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A clock moved by hand, for tests.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

#[cfg(test)]
impl ManualClock {
    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Milliseconds since the Unix epoch (chat timestamps).
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
