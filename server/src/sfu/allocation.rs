//! Fitting the videos a viewer gets into its downlink: the layer each tile asks for (see
//! `simulcast.rs`) is capped so that, together, they stay within what the server's bandwidth
//! estimate for that viewer says its connection carries (str0m's BWE, from the browser's
//! transport-wide congestion control feedback).
//!
//! Every video starts at its smallest layer; then, largest tile first, each is raised as far
//! towards the layer its tile asks for as the budget allows. So the speaker's tile keeps its
//! quality longest and a grid of thumbnails stays whole, as Jitsi and LiveKit allocate.

use std::time::{Duration, Instant};

/// What is known of a viewer's downlink. The estimate alone is no cap: a connection that
/// was sent little (a join, a grid of thumbnails) has an estimate near what it was sent, which
/// says nothing of what it could carry. So the estimate caps the layers only once it has
/// stayed below what the viewer is sent for [`CONGESTED_AFTER`], and for [`CAPPED_FOR`]
/// after the last time it did; otherwise the tiles get what they ask for, and a link that
/// cannot carry it shows as congestion again.
#[derive(Debug, Default)]
pub(super) struct Downlink {
    /// The server's bandwidth estimate for it, bits/s.
    pub(super) estimate: Option<u64>,
    /// Since when the estimate has been below what it is sent.
    below_since: Option<Instant>,
    /// When it was last found congested.
    congested: Option<Instant>,
}

/// How long the estimate must stay below what is sent to count as congestion: after a raise,
/// an estimate grows from what was sent before to the new rate in about a second.
pub(super) const CONGESTED_AFTER: Duration = Duration::from_millis(1_500);
/// How long after congestion the layers rise only as far as the estimate reaches.
pub(super) const CAPPED_FOR: Duration = Duration::from_secs(10);

impl Downlink {
    /// The bits/s its videos may take now, given that it is sent `sent` (`None`: no cap).
    pub(super) fn budget(&mut self, sent: u64, now: Instant) -> Option<u64> {
        let estimate = self.estimate?;
        if estimate >= sent {
            self.below_since = None;
        } else {
            let since = *self.below_since.get_or_insert(now);
            if now.saturating_duration_since(since) >= CONGESTED_AFTER {
                self.congested = Some(now);
            }
        }
        let capped = self
            .congested
            .is_some_and(|at| now.saturating_duration_since(at) < CAPPED_FOR);
        capped.then_some(estimate)
    }
}

/// One video a viewer is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Wanted {
    /// The bitrates of the track's live layers, bits/s, smallest layer first (never empty).
    pub(super) bitrates: Vec<u64>,
    /// The layer its tile asks for: an index into `bitrates`.
    pub(super) fits: usize,
    /// Larger is served first: the tile's area in pixels.
    pub(super) priority: u64,
}

/// What a viewer is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Allocation {
    /// The layer each video gets: an index into its `bitrates`.
    pub(super) layers: Vec<usize>,
    /// Their bitrates together.
    pub(super) total: u64,
    /// What the next step up (the smallest raise one video still waits for) would take in
    /// all; `None` when every video has what its tile asks for. The estimator is asked to
    /// sustain this much, with padding, so that the estimate can grow to it.
    pub(super) next: Option<u64>,
}

/// The layer every one of `wanted` gets within `budget` bits/s. None goes below its
/// smallest layer, even when those alone exceed the budget.
pub(super) fn within(budget: u64, wanted: &[Wanted]) -> Allocation {
    let layers = choose(budget, wanted);
    let total = wanted
        .iter()
        .zip(&layers)
        .map(|(w, &l)| w.bitrates[l])
        .sum();
    let next = wanted
        .iter()
        .zip(&layers)
        .filter(|(w, l)| **l < w.fits.min(w.bitrates.len() - 1))
        .map(|(w, &l)| w.bitrates[l + 1].saturating_sub(w.bitrates[l]))
        .min()
        .map(|step| total + step);
    Allocation {
        layers,
        total,
        next,
    }
}

