//! Fitting the videos a viewer gets into its downlink: the layer each tile asks for (see
//! `simulcast.rs`) is capped so that, together, they stay within what the viewer's connection
//! has been seen to carry.
//!
//! The estimate is loss-based, from the receiver reports every browser sends (RTCP, RFC 3550):
//! a downlink that loses more than [`LOSSY`] of what it is sent is cut to what got through,
//! and one that loses less than [`CALM`] for [`RAISE_AFTER`] is given a little more each round
//! until nothing is capped. The rate that was lost is not tried again for a while, twice as
//! long each time it is lost again (from [`HOLD_FIRST`] to [`HOLD_MOST`]), so that a link that
//! stays slow does not lose a burst of video every few seconds. (str0m's delay-based estimator
//! is not used: it paces every packet at its estimate, which stalled video in rooms of five;
//! see docs/benchmarks.md.)
//!
//! Within the cap, every video starts at its smallest layer; then, largest tile first, each is
//! raised as far towards the layer its tile asks for as the cap allows. So the speaker's tile
//! keeps its quality longest and a grid of thumbnails stays whole, as Jitsi and LiveKit
//! allocate.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use noom_shared::{PeerId, SfuTrackKind};

use super::line::Line;
use super::member::is_video;
use super::simulcast::{self, Layer};
use super::viewing::{Showing, Viewing};

/// A loss fraction above this is congestion.
pub(super) const LOSSY: f32 = 0.10;
/// A loss fraction below this is a link with room to spare.
pub(super) const CALM: f32 = 0.02;
/// How long a capped downlink must stay calm before the cap rises.
pub(super) const RAISE_AFTER: Duration = Duration::from_secs(2);
/// How long the cap stays below a rate that was lost, the first time.
pub(super) const HOLD_FIRST: Duration = Duration::from_secs(8);
/// The longest the cap stays below a rate that was lost again and again.
pub(super) const HOLD_MOST: Duration = Duration::from_secs(64);
/// A loss this long after the last hold ended is a new episode: the hold starts again short.
const REMEMBER: Duration = Duration::from_secs(30);
/// How long after a cut loss is not taken to call for another: the reports that come then
/// still count what was sent before it, and the queue it left draining. (Cut again on them,
/// a page behind 100 kbit/s was cut to half of what it could take, three holds in a row, and
/// got its larger layer back 82 s after the link widened instead of 29.)
pub(super) const SETTLE: Duration = Duration::from_millis(1_500);

/// What is known of a viewer's downlink.
#[derive(Debug, Default)]
pub(super) struct Downlink {
    /// The most its videos and audio may take, bits/s; `None`: no cap.
    cap: Option<u64>,
    /// Since when its loss has stayed under [`CALM`].
    calm_since: Option<Instant>,
    /// The rate it last lost at, and until when the cap stays below it.
    lossy: Option<(u64, Instant)>,
    /// How long the latest hold below a lost rate lasts.
    hold: Duration,
    /// When the cap was last cut.
    cut_at: Option<Instant>,
}

impl Downlink {
    /// Takes in the worst `loss` its receiver reports gave since the last call, while it was
    /// sent `sent` bits/s, and `wanted`, what every tile's own layer would take. True if that
    /// cut the cap.
    pub(super) fn report(&mut self, loss: f32, sent: u64, wanted: u64, now: Instant) -> bool {
        if loss > LOSSY {
            self.calm_since = None;
            let settling = self
                .cut_at
                .is_some_and(|at| now.saturating_duration_since(at) < SETTLE);
            if settling {
                return false;
            }
            self.cut_at = Some(now);
            // What got through. (libwebrtc's loss-based controller cuts by half the loss and
            // again each report; behind a hard limit that took several seconds and holds,
            // while what the receiver got is the link's rate.)
            // The loss in thousandths (the cast truncates a fraction in 0..=1).
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let kept = 1_000 - (loss.min(1.0) * 1_000.0) as u64;
            let through = sent * kept / 1_000;
            self.cap = Some(self.cap.map_or(through, |cap| cap.min(through)));
            let again = self.lossy.is_some_and(|(_, until)| now < until + REMEMBER);
            self.hold = if again {
                (self.hold * 2).clamp(HOLD_FIRST, HOLD_MOST)
            } else {
                HOLD_FIRST
            };
            self.lossy = Some((sent, now + self.hold));
            return true;
        }
        if loss < CALM {
            let since = *self.calm_since.get_or_insert(now);
            if let Some(cap) = self.cap
                && now.saturating_duration_since(since) >= RAISE_AFTER
            {
                // About 8 % a report, as libwebrtc raises, but short of a rate that was
                // lost until its hold ends; gone once nothing is held back and no hold is on.
                let mut raised = cap + cap / 12;
                let held = self.lossy.filter(|(_, until)| now < *until);
                if let Some((lost_at, _)) = held {
                    raised = raised.min(lost_at.saturating_sub(1)).max(cap);
                }
                // Kept through a hold even when everything wanted fits: a layer that paused
                // for a moment is not wanted then, and would come back uncapped.
                self.cap = (raised < wanted || held.is_some()).then_some(raised);
            }
        } else {
            self.calm_since = None;
        }
        false
    }

