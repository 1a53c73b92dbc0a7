//! The WebSocket to the server at `/ws`, speaking protocol v1 (`noom-shared`).
//!
//! [`Signaling::connect`] opens the socket and starts two local tasks: a writer fed by an
//! unbounded queue, so sending never waits, and a reader that decodes each frame and hands it to
//! the caller's handler in arrival order. [`Signaling::close`] closes the socket, which the server
//! treats as `leave`.

use futures_channel::mpsc::{UnboundedSender, unbounded};
use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use noom_shared::{ClientMessage, Envelope, ServerMessage};
use wasm_bindgen_futures::spawn_local;

/// A handle to the open socket; clones share it.
#[derive(Clone)]
pub struct Signaling {
    outgoing: UnboundedSender<ClientMessage>,
}

impl Signaling {
    /// Opens `ws(s)://<this host>/ws`. `on_message` receives every decoded server message;
    /// `on_closed` runs once when the socket ends for any reason other than [`Signaling::close`].
    pub fn connect(
        mut on_message: impl FnMut(ServerMessage) + 'static,
        on_closed: impl FnOnce() + 'static,
    ) -> Result<Self, String> {
        let socket = WebSocket::open(&socket_url()?).map_err(|err| err.to_string())?;
        let (mut sink, mut stream) = socket.split();
        let (outgoing, mut queue) = unbounded::<ClientMessage>();

        spawn_local(async move {
            while let Some(message) = queue.next().await {
                if sink
                    .send(Message::Text(Envelope::new(message).encode()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            // The queue was closed by `close`: close the socket too.
            let _ = sink.close().await;
        });

        let closer = outgoing.clone();
        spawn_local(async move {
            while let Some(Ok(frame)) = stream.next().await {
                let Message::Text(text) = frame else { continue };
                match Envelope::<ServerMessage>::decode(&text) {
                    Ok(envelope) => on_message(envelope.message),
                    Err(err) => leptos::logging::warn!("undecodable server frame: {err}"),
                }
            }
            if !closer.is_closed() {
                closer.close_channel();
                on_closed();
            }
        });

        Ok(Self { outgoing })
    }

    /// Queues a message; after [`Signaling::close`] it is dropped.
    pub fn send(&self, message: ClientMessage) {
        let _ = self.outgoing.unbounded_send(message);
    }

    /// Closes the socket. Nothing more is sent, and `on_closed` does not run.
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
