//! Which connection serves which seat, and what a held seat missed. A connection keeps the id
//! it started with; after a `resume` it serves another seat (an alias). Messages for a seat
//! that is held are parked, up to a count and a size, and handed over when it is resumed here. Generic over
//! the frame type, so it is tested without sockets.

use std::collections::HashMap;

use noom_shared::PeerId;

#[derive(Debug)]
pub struct Routes<F> {
    /// Connection id → the seat it took by `resume`.
    aliases: HashMap<PeerId, PeerId>,
    /// Frames for held seats, oldest first, and their total size.
    parked: HashMap<PeerId, (Vec<F>, usize)>,
    parked_limit: usize,
    parked_bytes: usize,
    size_of: fn(&F) -> usize,
}

impl<F> Routes<F> {
    /// At most `parked_limit` frames, and `parked_bytes` of them by `size_of`, are kept for
    /// each held seat.
    pub fn new(parked_limit: usize, parked_bytes: usize, size_of: fn(&F) -> usize) -> Self {
        Self {
            aliases: HashMap::new(),
            parked: HashMap::new(),
            parked_limit,
            parked_bytes,
            size_of,
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
        self.parked.insert(seat.clone(), (Vec::new(), 0));
    }

    /// Keeps `frame` for the held `seat`; false if the seat is not held (or its limits are
    /// reached), and the frame is dropped.
    pub fn park(&mut self, seat: &PeerId, frame: F) -> bool {
        let size = (self.size_of)(&frame);
        match self.parked.get_mut(seat) {
            Some((missed, bytes))
                if missed.len() < self.parked_limit && *bytes + size <= self.parked_bytes =>
            {
                missed.push(frame);
                *bytes += size;
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
        self.parked
            .remove(seat)
            .map(|(missed, _)| missed)
            .unwrap_or_default()
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
        let mut routes = Routes::new(2, usize::MAX, |_: &i32| 1);
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
    fn a_held_seat_parks_up_to_its_size() {
        let mut routes = Routes::new(100, 10, |s: &String| s.len());
        routes.hold(&id("a"));
        assert!(routes.park(&id("a"), "123456".to_owned()));
        assert!(
            !routes.park(&id("a"), "12345".to_owned()),
            "11 bytes over 10"
        );
        assert!(routes.park(&id("a"), "1234".to_owned()));
        assert_eq!(routes.resumed_here(&id("c"), &id("a")).len(), 2);
    }

    #[test]
    fn parked_frames_go_when_the_seat_is_released_or_resumed_elsewhere() {
        let mut routes = Routes::new(8, usize::MAX, |s: &&str| s.len());
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
