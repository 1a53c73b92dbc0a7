//! Which connection serves which seat, and what a held seat missed. A connection keeps the id
//! it started with; after a `resume` it serves another seat (an alias). Messages for a seat
//! that is held are parked, up to a limit, and handed over when it is resumed here. Generic over
//! the frame type, so it is tested without sockets.

use std::collections::HashMap;

use noom_shared::PeerId;

#[derive(Debug)]
pub struct Routes<F> {
    /// Connection id → the seat it took by `resume`.
    aliases: HashMap<PeerId, PeerId>,
    /// Frames for held seats, oldest first.
    parked: HashMap<PeerId, Vec<F>>,
    parked_limit: usize,
}

impl<F> Routes<F> {
    /// At most `parked_limit` frames are kept for each held seat.
    pub fn new(parked_limit: usize) -> Self {
        Self {
            aliases: HashMap::new(),
            parked: HashMap::new(),
            parked_limit,
        }
    }

    /// The seat the connection that started as `conn` serves now.
    pub fn seat_of(&self, conn: &PeerId) -> PeerId {
        self.aliases.get(conn).unwrap_or(conn).clone()
    }

    /// The connection that started as `conn` is gone.
    pub fn forget(&mut self, conn: &PeerId) {
        self.aliases.remove(conn);
    }

    /// `seat` is held: park what comes for it from now on.
    pub fn hold(&mut self, seat: &PeerId) {
        self.parked.insert(seat.clone(), Vec::new());
    }

    /// Keeps `frame` for the held `seat`; false if the seat is not held (or its limit is
    /// reached), and the frame is dropped.
    pub fn park(&mut self, seat: &PeerId, frame: F) -> bool {
        match self.parked.get_mut(seat) {
            Some(missed) if missed.len() < self.parked_limit => {
                missed.push(frame);
                true
            }
            _ => false,
        }
    }

    /// Drops the parked frames of seats that are no longer held.
    pub fn release_unheld(&mut self, is_held: impl Fn(&PeerId) -> bool) {
        self.parked.retain(|seat, _| is_held(seat));
    }

    /// The connection that started as `conn` now serves `seat`: what the seat missed.
    pub fn resumed_here(&mut self, conn: &PeerId, seat: &PeerId) -> Vec<F> {
        self.aliases.insert(conn.clone(), seat.clone());
        self.parked.remove(seat).unwrap_or_default()
    }

    /// `seat` was resumed on another node: nothing parked here will be delivered.
    pub fn resumed_elsewhere(&mut self, seat: &PeerId) {
        self.parked.remove(seat);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn id(s: &str) -> PeerId {
        PeerId::new(s).unwrap()
    }

    #[test]
    fn a_held_seat_parks_up_to_its_limit_and_hands_over_on_resume() {
        let mut routes = Routes::new(2);
        assert!(!routes.park(&id("a"), 1), "not held: dropped");
        routes.hold(&id("a"));
        assert!(routes.park(&id("a"), 1));
        assert!(routes.park(&id("a"), 2));
        assert!(!routes.park(&id("a"), 3), "over the limit: dropped");
        assert_eq!(routes.resumed_here(&id("c"), &id("a")), vec![1, 2]);
        assert_eq!(routes.seat_of(&id("c")), id("a"));
        assert_eq!(routes.seat_of(&id("a")), id("a"));
        assert!(!routes.park(&id("a"), 4), "resumed: no longer parked");
        routes.forget(&id("c"));
        assert_eq!(routes.seat_of(&id("c")), id("c"));
    }

    #[test]
    fn parked_frames_go_when_the_seat_is_released_or_resumed_elsewhere() {
        let mut routes = Routes::new(8);
        routes.hold(&id("a"));
        routes.hold(&id("b"));
        routes.park(&id("a"), "x");
        routes.park(&id("b"), "y");
        routes.release_unheld(|seat| seat == &id("b"));
        routes.resumed_elsewhere(&id("b"));
        assert!(routes.resumed_here(&id("c"), &id("a")).is_empty());
        assert!(routes.resumed_here(&id("d"), &id("b")).is_empty());
    }
}
