//! One WebSocket connection, in one task: a reader, and beside it a writer fed by a bounded
//! queue.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use noom_shared::{ClientMessage, Envelope, ErrorCode, Message as _, PeerId};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::Config;
use crate::admin::AdminEvent;
use crate::admission::SharedLimiter;
use crate::ids::new_peer_id;
use crate::rate::{Limits, RateLimiter, Verdict};
use crate::send_queue::{QueueReceiver, send_queue};
use crate::switchboard::{ConnHandle, EndedBy, Switchboard};

/// Why a connection ended, and so which close frame (if any) it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The client closed the connection (a close frame): it left.
    Closed,
    /// The socket broke without a close frame: the client may come back to `resume`.
    Lost,
    /// Nothing heard for the idle timeout.
    Silent,
    /// Its queue filled up: the writer is stuck, so no close frame can be sent.
    TooSlow,
    /// A newer connection resumed this one's seat.
    Replaced,
    TooLarge,
    Abusive,
    /// An administrator disconnected it: it leaves its room at once.
    Removed,
    /// It broke the WebSocket protocol: a client that does that is broken, not cut off, so
    /// its seat is not held.
    BrokenFrames,
    /// A text frame that is not UTF-8.
    InvalidText,
    ServerStopping,
}

impl From<EndedBy> for Ending {
    fn from(why: EndedBy) -> Self {
        match why {
            EndedBy::TooSlow => Self::TooSlow,
            EndedBy::Replaced => Self::Replaced,
            EndedBy::Removed => Self::Removed,
            EndedBy::Silence => Self::Silent,
        }
    }
}

impl Ending {
    fn close_frame(self) -> Option<CloseFrame> {
        let (code, reason) = match self {
            Ending::Closed | Ending::Lost | Ending::TooSlow => return None,
            Ending::Silent => (CloseCode::Away, "no ping answered"),
            Ending::Replaced => (CloseCode::Away, "resumed on a newer connection"),
            Ending::TooLarge => (CloseCode::Size, "message too large"),
            Ending::Abusive => (CloseCode::Policy, "rate limit exceeded"),
            Ending::Removed => (CloseCode::Policy, "disconnected by an administrator"),
            Ending::BrokenFrames => (CloseCode::Protocol, "WebSocket protocol error"),
            Ending::InvalidText => (CloseCode::Invalid, "text frames must be UTF-8"),
            Ending::ServerStopping => (CloseCode::Away, "server shutting down"),
        };
        Some(CloseFrame {
            code,
            reason: reason.into(),
        })
    }
}

/// Runs one connection, given its socket's two halves, until it ends, then removes it from its
/// room. (Not an `async fn`, for the reason given at [`write_loop`].)
#[allow(clippy::manual_async_fn)]
pub(crate) fn serve<W, R>(
    (sink, mut stream): (W, R),
    board: Arc<Switchboard>,
    config: Arc<Config>,
    shutdown: CancellationToken,
    ip: Option<IpAddr>,
    address_limiter: Option<SharedLimiter>,
) -> impl Future<Output = ()>
where
    W: Sink<Message, Error = WsError> + Unpin,
    R: Stream<Item = Result<Message, WsError>> + Unpin,
{
    async move {
        let peer = new_peer_id();
        let (queue, outbox) = send_queue(config.send_queue, config.send_queue_bytes);
        let handle = ConnHandle::new(queue, ip);
        board.connect(peer.clone(), handle.clone());
        debug!(peer = %peer, "connected");
        // The writer runs beside the reader in this one task (a task of its own cost an idle
        // connection 0.3 KiB); it ends first only when the socket can no longer be written to.
        let writer = write_loop(sink, outbox);
        tokio::pin!(writer);
        let own = RateLimiter::new(config.rate_limit, config.rate_burst, Instant::now());
        let limits = Limits::new(own, address_limiter);
        let (ending, writer_ended) = tokio::select! {
            ending = read_loop(&mut stream, &peer, &board, &handle, &shutdown, limits) => {
                (ending, false)
            }
            () = &mut writer => (Ending::Lost, true),
        };

        // A socket that broke keeps its seat for a while, for the client to come back. So does one
        // closed because the server stops: its room is not told that everyone leaves, since they
        // all come back (to this server restarted, or to another node). Any other ending (closed,
        // silent for the whole idle timeout, too slow, refused) leaves at once.
        match ending {
            // Its seat now belongs to the newer connection.
            Ending::Replaced => board.replaced(&peer),
            _ => board.disconnect(
                &peer,
                matches!(ending, Ending::Lost | Ending::ServerStopping),
            ),
        }
        // A connection too slow to take its queue gets no close frame: its writer is dropped.
        if ending != Ending::TooSlow && !writer_ended {
            if let Some(frame) = ending.close_frame() {
                let _ = handle.enqueue(Message::Close(Some(frame)));
            }
            drop(handle);
            let _ = timeout(Duration::from_secs(2), writer).await;
        }
        match ending {
            Ending::Closed | Ending::Lost | Ending::ServerStopping => {
                debug!(peer = %peer, ?ending, "disconnected");
            }
            _ => info!(peer = %peer, ?ending, "dropped connection"),
        }
    }
}

