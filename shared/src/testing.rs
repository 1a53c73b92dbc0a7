//! For tests of the protocol and of the server: a tiny deterministic generator (xorshift64),
//! so that a failing random sequence replays from its seed. Not part of the protocol.

pub struct Dice(pub u64);

impl Dice {
    /// A number in `0..sides` (0 when `sides` is 0).
    pub fn roll(&mut self, sides: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % sides.max(1) as u64) as usize
    }

    /// One of `items`, if there are any.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.roll(items.len())])
    }
}
