//! The lobby's room list is kept by applying `rooms_changed` pushes: whatever two lists are,
//! the changes between them turn one into the other, and applying them twice does no harm.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use noom_shared::testing::Dice;
use noom_shared::*;

/// A sorted list of some of 12 rooms, with counts from 1 to 3.
fn some_rooms(dice: &mut Dice) -> Rooms {
    let mut rooms = Vec::new();
    for n in 0..12 {
        if dice.roll(2) == 0 {
            rooms.push(RoomInfo {
                name: RoomName::new(&format!("room-{n:02}")).unwrap(),
                participants: 1 + dice.roll(3) as u32,
                locked: false,
            });
        }
    }
    Rooms { rooms }
}

#[test]
fn the_changes_between_two_lists_turn_one_into_the_other() {
    let mut dice = Dice(0x5eed_2026);
    for _ in 0..2_000 {
        let (before, after) = (some_rooms(&mut dice), some_rooms(&mut dice));
        let Some(changes) = after.changes_since(&before) else {
            assert_eq!(before, after, "no changes only between equal lists");
            continue;
        };
        let mut seen = before.clone();
        seen.apply(&changes);
        assert_eq!(seen, after, "{before:?} -> {after:?} by {changes:?}");
        seen.apply(&changes);
        assert_eq!(seen, after, "applying twice");
        let names = |rooms: &[RoomInfo]| rooms.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
        assert!(names(&changes.rooms).is_sorted() && changes.removed.is_sorted());
        for n in 0..12 {
            let name = RoomName::new(&format!("room-{n:02}")).unwrap();
            let count = |rooms: &Rooms| {
                rooms
                    .rooms
                    .iter()
                    .find(|r| r.name == name)
                    .map_or(0, |r| r.participants)
            };
            let told = changes.count_of(&name);
            assert_eq!(told.unwrap_or(count(&before)), count(&after), "{name}");
        }
    }
}
