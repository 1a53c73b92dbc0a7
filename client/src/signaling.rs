//! The WebSocket to the server at `/ws`, speaking protocol v1 (`noom-shared`).
//!
//! [`Signaling::connect`] opens the socket and starts one local task that owns it: it writes what
//! an unbounded queue brings, so sending never waits, and hands each decoded frame to the
//! caller's handler in arrival order. [`Signaling::close`] ends the queue; the task then drops
//! the socket, which closes it, and the server treats that as `leave`.

use futures_channel::mpsc::{UnboundedSender, unbounded};
use futures_util::future::{Either, select};
use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::Message;
use gloo_net::websocket::WebSocketError::{ConnectionClose, ConnectionError};
use gloo_net::websocket::futures::WebSocket;
use noom_shared::{ClientMessage, Envelope, ServerMessage};
use wasm_bindgen_futures::spawn_local;

/// How a socket ended, when it was not closed by us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// It broke without a close frame (network drop: the server may hold our seat), or the
    /// server went away (1001: shutting down, or it stopped hearing us). Worth trying again.
    Dropped,
    /// The server closed it for cause (1008 abuse, 1009 too large): another try would end the
    /// same way.
    Refused,
}

/// The close code a server sends when it stops or stops hearing us.
const GOING_AWAY: u16 = 1001;

/// A handle to the open socket; clones share it.
#[derive(Clone)]
pub struct Signaling {
    outgoing: UnboundedSender<ClientMessage>,
}

impl Signaling {
    /// Opens `ws(s)://<this host>/ws`. `on_message` receives every decoded server message;
    /// `on_ended` runs once when the socket ends for any reason other than [`Signaling::close`].
    pub fn connect(
        mut on_message: impl FnMut(ServerMessage) + 'static,
        on_ended: impl FnOnce(Ending) + 'static,
    ) -> Result<Self, String> {
        let socket = WebSocket::open(&socket_url()?).map_err(|err| err.to_string())?;
        let (outgoing, mut queue) = unbounded::<ClientMessage>();

        spawn_local(async move {
            let (mut sink, mut stream) = socket.split();
            let ending = loop {
                match select(queue.next(), stream.next()).await {
                    Either::Left((Some(message), _)) => {
                        let frame = Message::Text(Envelope::new(message).encode());
                        if sink.send(frame).await.is_err() {
                            break Some(Ending::Dropped);
                        }
                    }
                    // `close` was called.
                    Either::Left((None, _)) => break None,
                    Either::Right((Some(Ok(Message::Text(text))), _)) => {
                        match Envelope::<ServerMessage>::decode(&text) {
                            Ok(envelope) => on_message(envelope.message),
                            Err(err) => leptos::logging::warn!("undecodable server frame: {err}"),
                        }
                    }
                    // Binary frames are not protocol; after an `error` event comes the `close`
                    // event that tells how the socket ended.
                    Either::Right((
                        Some(Ok(Message::Bytes(_))) | Some(Err(ConnectionError)),
                        _,
                    )) => {}
                    Either::Right((Some(Err(ConnectionClose(event))), _)) => {
                        break Some(if event.was_clean && event.code != GOING_AWAY {
                            Ending::Refused
                        } else {
                            Ending::Dropped
                        });
                    }
                    Either::Right((Some(Err(_)) | None, _)) => {
                        break Some(Ending::Dropped);
                    }
                }
            };
            // Dropping both halves closes the socket (gloo-net closes on drop).
            drop((sink, stream));
            if let Some(ending) = ending {
                on_ended(ending);
            }
        });

        Ok(Self { outgoing })
    }

    /// Queues a message; after [`Signaling::close`] it is dropped.
    pub fn send(&self, message: ClientMessage) {
        let _ = self.outgoing.unbounded_send(message);
    }

    /// Closes the socket. Nothing more is sent, and `on_ended` does not run.
    pub fn close(&self) {
        self.outgoing.close_channel();
    }
}

/// The signaling URL on the host that served the page.
fn socket_url() -> Result<String, String> {
    let location = web_sys::window().ok_or("no window")?.location();
    let host = location.host().map_err(|_| "no host")?;
    let secure = location.protocol().is_ok_and(|p| p == "https:");
    Ok(format!("{}://{host}/ws", if secure { "wss" } else { "ws" }))
}
