//! Simulcast: every camera is published in up to three layers (a quarter, half and full size,
//! rids `q`, `h`, `f`), and each viewer is forwarded the one that fits the tile it shows the
//! camera in (`sfu_view`). A publisher that sends one layer only (no simulcast, or a screen)
//! has one layer without a rid; everything here treats it the same way.
//!
//! A viewer changes layer only at a keyframe of the new one, and keeps getting the old one
//! until then, so its picture never freezes or breaks up. The layers of one camera need not
//! share an RTP timestamp base: a [`Splice`] keeps the timestamps a viewer gets continuous
//! across a change.

use std::time::{Duration, Instant};

use noom_shared::CAMERA_LAYER_RIDS;
use str0m::media::{MediaData, MediaTime, Rid, Simulcast, SimulcastLayer};

/// What the server's offer asks a camera m-line to receive.
pub(super) fn camera_layers() -> Simulcast {
    let mut simulcast = Simulcast::new();
    for rid in CAMERA_LAYER_RIDS {
        simulcast.add_recv_layer(SimulcastLayer::new(rid));
    }
    simulcast
}

/// A layer that sent nothing for this long is gone (the browser stops the top layers when its
/// uplink or CPU cannot carry them, or when the camera is too small for them).
const LIVE_FOR: Duration = Duration::from_millis(1_000);

/// The pixel size of a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Size {
    pub(crate) width: u32,
    pub(crate) height: u32,
}

impl Size {
    fn covers(self, other: Size) -> bool {
        self.width >= other.width && self.height >= other.height
    }
}

/// One layer of a published video track, as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layer {
    pub(super) rid: Option<Rid>,
    /// From its latest keyframe; unknown until one came.
    pub(super) size: Option<Size>,
    /// Bits/s: the most of the last [`PEAK_OF`] whole [`RATE_WINDOW`]s; until one has passed,
    /// over the time so far.
    pub(super) bitrate: u64,
    /// The rates of the last whole windows, oldest first (none yet: a guess so far).
    recent: Vec<u64>,
    last_frame: Instant,
    /// When the window being measured began, and the bytes in it so far.
    window: (Instant, u64),
}

/// How long a layer's bitrate is measured over.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// A layer's bitrate is the most of this many windows: from one second to the next it varies
/// by half (Chromium's fake camera at 640 wide: 110 to 215 kbit/s), and a layer taken at a
/// low second's rate is let onto a link it does not fit.
const PEAK_OF: usize = 3;
/// A layer's first bitrate is taken from at least this long, not from one frame.
const RATE_FIRST_WINDOW: Duration = Duration::from_millis(100);

impl Layer {
    /// A layer first seen `now`, in a frame of `bytes`.
    fn new(rid: Option<Rid>, size: Option<Size>, bytes: usize, now: Instant) -> Self {
        Self {
            rid,
            size,
            bitrate: 0,
            recent: Vec::new(),
            last_frame: now,
            window: (now, bytes as u64),
        }
    }

    fn count(&mut self, bytes: usize, now: Instant) {
        // A layer that paused (the browser stops a top layer when its CPU or uplink is short)
        // starts a new window: averaged over the pause, it would look cheap.
        let paused = now.saturating_duration_since(self.last_frame) >= RATE_WINDOW;
        self.last_frame = now;
        if paused {
            self.window = (now, bytes as u64);
            return;
        }
        let (start, counted) = &mut self.window;
        *counted += bytes as u64;
        let elapsed = now.saturating_duration_since(*start);
        let whole = elapsed >= RATE_WINDOW;
        if whole || (self.recent.is_empty() && elapsed >= RATE_FIRST_WINDOW) {
            let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
            self.bitrate = counted.saturating_mul(1_000_000 * 8) / micros.max(1);
        }
        if whole {
            if self.recent.len() == PEAK_OF {
                self.recent.remove(0);
            }
            self.recent.push(self.bitrate);
            self.bitrate = self.recent.iter().copied().max().unwrap_or(0);
            self.window = (now, 0);
        }
    }
}

/// The layers one publisher's video track arrives in.
#[derive(Debug, Default)]
pub(super) struct Layers {
    seen: Vec<Layer>,
}

impl Layers {
    /// Notes a frame of layer `data.rid`. True when the size of a layer that is not the only
    /// one is still unknown (its first keyframe was lost, or came before the server could
    /// read it): its publisher should send a keyframe, or no viewer is ever given that layer.
    pub(super) fn saw(&mut self, data: &MediaData, now: Instant) -> bool {
        let size = data.is_keyframe().then(|| vp8_size(&data.data)).flatten();
        let known = match self.seen.iter_mut().find(|layer| layer.rid == data.rid) {
            Some(layer) => {
                layer.size = size.or(layer.size);
                layer.count(data.data.len(), now);
                layer.size.is_some()
            }
            None => {
                self.seen
                    .push(Layer::new(data.rid, size, data.data.len(), now));
                self.seen.sort_by_key(|layer| rank(layer.rid));
                size.is_some()
            }
        };
        !known && self.seen.len() > 1
    }

