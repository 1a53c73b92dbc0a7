//! Last-N: in a large room each member receives the cameras of at most N others: the one it
//! pinned, then those who present a screen, then those who spoke most recently (the same order
//! for everyone, from the audio level every browser puts in its audio packets, RFC 6464). Audio
//! and shared screens always go to everyone; a member whose camera is not sent shows as its
//! name, and the member is told which cameras it gets.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use noom_shared::PeerId;

/// An audio packet this loud or louder (dBov, 0 the loudest) counts as speaking.
pub(super) const SPEAKING_DBOV: i8 = -50;
/// How often the cameras each member gets are chosen again: often enough to follow a
/// conversation, seldom enough that a word or a cough does not swap a tile.
pub(super) const CHOOSE_EVERY: Duration = Duration::from_millis(500);

/// A member of a room, as last-N ranks it.
#[derive(Debug, Clone)]
pub(super) struct Speaker {
    pub(super) peer: PeerId,
    /// When its audio was last loud enough to count as speech.
    pub(super) last_spoke: Option<Instant>,
    /// It sends a camera now: only those take one of the N places.
    pub(super) camera: bool,
    /// It presents a screen now.
    pub(super) presenting: bool,
}

/// A camera that sent nothing for this long is taken to be off.
pub(super) const CAMERA_OFF_AFTER: Duration = Duration::from_secs(2);

/// The cameras `viewer` gets among `room` (every member, itself included): all of them while
/// at most `n` others send one (`None`), else `n` of them: the one it `pinned`, then those
/// presenting, then those who spoke most recently (members who never spoke after those who
/// did, by peer id, so everyone agrees on the order).
pub(super) fn cameras_for(
    viewer: &PeerId,
    pinned: Option<&PeerId>,
    room: &[Speaker],
    n: usize,
) -> Option<BTreeSet<PeerId>> {
    let mut others: Vec<&Speaker> = room
        .iter()
        .filter(|s| s.peer != *viewer && s.camera)
        .collect();
    if others.len() <= n {
        return None;
    }
    let is_pinned = |s: &Speaker| pinned == Some(&s.peer);
    // Latest first; `None` (never spoke) sorts after every time.
    others.sort_by(|a, b| {
        (is_pinned(b), b.presenting, b.last_spoke)
            .cmp(&(is_pinned(a), a.presenting, a.last_spoke))
            .then_with(|| a.peer.cmp(&b.peer))
    });
    Some(others.into_iter().take(n).map(|s| s.peer.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speaker(name: &str, spoke_ms_ago: Option<u64>, now: Instant) -> Speaker {
        Speaker {
            peer: PeerId::new(name).unwrap(),
            last_spoke: spoke_ms_ago.map(|ms| now - Duration::from_millis(ms)),
            camera: true,
            presenting: false,
        }
    }

    fn names(set: &BTreeSet<PeerId>) -> Vec<&str> {
        set.iter().map(PeerId::as_str).collect()
    }

    #[test]
    fn a_small_room_sends_every_camera() {
        let now = Instant::now();
        let room = ["a", "b", "c"].map(|n| speaker(n, None, now));
        assert_eq!(cameras_for(&room[0].peer, None, &room, 2), None);
    }

    #[test]
    fn a_large_room_sends_the_latest_speakers_cameras_and_never_ones_own() {
        let now = Instant::now();
        let room = [
            speaker("a", Some(10), now),
            speaker("b", None, now),
            speaker("c", Some(5_000), now),
            speaker("d", Some(200), now),
            speaker("e", None, now),
        ];
        let chosen = cameras_for(&room[0].peer, None, &room, 3).unwrap();
        assert_eq!(
            names(&chosen),
            ["b", "c", "d"],
            "d and c spoke; b before e by id"
        );
        let chosen = cameras_for(&room[3].peer, None, &room, 3).unwrap();
        assert_eq!(names(&chosen), ["a", "b", "c"]);
    }

    #[test]
    fn a_camera_that_is_off_takes_no_place() {
        let now = Instant::now();
        let mut room = ["a", "b", "c", "d", "e"].map(|n| speaker(n, None, now));
        room[1].camera = false;
        room[2].camera = false;
        assert_eq!(
            cameras_for(&room[0].peer, None, &room, 2),
            None,
            "d and e: room for both"
        );
        let chosen = cameras_for(&room[4].peer, None, &room, 1).unwrap();
        assert_eq!(names(&chosen), ["a"]);
    }

    #[test]
    fn a_pinned_camera_comes_first_then_presenters_then_speakers() {
        let now = Instant::now();
        let mut room = [
            speaker("a", None, now),
            speaker("b", Some(10), now),
            speaker("c", None, now),
            speaker("d", None, now),
            speaker("e", Some(20), now),
        ];
        room[3].presenting = true;
        let d_then_b = cameras_for(&room[0].peer, None, &room, 2).unwrap();
        assert_eq!(
            names(&d_then_b),
            ["b", "d"],
            "the presenter before the speaker"
        );
        let pinned = room[2].peer.clone();
        let chosen = cameras_for(&room[0].peer, Some(&pinned), &room, 2).unwrap();
        assert_eq!(names(&chosen), ["c", "d"], "c pinned, then the presenter");
        // Only the viewer's own pin counts, and a pin on a camera that is off takes no place.
        let others = cameras_for(&room[1].peer, None, &room, 2).unwrap();
        assert_eq!(names(&others), ["d", "e"]);
        room[2].camera = false;
        let chosen = cameras_for(&room[0].peer, Some(&pinned), &room, 2).unwrap();
        assert_eq!(names(&chosen), ["b", "d"]);
    }
}
