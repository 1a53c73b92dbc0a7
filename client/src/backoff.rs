//! When to try reaching the server again after the socket ends. Pure: the caller passes the time
//! and the randomness, so the schedule is unit-tested natively.

use std::time::Duration;

const FIRST_DELAY: Duration = Duration::from_millis(250);
const MAX_DELAY: Duration = Duration::from_secs(5);
/// How long the server may stay out of reach before we stop trying.
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);

/// The attempts to reconnect since the server last answered. The wait doubles from 250 ms up to
/// 5 s, with up to a fifth taken off at random so that a restarted server is not met by
/// everyone at once; after 60 s out of reach, it is time to give up.
#[derive(Debug, Default)]
pub struct Backoff {
    /// When the server stopped answering (ms, on the caller's clock).
    offline_since: Option<f64>,
    attempts: u32,
}

impl Backoff {
    /// Counts one more ended or failed connection at `now_ms`; the wait before the next attempt,
    /// or `None` to give up. `jitter` in `[0, 1)` picks how much of the fifth comes off.
    pub fn next_delay(&mut self, now_ms: f64, jitter: f64) -> Option<Duration> {
        let since = *self.offline_since.get_or_insert(now_ms);
        // Millisecond durations fit an f64 exactly.
        #[allow(clippy::cast_precision_loss)]
        let out_of_time = now_ms - since > GIVE_UP_AFTER.as_millis() as f64;
        if out_of_time {
            return None;
        }
        self.attempts += 1;
        let doubled = FIRST_DELAY.saturating_mul(1 << (self.attempts - 1).min(8));
        Some(
            doubled
                .min(MAX_DELAY)
                .mul_f64(1.0 - jitter.clamp(0.0, 1.0) / 5.0),
        )
    }

    /// The server answered: the next loss starts over.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn waits_double_from_250_ms_up_to_5_s() {
        let mut backoff = Backoff::default();
        let waits: Vec<_> = (0..8).map(|_| backoff.next_delay(0.0, 0.0)).collect();
        let expected = [250, 500, 1000, 2000, 4000, 5000, 5000, 5000].map(|n| Some(ms(n)));
        assert_eq!(waits, expected);
    }

    #[test]
    fn jitter_takes_off_at_most_a_fifth() {
        let mut backoff = Backoff::default();
        assert_eq!(backoff.next_delay(0.0, 0.5), Some(ms(225)));
        let mut backoff = Backoff::default();
        assert_eq!(backoff.next_delay(0.0, 1.0), Some(ms(200)));
    }

    #[test]
    fn gives_up_after_a_minute_out_of_reach_and_starts_over_after_reset() {
        let mut backoff = Backoff::default();
        assert!(backoff.next_delay(1_000.0, 0.0).is_some());
        assert!(
            backoff.next_delay(61_000.0, 0.0).is_some(),
            "exactly 60 s is still in time"
        );
        assert_eq!(backoff.next_delay(61_001.0, 0.0), None);
        backoff.reset();
        assert_eq!(backoff.next_delay(200_000.0, 0.0), Some(ms(250)));
    }
}