    /// The layers that send now, smallest first.
    pub(super) fn live(&self, now: Instant) -> Vec<Layer> {
        self.seen
            .iter()
            .filter(|layer| now.saturating_duration_since(layer.last_frame) < LIVE_FOR)
            .cloned()
            .collect()
    }
}

/// Where a rid sorts among the camera's layers; a track without layers, or a rid this server
/// did not offer, sorts last.
fn rank(rid: Option<Rid>) -> usize {
    rid.and_then(|rid| CAMERA_LAYER_RIDS.iter().position(|known| &*rid == *known))
        .unwrap_or(CAMERA_LAYER_RIDS.len())
}

/// The layer to forward to a viewer that shows the track at `shown` (`None`: it did not say,
/// so the best there is): the smallest of `live` (smallest first) that covers the tile, else
/// the largest. A layer whose size is not known yet counts as too small, unless it is the
/// largest. `None` when nothing is live.
pub(super) fn fit(live: &[Layer], shown: Option<Size>) -> Option<Option<Rid>> {
    let largest = live.last()?;
    let Some(shown) = shown else {
        return Some(largest.rid);
    };
    let fitting = live
        .iter()
        .find(|layer| layer.size.is_some_and(|size| size.covers(shown)));
    Some(fitting.unwrap_or(largest).rid)
}

/// The layers of `live` (smallest first) no larger than `ceiling`, the largest a viewer's
/// downlink carries (see `allocation.rs`; `None`: no cap); the smallest if all are larger.
pub(super) fn at_most(live: &[Layer], ceiling: Option<Option<Rid>>) -> &[Layer] {
    let Some(ceiling) = ceiling else {
        return live;
    };
    let below = live
        .iter()
        .take_while(|layer| rank(layer.rid) <= rank(ceiling))
        .count();
    &live[..below.max(1).min(live.len())]
}

