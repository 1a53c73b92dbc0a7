//! Wrong room passwords per client address: five, then one more every twelve seconds, so a
//! password cannot be found by trying. A guess while none is left is refused unchecked (even
//! the right password), so waiting is the only way on. An address is kept only while it has
//! fewer than five guesses left: one entry per address that guessed wrong in the last minute.

use std::collections::HashMap;
use std::net::IpAddr;

/// Guesses an address may get wrong in a row.
pub(crate) const GUESSES: f64 = 5.0;
/// One guess comes back after this long (ms).
pub(crate) const GUESS_BACK_MS: u64 = 12_000;

#[derive(Debug, Default)]
pub(crate) struct Guesses {
    /// Guesses left, as of a time (ms); `None` is connections with no address (a proxy's).
    left: HashMap<Option<IpAddr>, (f64, u64)>,
}

impl Guesses {
    /// Whether `ip` may guess now.
    pub(crate) fn may_guess(&self, ip: Option<IpAddr>, now_ms: u64) -> bool {
        self.left_at(ip, now_ms) >= 1.0
    }

    /// `ip` guessed wrong.
    pub(crate) fn wrong(&mut self, ip: Option<IpAddr>, now_ms: u64) {
        let left = (self.left_at(ip, now_ms) - 1.0).max(0.0);
        self.left.insert(ip, (left, now_ms));
    }

    /// Forgets the addresses whose guesses have all come back.
    pub(crate) fn forget_forgiven(&mut self, now_ms: u64) {
        self.left
            .retain(|_, &mut (left, at)| refilled(left, at, now_ms) < GUESSES);
    }

    fn left_at(&self, ip: Option<IpAddr>, now_ms: u64) -> f64 {
        self.left
            .get(&ip)
            .map_or(GUESSES, |&(left, at)| refilled(left, at, now_ms))
    }
}

fn refilled(left: f64, at_ms: u64, now_ms: u64) -> f64 {
    let back = now_ms.saturating_sub(at_ms) as f64 / GUESS_BACK_MS as f64;
    (left + back).min(GUESSES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_wrong_then_one_every_twelve_seconds_for_that_address_only() {
        let (one, other) = (Some([10, 0, 0, 1].into()), Some([10, 0, 0, 2].into()));
        let mut guesses = Guesses::default();
        for _ in 0..5 {
            assert!(guesses.may_guess(one, 0));
            guesses.wrong(one, 0);
        }
        assert!(!guesses.may_guess(one, 0));
        assert!(!guesses.may_guess(one, GUESS_BACK_MS - 1));
        assert!(
            guesses.may_guess(other, 0),
            "another address is not held back"
        );
        assert!(guesses.may_guess(one, GUESS_BACK_MS));
        guesses.wrong(one, GUESS_BACK_MS);
        assert!(!guesses.may_guess(one, GUESS_BACK_MS));
        guesses.forget_forgiven(GUESS_BACK_MS * 3);
        assert_eq!(guesses.left.len(), 1, "still owed guesses");
        guesses.forget_forgiven(GUESS_BACK_MS * 6);
        assert!(guesses.left.is_empty());
    }
}
