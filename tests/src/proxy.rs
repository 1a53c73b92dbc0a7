//! A TCP relay in front of a server whose connections can be cut at once, as when a laptop's
//! network drops: both sides see the TCP connection end with no WebSocket close frame.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// Relays every connection to `upstream` until [`CutProxy::cut`].
pub struct CutProxy {
    pub addr: SocketAddr,
    relays: Arc<Mutex<Vec<AbortHandle>>>,
    accept: JoinHandle<()>,
}

impl CutProxy {
    /// Listens on 127.0.0.1 on a free port.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let relays = Arc::new(Mutex::new(Vec::<AbortHandle>::new()));
        let tracked = Arc::clone(&relays);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                let mut relays = tracked.lock().expect("relay list");
                relays.retain(|r| !r.is_finished());
                relays.push(relay.abort_handle());
            }
        });
        Self {
            addr,
            relays,
            accept,
        }
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every connection open now; new ones are relayed as before.
    pub fn cut(&self) {
        for relay in self.relays.lock().expect("relay list").drain(..) {
            relay.abort();
        }
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
