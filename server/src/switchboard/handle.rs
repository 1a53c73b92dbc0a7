//! How the switchboard reaches one connection, and what the connection's tasks share with
//! it: its counts, when it was last heard, and the one token that ends it (with why).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU8, AtomicU64};
use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

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

/// What a connection's reader and the switchboard share. One token ends the connection for
/// any reason (a child of the server's shutdown token, so shutting down ends it too): a
/// connection waits on one thing, not one per reason.
#[derive(Debug)]
pub(crate) struct ConnState {
    end: CancellationToken,
    ended_by: AtomicU8,
    pub(crate) since: Instant,
    /// When a frame last came, in ms after `since`.
    heard_ms: AtomicU64,
    /// Messages from and to it, for the admin view.
    pub(crate) received: AtomicU64,
    pub(crate) sent: AtomicU64,
}

impl ConnHandle {
    /// A connection sending through `queue`, ended by `end` (or whatever cancels its parent).
    pub(crate) fn new(queue: QueueSender, ip: Option<IpAddr>, end: CancellationToken) -> Self {
        Self {
            queue,
            ip,
            state: Arc::new(ConnState {
                end,
                ended_by: AtomicU8::new(0),
                since: Instant::now(),
                heard_ms: AtomicU64::new(0),
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
        let _ = self
            .ended_by
            .compare_exchange(0, why as u8, Relaxed, Relaxed);
        self.end.cancel();
    }

    pub(crate) fn is_ended(&self) -> bool {
        self.end.is_cancelled()
    }

    /// Waits until the connection is ended; then says why (`None`: the server is stopping).
    pub(crate) async fn ended(&self) -> Option<EndedBy> {
        self.end.cancelled().await;
        EndedBy::from_u8(self.ended_by.load(Relaxed))
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send_queue::send_queue;

    #[tokio::test]
    async fn the_first_reason_to_end_stays_and_shutdown_has_none() {
        let shutdown = CancellationToken::new();
        let (queue, _outbox) = send_queue(4, 1024);
        let conn = ConnHandle::new(queue.clone(), None, shutdown.child_token());
        conn.state.end(EndedBy::Replaced);
        conn.state.end(EndedBy::TooSlow);
        assert_eq!(conn.state.ended().await, Some(EndedBy::Replaced));

        let other = ConnHandle::new(queue, None, shutdown.child_token());
        assert!(!other.state.is_ended());
        shutdown.cancel();
        assert_eq!(other.state.ended().await, None, "the server stops");
        assert!(other.state.silent_for() < Duration::from_secs(1));
    }
}
