//! When to try reaching the server again after the socket ends.

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
    /// When the server stopped answering (ms since the epoch).
    offline_since: Option<f64>,
    attempts: u32,
}

impl Backoff {
    /// Counts one more ended or failed connection; the wait before the next attempt, or `None`
    /// to give up.
    pub fn next_delay(&mut self) -> Option<Duration> {
        let now = js_sys::Date::now();
        let since = *self.offline_since.get_or_insert(now);
        // Millisecond durations fit an f64 exactly.
        #[allow(clippy::cast_precision_loss)]
        let out_of_time = now - since > GIVE_UP_AFTER.as_millis() as f64;
        if out_of_time {
            return None;
        }
        self.attempts += 1;
        let doubled = FIRST_DELAY.saturating_mul(1 << (self.attempts - 1).min(8));
        Some(
            doubled
                .min(MAX_DELAY)
                .mul_f64(1.0 - js_sys::Math::random() / 5.0),
        )
    }

    /// The server answered: the next loss starts over.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}
