//! A per-connection token bucket.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allow,
    /// Over the limit: drop this message and say `rate_limited` (once per streak).
    Limit {
        first_in_streak: bool,
    },
    /// Kept sending while limited, a burst's worth of messages: close the connection.
    Abuse,
}

#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_second: f64,
    burst: f64,
    tokens: f64,
    refilled_at: Instant,
    /// Messages dropped since the last one allowed.
    streak: u32,
}

impl RateLimiter {
    pub(crate) fn new(per_second: u32, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            per_second: f64::from(per_second),
            burst,
            tokens: burst,
            refilled_at: now,
            streak: 0,
        }
    }

    pub(crate) fn check(&mut self, now: Instant) -> Verdict {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.streak = 0;
            return Verdict::Allow;
        }
        self.streak += 1;
        if f64::from(self.streak) > self.burst {
            Verdict::Abuse
        } else {
            Verdict::Limit {
                first_in_streak: self.streak == 1,
            }
        }
    }
}

/// A connection's own limiter, and the one its address shares with its other connections.
pub(crate) struct Limits {
    own: RateLimiter,
    address: Option<Arc<Mutex<RateLimiter>>>,
    /// This connection was told of the limit it is under (it is told once per streak, even
    /// when the streak began on another connection of its address).
    told: bool,
}

impl Limits {
    pub(crate) fn new(own: RateLimiter, address: Option<Arc<Mutex<RateLimiter>>>) -> Self {
        Self {
            own,
            address,
            told: false,
        }
    }

    /// The own limiter's verdict; when it allows, the address's.
    pub(crate) fn check(&mut self, now: Instant) -> Verdict {
        let verdict = match (self.own.check(now), &self.address) {
            (Verdict::Allow, Some(address)) => address
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .check(now),
            (verdict, _) => verdict,
        };
        match verdict {
            Verdict::Allow => self.told = false,
            Verdict::Limit { .. } => {
                let first_in_streak = !std::mem::replace(&mut self.told, true);
                return Verdict::Limit { first_in_streak };
            }
            Verdict::Abuse => {}
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn burst_then_limit_then_abuse() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(10, 3, start);
        for _ in 0..3 {
            assert_eq!(limiter.check(start), Verdict::Allow);
        }
        assert_eq!(
            limiter.check(start),
            Verdict::Limit {
                first_in_streak: true
            }
        );
        assert_eq!(
            limiter.check(start),
            Verdict::Limit {
                first_in_streak: false
            }
        );
        assert_eq!(
            limiter.check(start),
            Verdict::Limit {
                first_in_streak: false
            }
        );
        assert_eq!(limiter.check(start), Verdict::Abuse);
    }

    #[test]
    fn refills_at_the_sustained_rate() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(10, 1, start);
        assert_eq!(limiter.check(start), Verdict::Allow);
        assert!(matches!(limiter.check(start), Verdict::Limit { .. }));
        assert_eq!(
            limiter.check(start + Duration::from_millis(100)),
            Verdict::Allow
        );
        // A full second refills only up to the burst.
        let later = start + Duration::from_secs(5);
        assert_eq!(limiter.check(later), Verdict::Allow);
        assert!(matches!(limiter.check(later), Verdict::Limit { .. }));
    }
}
