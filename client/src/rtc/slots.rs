//! Which slots changed hands between two of the server's `sfu_offer` or `sfu_slots` (applied
//! by `SfuSlots::applied_to`), apart from the browser objects it moves (`sfu.rs`).

use noom_shared::{PeerId, SfuTrack, SfuTrackKind};

/// Whose camera or screen a slot carries.
pub type Owner = (PeerId, SfuTrackKind);

/// A slot that changed hands: its mid, whose video it carried, whose it carries now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub mid: String,
    pub was: Option<Owner>,
    pub is: Option<Owner>,
}

/// The slots whose owner differs between `before` and `after`, in `after`'s order, then
/// those that `after` no longer lists.
pub fn moves(me: &PeerId, before: &[SfuTrack], after: &[SfuTrack]) -> Vec<Move> {
    let owner = |tracks: &[SfuTrack], mid: &str| -> Option<Owner> {
        (tracks.iter())
            .find(|t| t.mid == mid && t.is_slot_of(me))
            .map(|t| (t.peer_id.clone(), t.kind))
    };
    let mids = (after.iter().chain(before))
        .filter(|t| t.is_slot_of(me))
        .map(|t| t.mid.as_str());
    let mut moves: Vec<Move> = Vec::new();
    for mid in mids {
        let (was, is) = (owner(before, mid), owner(after, mid));
        if was != is && !moves.iter().any(|m| m.mid == mid) {
            let mid = mid.to_owned();
            moves.push(Move { mid, was, is });
        }
    }
    moves
}

#[cfg(test)]
mod tests {
    use noom_shared::SfuSlots;

    use super::*;

    fn peer(id: &str) -> PeerId {
        PeerId::new(id).unwrap()
    }

    fn track(mid: &str, id: &str, kind: SfuTrackKind) -> SfuTrack {
        SfuTrack {
            mid: mid.to_owned(),
            peer_id: peer(id),
            kind,
        }
    }

    /// Our three lines, Ben's and Cy's audio, Ben's camera on slot 5, Cy's on slot 6.
    fn offer() -> Vec<SfuTrack> {
        use SfuTrackKind::*;
        vec![
            track("0", "ana", Audio),
            track("1", "ana", Camera),
            track("2", "ana", Screen),
            track("3", "ben", Audio),
            track("4", "cy", Audio),
            track("5", "ben", Camera),
            track("6", "cy", Camera),
        ]
    }

    #[test]
    fn a_slot_handed_to_another_camera_moves_and_the_rest_stay() {
        let me = peer("ana");
        let slots = vec![
            track("5", "dan", SfuTrackKind::Camera),
            track("6", "cy", SfuTrackKind::Camera),
        ];
        let after = SfuSlots { tracks: slots }.applied_to(&me, &offer());
        assert_eq!(after.len(), 7, "{after:?}");
        assert!(after.contains(&track("3", "ben", SfuTrackKind::Audio)));
        assert_eq!(
            moves(&me, &offer(), &after),
            [Move {
                mid: "5".into(),
                was: Some((peer("ben"), SfuTrackKind::Camera)),
                is: Some((peer("dan"), SfuTrackKind::Camera)),
            }]
        );
    }

    #[test]
    fn a_slot_left_out_is_freed_and_a_screen_slot_is_given() {
        let me = peer("ana");
        let slots = vec![
            track("6", "cy", SfuTrackKind::Camera),
            track("7", "cy", SfuTrackKind::Screen),
        ];
        let after = SfuSlots { tracks: slots }.applied_to(&me, &offer());
        assert_eq!(
            moves(&me, &offer(), &after),
            [
                Move {
                    mid: "7".into(),
                    was: None,
                    is: Some((peer("cy"), SfuTrackKind::Screen)),
                },
                Move {
                    mid: "5".into(),
                    was: Some((peer("ben"), SfuTrackKind::Camera)),
                    is: None,
                },
            ]
        );
    }

    #[test]
    fn our_own_lines_and_audio_never_move() {
        let me = peer("ana");
        assert!(moves(&me, &offer(), &offer()).is_empty());
        // An sfu_slots that lists nothing frees every slot, and only the slots.
        let after = SfuSlots { tracks: Vec::new() }.applied_to(&me, &offer());
        assert_eq!(after.len(), 5);
        let moved: Vec<String> = moves(&me, &offer(), &after)
            .into_iter()
            .map(|m| m.mid)
            .collect();
        assert_eq!(moved, ["5", "6"]);
    }
}
