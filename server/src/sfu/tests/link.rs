//! A bottleneck in front of a test client: what the server sends it queues and leaves at the
//! link's rate, and what does not fit the queue is lost, as on a slow downlink.

use std::collections::VecDeque;
use std::time::Duration;

use str0m::net::Transmit;

/// The most a link's queue holds: 100 ms at 1 Mbit/s, a modest router buffer.
const QUEUE_BYTES: usize = 12_500;

#[derive(Debug)]
pub(super) struct Link {
    kbps: u64,
    queue: VecDeque<Transmit>,
    queued: usize,
    /// Bytes it may still send in the current tick (carried over from the last).
    credit: u64,
    pub(super) dropped: usize,
}

impl Link {
    pub(super) fn new(kbps: u64) -> Self {
        Self {
            kbps,
            queue: VecDeque::new(),
            queued: 0,
            credit: 0,
            dropped: 0,
        }
    }

    pub(super) fn set_kbps(&mut self, kbps: u64) {
        self.kbps = kbps;
    }

    pub(super) fn enqueue(&mut self, transmit: Transmit) {
        if self.queued + transmit.contents.len() > QUEUE_BYTES {
            self.dropped += 1;
            return;
        }
        self.queued += transmit.contents.len();
        self.queue.push_back(transmit);
    }

    /// What leaves the link in `tick`.
    pub(super) fn release(&mut self, tick: Duration) -> Vec<Transmit> {
        let tick_micros = u64::try_from(tick.as_micros()).unwrap_or(u64::MAX);
        self.credit += self.kbps * tick_micros / 8_000;
        let mut out = Vec::new();
        while let Some(next) = self.queue.front() {
            let len = next.contents.len() as u64;
            if len > self.credit {
                break;
            }
            self.credit -= len;
            self.queued -= next.contents.len();
            out.extend(self.queue.pop_front());
        }
        if self.queue.is_empty() {
            // An idle link saves up no more than one packet's worth.
            self.credit = self.credit.min(1_500);
        }
        out
    }
}