fn choose(budget: u64, wanted: &[Wanted]) -> Vec<usize> {
    let smallest = |w: &Wanted| w.bitrates.first().copied().unwrap_or(0);
    let mut chosen = vec![0; wanted.len()];
    let mut total: u64 = wanted.iter().map(smallest).sum();
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    // Stable: equal tiles are served in the order given.
    order.sort_by_key(|&i| std::cmp::Reverse(wanted[i].priority));
    for i in order {
        let w = &wanted[i];
        let base = total - smallest(w);
        let top = w.fits.min(w.bitrates.len().saturating_sub(1));
        if let Some(layer) = (1..=top)
            .rev()
            .find(|&layer| base + w.bitrates[layer] <= budget)
        {
            chosen[i] = layer;
            total = base + w.bitrates[layer];
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A camera in three layers of 150, 500 and 1,500 kbit/s whose tile asks for `fits`.
    fn camera(fits: usize, priority: u64) -> Wanted {
        Wanted {
            bitrates: vec![150_000, 500_000, 1_500_000],
            fits,
            priority,
        }
    }

    #[test]
    fn a_downlink_that_carries_everything_gets_what_each_tile_asks_for() {
        let wanted = [camera(2, 900), camera(0, 100), camera(1, 400)];
        let all = within(10_000_000, &wanted);
        assert_eq!(all.layers, [2, 0, 1]);
        assert_eq!(all.total, 2_150_000);
        assert_eq!(all.next, None, "nothing to raise");
    }

    #[test]
    fn the_largest_tile_keeps_its_layer_longest_and_the_rest_go_down_first() {
        let wanted = [camera(1, 100), camera(2, 900), camera(1, 100)];
        // 1.5M + 150k + 150k fits 1.9M; a thumbnail's 500k would not.
        let some = within(1_900_000, &wanted);
        assert_eq!(some.layers, [0, 2, 0]);
        assert_eq!(
            some.next,
            Some(1_800_000 + 350_000),
            "a thumbnail's next layer"
        );
        // 800k: the speaker drops to its middle layer, the others to their smallest.
        assert_eq!(within(800_000, &wanted).layers, [0, 1, 0]);
        // Then thumbnails rise in order while the budget lasts.
        assert_eq!(within(2_300_000, &wanted).layers, [1, 2, 0]);
    }

    #[test]
    fn the_estimate_caps_only_once_it_stays_below_what_is_sent() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut link = Downlink::default();
        assert_eq!(link.budget(500_000, at(0)), None, "no estimate yet");
        link.estimate = Some(400_000);
        assert_eq!(link.budget(100_000, at(0)), None, "above what is sent");
        assert_eq!(link.budget(500_000, at(500)), None, "below, just now");
        assert_eq!(link.budget(500_000, at(1_500)), None);
        assert_eq!(
            link.budget(500_000, at(2_000)),
            Some(400_000),
            "below for 1.5 s"
        );
        // Cut down, the viewer is sent less than the estimate; the cap holds a while.
        assert_eq!(link.budget(150_000, at(2_500)), Some(400_000));
        assert_eq!(link.budget(150_000, at(11_900)), Some(400_000));
        assert_eq!(
            link.budget(150_000, at(12_000)),
            None,
            "then the tiles ask again"
        );
        // Sent more than the estimate for a moment, not long enough: no cap.
        assert_eq!(link.budget(500_000, at(12_500)), None);
        assert_eq!(link.budget(300_000, at(13_000)), None);
        assert_eq!(
            link.budget(500_000, at(14_000)),
            None,
            "below again only since 14 s"
        );
    }

    #[test]
    fn no_video_goes_below_its_smallest_layer() {
        let wanted = [camera(2, 900), camera(2, 900)];
        assert_eq!(within(100_000, &wanted).layers, [0, 0]);
        assert_eq!(within(0, &[]).layers, Vec::<usize>::new());
    }

    #[test]
    fn a_tile_is_never_raised_past_what_it_asks_for_or_past_its_layers() {
        let one_layer = Wanted {
            bitrates: vec![300_000],
            fits: 2,
            priority: 1,
        };
        assert_eq!(
            within(10_000_000, &[camera(0, 9), one_layer]).layers,
            [0, 0]
        );
    }
}