    pub(super) fn cap(&self) -> Option<u64> {
        self.cap
    }
}

/// What each audio track a member receives is taken to need (Opus voice is 30-50 kbit/s).
const AUDIO_BPS: u64 = 40_000;

/// Sets the ceiling of each of a member's `lines`: the largest layer that, with the others',
/// fits its `downlink` (none while it has no cap), once `loss` (the worst its receiver reports
/// gave since the last call) is taken in. `viewing` says how large each video is shown;
/// `live`, the layers each publisher's tracks arrive in now. True if `loss` cut the cap.
pub(super) fn cap_lines(
    lines: &mut [Line],
    viewing: &Viewing,
    live: &HashMap<(PeerId, SfuTrackKind), Vec<Layer>>,
    downlink: &mut Downlink,
    loss: Option<f32>,
    now: Instant,
) -> bool {
    let mut wanted = Vec::new();
    let mut capped = Vec::new();
    let mut audio_lines: u64 = 0;
    let mut sent: u64 = 0;
    for (index, line) in lines.iter_mut().enumerate() {
        line.ceiling = None;
        if !line.open || line.stopping {
            continue;
        }
        if !is_video(line.kind) {
            audio_lines += 1;
            continue;
        }
        let Some(from) = &line.from else {
            continue;
        };
        let Some(layers) = live.get(&(from.clone(), line.kind)) else {
            continue;
        };
        let Showing::Tile(shown) = viewing.showing(from, line.kind) else {
            continue;
        };
        let fits = simulcast::fit(layers, shown)
            .and_then(|rid| layers.iter().position(|layer| layer.rid == rid))
            .unwrap_or(0);
        let current = layers.iter().find(|layer| line.layer == Some(layer.rid));
        sent += current.map_or(0, |layer| layer.bitrate);
        wanted.push(Wanted {
            bitrates: layers.iter().map(|layer| layer.bitrate).collect(),
            fits,
            priority: shown.map_or(u64::MAX, |s| u64::from(s.width) * u64::from(s.height)),
        });
        capped.push((index, layers));
    }
    let audio = audio_lines * AUDIO_BPS;
    let cut = loss.is_some_and(|loss| {
        let desired: u64 = wanted.iter().map(|w| w.bitrates[w.fits]).sum();
        let cut = downlink.report(loss, sent + audio, desired + audio, now);
        tracing::debug!(loss, sent, desired, cap = ?downlink.cap(), "SFU downlink report");
        cut
    });
    if let Some(cap) = downlink.cap() {
        let chosen = within(cap.saturating_sub(audio), &wanted);
        for ((index, layers), layer) in capped.into_iter().zip(chosen) {
            lines[index].ceiling = Some(layers[layer].rid);
        }
    }
    cut
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

/// The layer every one of `wanted` gets within `budget` bits/s (an index into its
/// `bitrates`). None goes below its smallest layer, even when those alone exceed the budget.
pub(super) fn within(budget: u64, wanted: &[Wanted]) -> Vec<usize> {
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
        assert_eq!(within(10_000_000, &wanted), [2, 0, 1]);
    }

    #[test]
    fn the_largest_tile_keeps_its_layer_longest_and_the_rest_go_down_first() {
        let wanted = [camera(1, 100), camera(2, 900), camera(1, 100)];
        // 1.5M + 150k + 150k fits 1.9M; a thumbnail's 500k would not.
        assert_eq!(within(1_900_000, &wanted), [0, 2, 0]);
        // 800k: the speaker drops to its middle layer, the others to their smallest.
        assert_eq!(within(800_000, &wanted), [0, 1, 0]);
        // Then thumbnails rise in order while the budget lasts.
        assert_eq!(within(2_300_000, &wanted), [1, 2, 0]);
    }

    #[test]
    fn no_video_goes_below_its_smallest_layer_or_above_its_tile() {
        let wanted = [camera(2, 900), camera(2, 900)];
        assert_eq!(within(100_000, &wanted), [0, 0]);
        assert_eq!(within(0, &[]), Vec::<usize>::new());
        let one_layer = Wanted {
            bitrates: vec![300_000],
            fits: 2,
            priority: 1,
        };
        assert_eq!(within(10_000_000, &[camera(0, 9), one_layer]), [0, 0]);
    }

    #[test]
    fn heavy_loss_cuts_to_what_got_through_and_calm_raises_it_back() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut link = Downlink::default();
        assert!(!link.report(0.05, 2_000_000, 2_000_000, at(0)));
        assert_eq!(link.cap(), None, "some loss is no congestion");
        assert!(link.report(0.40, 2_000_000, 2_000_000, at(500)));
        assert_eq!(
            link.cap(),
            Some(1_200_000),
            "2 Mbit/s less 40 %: what got through"
        );
        // The next report still counts what was sent before the cut: no second cut yet.
        assert!(!link.report(0.60, 1_200_000, 2_000_000, at(1_000)));
        assert_eq!(link.cap(), Some(1_200_000));
        assert_eq!(link.hold, HOLD_FIRST);
        assert!(link.report(0.20, 1_200_000, 2_000_000, at(2_100)));
        assert_eq!(link.cap(), Some(960_000));
        // Calm: nothing for two seconds, then about 8 % a report.
        link.report(0.0, 900_000, 2_000_000, at(2_500));
        link.report(0.0, 900_000, 2_000_000, at(4_000));
        assert_eq!(link.cap(), Some(960_000));
        link.report(0.0, 900_000, 2_000_000, at(4_500));
        assert_eq!(link.cap(), Some(1_040_000));
        // Held: kept while nothing larger is wanted (a large layer paused for a moment).
        link.report(0.0, 900_000, 500_000, at(4_600));
        assert_eq!(link.cap(), Some(1_126_666));
        // A report in between interrupts the calm.
        link.report(0.05, 900_000, 2_000_000, at(5_000));
        link.report(0.0, 900_000, 2_000_000, at(5_500));
        assert_eq!(link.cap(), Some(1_126_666));
        // Lost at 1.2 Mbit/s twice in a row: the cap stays under it for 16 s.
        for step in 0..20 {
            link.report(0.0, 900_000, 2_000_000, at(6_000 + 500 * step));
        }
        assert_eq!(
            link.cap(),
            Some(1_199_999),
            "held below the rate that was lost"
        );
        // Once the cap would hold everything the tiles want, there is none.
        for step in 0..10 {
            link.report(0.0, 1_000_000, 2_000_000, at(18_500 + 500 * step));
        }
        assert_eq!(link.cap(), None);
    }

    #[test]
    fn a_rate_lost_again_and_again_is_held_off_longer_each_time() {
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        let mut link = Downlink::default();
        let hold = |link: &Downlink| link.hold;
        link.report(0.5, 1_000_000, 2_000_000, at(0));
        assert_eq!(hold(&link), HOLD_FIRST);
        link.report(0.5, 1_000_000, 2_000_000, at(10));
        assert_eq!(hold(&link), HOLD_FIRST * 2);
        for s in [30, 60, 90, 120] {
            link.report(0.5, 1_000_000, 2_000_000, at(s));
        }
        assert_eq!(hold(&link), HOLD_MOST);
        // Long after the last hold ended, a loss is a new episode.
        link.report(0.5, 1_000_000, 2_000_000, at(1_000));
        assert_eq!(hold(&link), HOLD_FIRST);
    }
}
