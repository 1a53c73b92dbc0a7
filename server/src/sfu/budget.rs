//! How much media one participant may publish: a token bucket of bytes, refilled at
//! `--sfu-max-kbps` and holding one second of it, so a keyframe's burst passes while a
//! sustained flood beyond the rate is not forwarded (it would fill every subscriber's downlink
//! and the server's uplink). A keyframe may borrow up to one more second: without it, a
//! publisher held at the limit would never get a keyframe through (the bucket never fills
//! beyond a delta frame), and its viewers, who ask for one, would never see a picture. Over
//! any span the bucket lets through at most the rate plus two seconds of it.

use std::time::Instant;

#[derive(Debug)]
pub(super) struct Budget {
    bytes_per_second: f64,
    available: f64,
    refilled: Instant,
}

impl Budget {
    pub(super) fn new(kbps: u32, now: Instant) -> Self {
        let bytes_per_second = f64::from(kbps) * 1000.0 / 8.0;
        Self {
            bytes_per_second,
            available: bytes_per_second,
            refilled: now,
        }
    }

    /// Whether a frame of `bytes` may pass at `now`; one that may is paid for.
    pub(super) fn spend(&mut self, bytes: usize, keyframe: bool, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.available =
            (self.available + elapsed * self.bytes_per_second).min(self.bytes_per_second);
        // Frames are far below 2^52 bytes: the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let cost = bytes as f64;
        let may_borrow = if keyframe { self.bytes_per_second } else { 0.0 };
        if cost > self.available + may_borrow {
            return false;
        }
        self.available -= cost;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_of_one_second_passes_and_then_the_rate_holds() {
        let start = Instant::now();
        // 80 kbit/s: 10,000 bytes a second.
        let mut budget = Budget::new(80, start);
        assert!(
            budget.spend(10_000, false, start),
            "one second's worth at once"
        );
        assert!(!budget.spend(1, false, start));
        let mut passed = 0;
        for step in 1..=100 {
            // 1,000 bytes every 10 ms: ten times the rate, for a second.
            if budget.spend(1_000, false, start + Duration::from_millis(10 * step)) {
                passed += 1;
            }
        }
        assert_eq!(passed, 10, "a tenth of a flood at ten times the rate");
    }

    #[test]
    fn a_keyframe_borrows_one_second_and_no_more() {
        let start = Instant::now();
        let mut budget = Budget::new(80, start);
        assert!(budget.spend(9_500, false, start));
        assert!(
            !budget.spend(1_000, false, start),
            "a delta waits for the refill"
        );
        assert!(budget.spend(10_000, true, start), "a keyframe borrows");
        assert!(
            !budget.spend(1_000, true, start),
            "but only one second's worth"
        );
        // The debt is paid back before anything passes again.
        assert!(!budget.spend(1_000, false, start + Duration::from_millis(900)));
        assert!(budget.spend(1_000, false, start + Duration::from_millis(1_100)));
    }

    #[test]
    fn an_idle_publisher_saves_up_no_more_than_one_second() {
        let start = Instant::now();
        let mut budget = Budget::new(80, start);
        let later = start + Duration::from_secs(60);
        assert!(budget.spend(10_000, false, later));
        assert!(!budget.spend(1_000, false, later));
    }
}
