//! A connection's outgoing queue: bounded in messages and in bytes, never waited on by the
//! sender, and holding memory only while it holds messages. tokio's bounded channel allocates
//! a block of 32 slots up front (1.8 KiB for `Message`), which was a quarter of what an idle
//! connection cost; this one is a `VecDeque` behind a mutex that is held for a push or a pop.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

/// What became of a message offered to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Enqueued {
    Queued,
    /// The receiver is gone.
    Closed,
    /// The queue is full, in messages or in bytes: its connection is too slow.
    Full,
}

/// The sending side; clones share the queue. When the last is dropped the receiver gets
/// `None` once the queue is empty.
#[derive(Debug)]
pub(crate) struct QueueSender {
    shared: Arc<Shared>,
}

/// The receiving side (one per queue); dropping it closes the queue.
#[derive(Debug)]
pub(crate) struct QueueReceiver {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    max_messages: usize,
    max_bytes: usize,
    state: Mutex<State>,
    /// Wakes the receiver when a message arrives or the last sender goes.
    ready: Notify,
    senders: AtomicUsize,
}

#[derive(Debug, Default)]
struct State {
    messages: VecDeque<Message>,
    bytes: usize,
    receiver_gone: bool,
}

/// A queue for at most `max_messages` messages and `max_bytes` bytes of them at once.
pub(crate) fn send_queue(max_messages: usize, max_bytes: usize) -> (QueueSender, QueueReceiver) {
    let shared = Arc::new(Shared {
        max_messages: max_messages.max(1),
        max_bytes,
        state: Mutex::default(),
        ready: Notify::new(),
        senders: AtomicUsize::new(1),
    });
    (
        QueueSender {
            shared: shared.clone(),
        },
        QueueReceiver { shared },
    )
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl QueueSender {
    /// Queues `message` if there is room for it, in messages and in bytes.
    pub(crate) fn try_send(&self, message: Message) -> Enqueued {
        let mut state = self.shared.state();
        if state.receiver_gone {
            return Enqueued::Closed;
        }
        let size = message.len();
        if state.messages.len() >= self.shared.max_messages
            || state.bytes + size > self.shared.max_bytes
        {
            return Enqueued::Full;
        }
        state.bytes += size;
        state.messages.push_back(message);
        drop(state);
        self.shared.ready.notify_one();
        Enqueued::Queued
    }

    /// Messages waiting now.
    pub(crate) fn len(&self) -> usize {
        self.shared.state().messages.len()
    }
}

impl Clone for QueueSender {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for QueueSender {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.ready.notify_one();
        }
    }
}

impl QueueReceiver {
    /// The next message, waiting for one; `None` once every sender is gone and the queue is
    /// empty.
    pub(crate) async fn recv(&mut self) -> Option<Message> {
        loop {
            if let Some(message) = self.try_recv() {
                return Some(message);
            }
            if self.shared.senders.load(Ordering::Acquire) == 0 {
                // A last message may have come just before the last sender went.
                return self.try_recv();
            }
            self.shared.ready.notified().await;
        }
    }

    /// The next message, if one is waiting.
    pub(crate) fn try_recv(&mut self) -> Option<Message> {
        let mut state = self.shared.state();
        let message = state.messages.pop_front()?;
        state.bytes -= message.len();
        if state.messages.is_empty() {
            // Most connections are idle most of the time: a drained queue holds nothing.
            state.messages = VecDeque::new();
        }
        Some(message)
    }
}

impl Drop for QueueReceiver {
    fn drop(&mut self) {
        let mut state = self.shared.state();
        state.receiver_gone = true;
        state.messages = VecDeque::new();
        state.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_in_messages_and_bytes_and_closed_from_either_end() {
        let (sender, mut receiver) = send_queue(3, 10);
        assert_eq!(sender.try_send(Message::text("12345")), Enqueued::Queued);
        assert_eq!(
            sender.try_send(Message::text("123456")),
            Enqueued::Full,
            "11 bytes"
        );
        assert_eq!(sender.try_send(Message::text("1234")), Enqueued::Queued);
        assert_eq!(sender.try_send(Message::text("")), Enqueued::Queued);
        assert_eq!(
            sender.try_send(Message::text("")),
            Enqueued::Full,
            "4 messages"
        );
        assert_eq!(sender.len(), 3);
        assert_eq!(receiver.recv().await, Some(Message::text("12345")));
        assert_eq!(
            sender.try_send(Message::text("12345")),
            Enqueued::Queued,
            "room again"
        );

        let other = sender.clone();
        drop(sender);
        assert!(
            receiver.try_recv().is_some(),
            "still open: a sender is left"
        );
        drop(other);
        assert!(
            receiver.recv().await.is_some(),
            "what was queued still arrives"
        );
        assert!(receiver.recv().await.is_some());
        assert_eq!(receiver.recv().await, None, "then the end");

        let (sender, receiver) = send_queue(3, 10);
        drop(receiver);
        assert_eq!(sender.try_send(Message::text("x")), Enqueued::Closed);
    }

    #[tokio::test]
    async fn a_waiting_receiver_wakes_for_a_message_and_for_the_end() {
        let (sender, mut receiver) = send_queue(8, 1024);
        let waiting = tokio::spawn(async move {
            let first = receiver.recv().await;
            let end = receiver.recv().await;
            (first, end)
        });
        tokio::task::yield_now().await;
        sender.try_send(Message::text("hello"));
        drop(sender);
        let (first, end) = waiting.await.unwrap();
        assert_eq!((first, end), (Some(Message::text("hello")), None));
    }

    #[test]
    fn a_drained_queue_holds_nothing() {
        let (sender, mut receiver) = send_queue(256, usize::MAX);
        for _ in 0..100 {
            sender.try_send(Message::text("x"));
        }
        while receiver.try_recv().is_some() {}
        assert_eq!(sender.shared.state().messages.capacity(), 0);
    }
}
