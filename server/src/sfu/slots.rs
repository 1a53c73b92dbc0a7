//! A member's video slots: the m-lines that carry the others' cameras and screens, a pool per
//! kind that last-N (cameras) and presenting (screens) hand out without a new offer. Pure: it
//! works on a member's lines (`line.rs`).

use std::collections::BTreeSet;

use noom_shared::{PeerId, SfuTrack, SfuTrackKind};

use super::line::Line;

/// The kinds of video the others' tracks come in, each on a pool of slots.
pub(super) const VIDEO: [SfuTrackKind; 2] = [SfuTrackKind::Camera, SfuTrackKind::Screen];

/// How many slots of each kind of video a member's connection should hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slots {
    pub(super) cameras: usize,
    pub(super) screens: usize,
}

impl Slots {
    pub(super) fn of(self, kind: SfuTrackKind) -> usize {
        match kind {
            SfuTrackKind::Camera => self.cameras,
            SfuTrackKind::Screen => self.screens,
            SfuTrackKind::Audio => 0,
        }
    }
}

/// The `kind` slots among `lines`, free ones included.
pub(super) fn count(lines: &[Line], kind: SfuTrackKind) -> usize {
    lines.iter().filter(|l| l.kind == kind).count()
}

/// Gives the `kind` slots among `lines` to the videos of `wanted`, first first, as many as
/// there are slots of that kind: a slot keeps the video it carries if that is still among
/// them; one without a slot gets a free one. True if a slot stopped carrying what the member
/// was told of (a new owner is told with its first keyframe, see [`Line::told`]).
pub(super) fn fill(lines: &mut [Line], kind: SfuTrackKind, wanted: &[PeerId]) -> bool {
    let wanted = &wanted[..wanted.len().min(count(lines, kind))];
    let mut untold = false;
    for line in lines.iter_mut().filter(|l| l.kind == kind) {
        let keep = line.from.as_ref().is_some_and(|from| wanted.contains(from));
        if !keep {
            untold |= line.give(None);
        }
    }
    let placed: BTreeSet<PeerId> = (lines.iter())
        .filter(|l| l.kind == kind)
        .filter_map(|l| l.from.clone())
        .collect();
    let mut unplaced = wanted.iter().filter(|from| !placed.contains(*from));
    for slot in lines.iter_mut() {
        if slot.kind == kind && slot.from.is_none() && !slot.stopping {
            let Some(from) = unplaced.next() else { break };
            slot.give(Some(from.clone()));
        }
    }
    untold
}

/// What the member was told its `lines` carry from the others (see [`Line::told`]).
pub(super) fn told(lines: &[Line]) -> impl Iterator<Item = SfuTrack> + '_ {
    lines.iter().filter(|l| !l.stopping).filter_map(|l| {
        Some(SfuTrack {
            mid: l.mid.to_string(),
            peer_id: l.told.clone()?,
            kind: l.kind,
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use str0m::media::Mid;

    use super::*;

    fn peer(id: &str) -> PeerId {
        PeerId::new(id).unwrap()
    }

    fn owners(lines: &[Line], kind: SfuTrackKind) -> Vec<Option<&str>> {
        (lines.iter())
            .filter(|l| l.kind == kind)
            .map(|l| l.from.as_ref().map(PeerId::as_str))
            .collect()
    }

    #[test]
    fn a_slot_keeps_its_video_and_the_newly_wanted_take_the_free_ones_in_order() {
        let mut lines = vec![
            Line::new(Some(peer("ben")), SfuTrackKind::Audio, Mid::from("a")),
            Line::new(None, SfuTrackKind::Camera, Mid::from("c1")),
            Line::new(None, SfuTrackKind::Camera, Mid::from("c2")),
            Line::new(None, SfuTrackKind::Screen, Mid::from("s1")),
        ];
        let (ben, cy, dan) = (peer("ben"), peer("cy"), peer("dan"));
        assert!(!fill(
            &mut lines,
            SfuTrackKind::Camera,
            &[cy.clone(), ben.clone()]
        ));
        assert_eq!(
            owners(&lines, SfuTrackKind::Camera),
            [Some("cy"), Some("ben")]
        );
        assert_eq!(
            told(&lines).count(),
            1,
            "only the audio line was told: slots at keyframes"
        );
        // Ben's slot is told (its first keyframe went out); then Dan replaces Ben.
        lines[2].told = Some(ben.clone());
        assert!(fill(&mut lines, SfuTrackKind::Camera, &[dan, cy.clone()]));
        assert_eq!(
            owners(&lines, SfuTrackKind::Camera),
            [Some("cy"), Some("dan")]
        );
        assert_eq!(lines[2].told, None, "the member hears Ben's slot is free");
        // More wanted than slots: the first ones, and the screen slots are another pool.
        fill(&mut lines, SfuTrackKind::Camera, &[ben, peer("eve"), cy]);
        assert_eq!(
            owners(&lines, SfuTrackKind::Camera),
            [Some("ben"), Some("eve")]
        );
        assert_eq!(owners(&lines, SfuTrackKind::Screen), [None]);
        assert_eq!(owners(&lines, SfuTrackKind::Audio), [Some("ben")]);
    }
}
