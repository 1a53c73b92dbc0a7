//! How the switchboard reaches one connection, and what the connection's reader shares with
//! it: its counts, when it was last heard and pinged, and the one token that ends it (with
//! why).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::atomic::{AtomicU8, AtomicU64};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

use crate::send_queue::{Enqueued, QueueSender};

/// Why a connection was ended from outside its reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndedBy {
    /// Its queue filled up.
    TooSlow = 1,
    /// A newer connection resumed its seat.
    Replaced = 2,
    /// An administrator disconnected it.
    Removed = 3,
    /// Nothing heard from it (no frame, no pong) for the idle timeout.
    Silence = 4,
}

impl EndedBy {
    fn from_u8(value: u8) -> Option<Self> {
        [Self::TooSlow, Self::Replaced, Self::Removed, Self::Silence]
            .into_iter()
            .find(|why| *why as u8 == value)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ConnHandle {
    /// Its outgoing queue, bounded in messages and bytes (`--send-queue`, `--send-queue-bytes`).
    pub(crate) queue: QueueSender,
    /// The client's address, for the caps and the admin view (`--admin-show-ip`).
    pub(crate) ip: Option<IpAddr>,
    pub(crate) state: Arc<ConnState>,
}

/// What a connection's reader and the switchboard share. Ending the connection, for any
/// reason, sets `ended_by` and wakes the reader: it waits on one thing, not one per reason.
#[derive(Debug)]
pub(crate) struct ConnState {
    /// 0 while it runs, then an [`EndedBy`].
    ended_by: AtomicU8,
    ending: Notify,
    pub(crate) since: Instant,
    /// When a frame last came, in ms after `since`.
    heard_ms: AtomicU64,
    /// When the server last pinged it, in ms after `since`.
    pinged_ms: AtomicU64,
    /// Messages from and to it, for the admin view.
    pub(crate) received: AtomicU64,
    pub(crate) sent: AtomicU64,
}

impl ConnHandle {
    /// A connection sending through `queue`.
    pub(crate) fn new(queue: QueueSender, ip: Option<IpAddr>) -> Self {
        Self {
            queue,
            ip,
            state: Arc::new(ConnState {
                ended_by: AtomicU8::new(0),
                ending: Notify::new(),
                since: Instant::now(),
                heard_ms: AtomicU64::new(0),
                pinged_ms: AtomicU64::new(0),
                received: AtomicU64::new(0),
                sent: AtomicU64::new(0),
            }),
        }
    }

    /// Queues `frame` if its queue has room for it, in messages and in bytes.
    pub(crate) fn enqueue(&self, frame: Message) -> Enqueued {
        self.queue.try_send(frame)
    }
}

impl ConnState {
    /// Ends the connection for `why`, unless it was ended already (the first reason stays).
    pub(crate) fn end(&self, why: EndedBy) {
        let first = self
            .ended_by
            .compare_exchange(0, why as u8, AcqRel, Acquire)
            .is_ok();
        if first {
            // Kept as a permit if the reader is not waiting at this moment.
            self.ending.notify_one();
        }
    }

    pub(crate) fn is_ended(&self) -> bool {
        self.ended_by.load(Acquire) != 0
    }

    /// Waits until the connection is ended, and says why.
    pub(crate) async fn ended(&self) -> EndedBy {
        loop {
            if let Some(why) = EndedBy::from_u8(self.ended_by.load(Acquire)) {
                return why;
            }
            self.ending.notified().await;
        }
    }

    /// A frame came just now.
    pub(crate) fn heard(&self) {
        self.heard_ms
            .store(self.since.elapsed().as_millis() as u64, Relaxed);
    }

    /// How long since a frame came (or since it connected).
    pub(crate) fn silent_for(&self) -> Duration {
        let heard = Duration::from_millis(self.heard_ms.load(Relaxed));
        self.since.elapsed().saturating_sub(heard)
    }

    /// Whether a ping is due: nothing heard for `every`, and no ping for as long. If so, the
    /// ping is taken to be sent now.
    pub(crate) fn ping_due(&self, every: Duration) -> bool {
        let now = self.since.elapsed();
        let pinged = Duration::from_millis(self.pinged_ms.load(Relaxed));
        let due = self.silent_for() >= every && now.saturating_sub(pinged) >= every;
        if due {
            self.pinged_ms.store(now.as_millis() as u64, Relaxed);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send_queue::send_queue;

    #[tokio::test]
    async fn the_first_reason_to_end_stays_and_a_waiting_reader_wakes() {
        let (queue, _outbox) = send_queue(4, 1024);
        let conn = ConnHandle::new(queue.clone(), None);
        conn.state.end(EndedBy::Replaced);
        conn.state.end(EndedBy::TooSlow);
        assert_eq!(conn.state.ended().await, EndedBy::Replaced);

        let other = ConnHandle::new(queue, None);
        assert!(!other.state.is_ended());
        let state = other.state.clone();
        let waiting = tokio::spawn(async move { state.ended().await });
        tokio::task::yield_now().await;
        other.state.end(EndedBy::Removed);
        assert_eq!(waiting.await.unwrap(), EndedBy::Removed);
        assert!(other.state.silent_for() < Duration::from_secs(1));
        assert!(
            !other.state.ping_due(Duration::from_secs(60)),
            "just connected"
        );
        assert!(other.state.ping_due(Duration::ZERO));
    }
}