/// The width and height in a VP8 keyframe's header (RFC 6386, section 9.1): a 3-byte frame
/// tag whose lowest bit is 0 for a keyframe, the start code `9d 01 2a`, then 14 bits of width
/// and of height (the top two bits of each are a scaling hint).
pub(super) fn vp8_size(frame: &[u8]) -> Option<Size> {
    let header = frame.get(..10)?;
    if header[0] & 1 != 0 || header[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let dimension = |low: u8, high: u8| u32::from(u16::from_le_bytes([low, high]) & 0x3fff);
    Some(Size {
        width: dimension(header[6], header[7]),
        height: dimension(header[8], header[9]),
    })
}

/// The RTP timestamps one viewer gets of one track: the layer's own, shifted so that they go on
/// from the previous layer's at a change of layer.
#[derive(Debug, Default)]
pub(super) struct Splice {
    /// Added to the current layer's timestamps, in its clock's ticks.
    offset: i64,
    /// The last timestamp sent, and when its frame arrived.
    last: Option<(MediaTime, Instant)>,
}

impl Splice {
    /// The timestamp to send a frame stamped `time`, which arrived at `arrived`, with.
    /// `switched`: it is the first frame of a new layer, which goes on from the last one sent
    /// by the time that passed between their arrivals.
    pub(super) fn stamp(&mut self, time: MediaTime, arrived: Instant, switched: bool) -> MediaTime {
        let ticks = |t: MediaTime| i64::try_from(t.numer()).unwrap_or(i64::MAX);
        if let (true, Some((last, last_arrived))) = (switched, self.last) {
            let elapsed = arrived.saturating_duration_since(last_arrived);
            let rate = u128::from(time.frequency().get());
            let elapsed_ticks = i64::try_from(elapsed.as_micros() * rate / 1_000_000)
                .unwrap_or(i64::MAX)
                .max(1);
            self.offset = ticks(last)
                .saturating_add(elapsed_ticks)
                .saturating_sub(ticks(time));
        }
        let shifted = ticks(time).saturating_add(self.offset).max(0);
        let out = MediaTime::new(shifted.unsigned_abs(), time.frequency());
        self.last = Some((out, arrived));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(rid: &str, width: u32, height: u32, now: Instant) -> Layer {
        Layer::new(Some(Rid::from(rid)), Some(Size { width, height }), 0, now)
    }

    fn rid(text: &str) -> Option<Option<Rid>> {
        Some(Some(Rid::from(text)))
    }

    #[test]
    fn a_tile_gets_the_smallest_layer_that_covers_it() {
        let now = Instant::now();
        let live = [
            layer("q", 320, 180, now),
            layer("h", 640, 360, now),
            layer("f", 1280, 720, now),
        ];
        let tile = |width, height| Some(Size { width, height });
        assert_eq!(fit(&live, tile(200, 150)), rid("q"), "a small grid tile");
        assert_eq!(fit(&live, tile(300, 200)), rid("h"), "taller than q");
        assert_eq!(fit(&live, tile(1200, 700)), rid("f"), "the speaker's tile");
        assert_eq!(fit(&live, tile(2560, 1440)), rid("f"), "larger than any");
        assert_eq!(fit(&live, None), rid("f"), "a viewer that did not say");
        assert_eq!(fit(&live[..2], tile(1200, 700)), rid("h"), "f is gone");
        assert_eq!(fit(&[], tile(10, 10)), None);
    }

    #[test]
    fn a_cap_keeps_the_layers_up_to_it_and_always_the_smallest() {
        let now = Instant::now();
        let live = [
            layer("q", 320, 180, now),
            layer("h", 640, 360, now),
            layer("f", 1280, 720, now),
        ];
        let rids =
            |layers: &[Layer]| -> Vec<Option<Rid>> { layers.iter().map(|l| l.rid).collect() };
        assert_eq!(rids(at_most(&live, None)).len(), 3, "no cap");
        assert_eq!(
            rids(at_most(&live, rid("h"))),
            [Some(Rid::from("q")), Some(Rid::from("h"))]
        );
        assert_eq!(
            rids(at_most(&live[1..], rid("q"))),
            [Some(Rid::from("h"))],
            "q is gone"
        );
        assert_eq!(at_most(&[], rid("q")), []);
    }

    #[test]
    fn a_layers_bitrate_is_its_most_over_three_seconds_and_guessed_before() {
        let start = Instant::now();
        let mut layer = layer("q", 320, 180, start);
        // 1,000 bytes every 20 ms: 400 kbit/s.
        for step in 1..=4 {
            layer.count(1_000, start + Duration::from_millis(20 * step));
        }
        assert_eq!(layer.bitrate, 0, "one frame is no measure");
        for step in 5..=20 {
            layer.count(1_000, start + Duration::from_millis(20 * step));
        }
        assert_eq!(layer.bitrate, 400_000, "from the first 400 ms");
        for step in 21..=50 {
            layer.count(1_000, start + Duration::from_millis(20 * step));
        }
        assert_eq!(layer.bitrate, 400_000, "the whole first second");
        // Halved: the most of the last three seconds is still the first one's, until that
        // has passed.
        for step in 1..=25 {
            layer.count(1_000, start + Duration::from_millis(1_000 + 40 * step));
        }
        assert_eq!(layer.bitrate, 400_000);
        for step in 26..=75 {
            layer.count(1_000, start + Duration::from_millis(1_000 + 40 * step));
        }
        assert_eq!(layer.bitrate, 200_000);
        // Paused for 5 s, then 400 kbit/s again: the pause is not averaged in.
        for step in 1..=55 {
            layer.count(1_000, start + Duration::from_millis(9_000 + 20 * step));
        }
        // 51 frames in the first whole second, counting the one that began it.
        assert_eq!(layer.bitrate, 408_000);
    }

    #[test]
    fn a_layer_of_unknown_size_is_taken_only_as_the_largest() {
        let now = Instant::now();
        let mut live = [layer("q", 0, 0, now), layer("h", 640, 360, now)];
        live[0].size = None;
        let tile = Some(Size {
            width: 100,
            height: 100,
        });
        assert_eq!(fit(&live, tile), rid("h"));
        assert_eq!(fit(&live[..1], tile), rid("q"));
    }

    #[test]
    fn timestamps_go_on_across_a_change_of_layer() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut splice = Splice::default();
        let first = splice.stamp(MediaTime::from_90khz(1_000), at(0), false);
        assert_eq!(first.numer(), 1_000, "the first layer's own timestamps");
        let next = splice.stamp(MediaTime::from_90khz(4_000), at(33), false);
        assert_eq!(next.numer(), 4_000);
        // Another layer, on a base far away: its first frame 100 ms after the last one sent.
        let switched = splice.stamp(MediaTime::from_90khz(900_000), at(133), true);
        assert_eq!(switched.numer(), 4_000 + 9_000);
        let after = splice.stamp(MediaTime::from_90khz(903_000), at(166), false);
        assert_eq!(
            after.numer(),
            13_000 + 3_000,
            "the new layer's steps, shifted"
        );
    }

    #[test]
    fn the_vp8_keyframe_header_gives_the_size() {
        // 640×360 with a scaling hint in the top bits of the width, which is not size.
        let keyframe = [
            0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x42, 0x68, 0x01, 0xff,
        ];
        assert_eq!(
            vp8_size(&keyframe),
            Some(Size {
                width: 640,
                height: 360
            })
        );
        let mut delta = keyframe;
        delta[0] |= 1;
        assert_eq!(vp8_size(&delta), None, "an interframe has no size");
        assert_eq!(vp8_size(&keyframe[..8]), None, "cut short");
        let mut garbage = keyframe;
        garbage[4] = 0;
        assert_eq!(vp8_size(&garbage), None, "no start code");
    }
}