/// Reads and handles the client's frames until the connection ends, and says how. (Not an
/// `async fn`: see [`write_loop`].)
#[allow(clippy::manual_async_fn)]
fn read_loop<S>(
    stream: &mut S,
    peer: &PeerId,
    board: &Switchboard,
    conn: &ConnHandle,
    shutdown: &CancellationToken,
    mut limits: Limits,
) -> impl Future<Output = Ending>
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    async move {
        let metrics = board.metrics();
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => return Ending::ServerStopping,
                why = conn.state.ended() => return Ending::from(why),
                next = stream.next() => next,
            };
            conn.state.heard();
            let message = match next {
                None => return Ending::Lost,
                Some(Err(WsError::Capacity(_))) => {
                    board.reply_error(peer, None, ErrorCode::TooLarge, "message too large");
                    return Ending::TooLarge;
                }
                // A reset is a network loss; any other broken frame is the client's fault.
                Some(Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake))) => {
                    return Ending::Lost;
                }
                Some(Err(WsError::Protocol(err))) => {
                    debug!(peer = %peer, cause = %err, "protocol error");
                    return Ending::BrokenFrames;
                }
                Some(Err(WsError::Utf8(_))) => return Ending::InvalidText,
                Some(Err(err)) => {
                    debug!(peer = %peer, cause = %err, "read failed");
                    return Ending::Lost;
                }
                Some(Ok(message)) => message,
            };
            let text = match message {
                Message::Text(text) => text,
                Message::Binary(_) => {
                    if limits.check(Instant::now()) == Verdict::Allow {
                        board.reply_error(
                            peer,
                            None,
                            ErrorCode::BadMessage,
                            "binary frames are not supported",
                        );
                    }
                    continue;
                }
                Message::Close(_) => return Ending::Closed,
                // Pings cost a pong each: they count like any message, without an error reply.
                Message::Ping(_) | Message::Pong(_) => {
                    if limits.check(Instant::now()) == Verdict::Abuse {
                        metrics.rate_limited();
                        return Ending::Abusive;
                    }
                    continue;
                }
                Message::Frame(_) => continue,
            };
            match limits.check(Instant::now()) {
                Verdict::Allow => {}
                Verdict::Limit { first_in_streak } => {
                    metrics.rate_limited();
                    if first_in_streak {
                        board.event(AdminEvent::new("rate_limited", Some(peer)));
                        board.reply_error(
                            peer,
                            None,
                            ErrorCode::RateLimited,
                            "slow down: too many messages",
                        );
                    }
                    continue;
                }
                Verdict::Abuse => {
                    metrics.rate_limited();
                    return Ending::Abusive;
                }
            }
            match Envelope::<ClientMessage>::decode(&text) {
                Ok(envelope) => {
                    metrics.received(envelope.message.kind());
                    conn.state.received.fetch_add(1, Relaxed);
                    if let Some(work) = board.handle(peer, envelope) {
                        board.finish(work).await;
                    }
                }
                Err(err) => {
                    metrics.received("invalid");
                    board.reply_error(peer, err.id, err.code, &err.message);
                }
            }
        }
    }
}

