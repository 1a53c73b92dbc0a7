//! One m-line that carries another participant's track to a member, and the simulcast layer
//! it forwards: a change of layer happens at the new layer's keyframe, and the old layer goes
//! on until then (see `simulcast.rs`). A video m-line is a slot: it carries the camera (or the
//! screen) of whichever member last-N (or presenting) gives it, and changes hands without a
//! new offer.

use noom_shared::{PeerId, SfuTrackKind};
use str0m::media::{MediaData, MediaTime, Mid, Rid};

use super::simulcast::Splice;

/// A remote participant's track, as sent to this member.
#[derive(Debug)]
pub(super) struct Line {
    /// Whose track it carries: fixed for an audio line, last-N's choice for a camera slot, a
    /// presenter for a screen slot (`None`: a free slot).
    pub(super) from: Option<PeerId>,
    /// Whose track the member was told it carries (in an offer or `sfu_slots`): a slot's new
    /// owner is told with the first frame forwarded from it, a keyframe.
    pub(super) told: Option<PeerId>,
    pub(super) kind: SfuTrackKind,
    pub(super) mid: Mid,
    /// The answer that opened it came: media may be written to it.
    pub(super) open: bool,
    /// Offered as stopped: gone once the answer comes (its m-line may then be reused).
    pub(super) stopping: bool,
    /// The publisher's layer it forwards now; `None` while it waits for a keyframe: frames
    /// that depend on earlier ones the receiver never got would only show as garbage.
    pub(super) layer: Option<Option<Rid>>,
    /// The largest layer the member's downlink leaves room for (`None`: no cap).
    pub(super) ceiling: Option<Option<Rid>>,
    splice: Splice,
}

/// What to do with one frame of the publisher's track on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pass {
    /// Send it, stamped with this time; `None`: not sent.
    pub(super) time: Option<MediaTime>,
    /// The layer the line waits for a keyframe of, which the publisher should send.
    pub(super) keyframe_wanted: Option<Option<Rid>>,
}

impl Line {
    /// A line for `from`'s `kind` track, told in the offer that adds it; a free slot if `from`
    /// is `None`.
    pub(super) fn new(from: Option<PeerId>, kind: SfuTrackKind, mid: Mid) -> Self {
        Self {
            told: from.clone(),
            from,
            kind,
            mid,
            open: false,
            stopping: false,
            layer: None,
            ceiling: None,
            splice: Splice::default(),
        }
    }

    /// Whether it is open and carries `from`'s `kind`.
    pub(super) fn carries(&self, from: &PeerId, kind: SfuTrackKind) -> bool {
        self.open && !self.stopping && self.from.as_ref() == Some(from) && self.kind == kind
    }

    /// Whether it is a slot (a camera's or a screen's), carrying a video or free.
    pub(super) fn is_slot(&self) -> bool {
        self.kind != SfuTrackKind::Audio
    }

    /// Gives the slot to `from`'s video (`None`: frees it). A new owner's frames start at a
    /// keyframe; true if the member must be told that the slot no longer carries whom it was
    /// told of.
    pub(super) fn give(&mut self, from: Option<PeerId>) -> bool {
        if self.from == from {
            return false;
        }
        self.from = from;
        self.layer = None;
        self.told.take().is_some()
    }

    /// What becomes of `data`, a frame of the layer `data.rid`, when the line should forward
    /// layer `target`. `video`: a layer change must wait for a keyframe.
    pub(super) fn pass(&mut self, data: &MediaData, target: Option<Rid>, video: bool) -> Pass {
        let changing = self.layer != Some(target);
        let switched = if data.rid == target && changing {
            if video && !data.is_keyframe() {
                return Pass {
                    time: None,
                    keyframe_wanted: Some(target),
                };
            }
            self.layer = Some(target);
            true
        } else if self.layer == Some(data.rid) {
            // The layer it had, until the new one's keyframe comes.
            false
        } else {
            return Pass {
                time: None,
                keyframe_wanted: changing.then_some(target),
            };
        };
        Pass {
            time: Some(self.splice.stamp(data.time, data.network_time, switched)),
            keyframe_wanted: (self.layer != Some(target)).then_some(target),
        }
    }
}