/// Writes queued messages (pings among them: see `Switchboard::tick`), batching whatever is
/// ready into one flush. A plain function around an `async` block: an `async fn` would keep
/// its arguments twice in its state, once as given and once moved into the body, for the
/// connection's whole life (rust-lang/rust#62958).
#[allow(clippy::manual_async_fn)]
fn write_loop<S>(mut sink: S, mut queued: QueueReceiver) -> impl Future<Output = ()>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    async move {
        while let Some(mut message) = queued.recv().await {
            loop {
                let closing = matches!(message, Message::Close(_));
                for frame in frames_of(message) {
                    if sink.feed(frame).await.is_err() {
                        return;
                    }
                }
                if closing {
                    let _ = timeout(Duration::from_secs(1), sink.close()).await;
                    return;
                }
                match queued.try_recv() {
                    Some(next) => message = next,
                    None => break,
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
        let _ = timeout(Duration::from_secs(1), sink.close()).await;
    }
}

/// Text messages longer than this go out in several frames. tungstenite formats each frame into
/// a per-connection buffer that keeps its largest size for the life of the connection, so every
/// lobby client that once received a 25 KiB room list (500 rooms) would hold 25 KiB; fragments
/// cap that at this size. Browsers reassemble fragmented messages themselves.
const MAX_FRAGMENT_BYTES: usize = 4 * 1024;

/// The frames that carry `message`: a long text is fragmented (see [`MAX_FRAGMENT_BYTES`]).
fn frames_of(message: Message) -> Frames {
    match message {
        Message::Text(text) if text.len() > MAX_FRAGMENT_BYTES => {
            Frames::Fragments(fragments(text.into()).into_iter())
        }
        message => Frames::Whole(Some(message)),
    }
}

/// [`frames_of`]'s answer, without an allocation for the usual message of one frame.
enum Frames {
    Whole(Option<Message>),
    Fragments(std::vec::IntoIter<Message>),
}

impl Iterator for Frames {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        match self {
            Self::Whole(message) => message.take(),
            Self::Fragments(frames) => frames.next(),
        }
    }
}

/// A text message as a first frame and continuation frames of at most [`MAX_FRAGMENT_BYTES`],
/// sharing the message's bytes. A fragment may end inside a UTF-8 sequence: only the whole
/// message has to be valid (RFC 6455, section 5.6).
fn fragments(text: Bytes) -> Vec<Message> {
    let count = text.len().div_ceil(MAX_FRAGMENT_BYTES);
    (0..count)
        .map(|index| {
            let start = index * MAX_FRAGMENT_BYTES;
            let chunk = text.slice(start..(start + MAX_FRAGMENT_BYTES).min(text.len()));
            let opcode = if index == 0 {
                Data::Text
            } else {
                Data::Continue
            };
            Message::Frame(Frame::message(
                chunk,
                OpCode::Data(opcode),
                index + 1 == count,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_fragmented_and_reassemble() {
        let text = "é".repeat(5_000); // 10,000 bytes, cut inside a character at 4,096
        let frames = fragments(Bytes::from(text.clone()));
        assert_eq!(frames.len(), 3);
        let mut joined = Vec::new();
        for (index, frame) in frames.into_iter().enumerate() {
            let Message::Frame(frame) = frame else {
                panic!("expected a raw frame")
            };
            let header = frame.header();
            let expected = if index == 0 {
                Data::Text
            } else {
                Data::Continue
            };
            assert_eq!(header.opcode, OpCode::Data(expected));
            assert_eq!(header.is_final, index == 2);
            joined.extend_from_slice(frame.payload());
        }
        assert_eq!(joined, text.as_bytes());
    }
}
