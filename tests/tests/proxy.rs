//! Behind a reverse proxy on another machine (`--trust-proxy-header`): every connection comes
//! from the proxy's address, and the per-address caps apply to the clients it names.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::net::{IpAddr, SocketAddr};

use noom_server::Config;
use noom_tests::TestServer;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::{Error as WsError, http::HeaderValue};

const PROXY: &str = "127.0.0.9";

/// Opens a WebSocket from the proxy's address for the client `forwarded_for` names; `Err`
/// holds the HTTP status of a refused handshake.
async fn through_proxy(
    server: SocketAddr,
    forwarded_for: &'static str,
) -> Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, Option<StatusCode>> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(PROXY.parse::<IpAddr>().unwrap(), 0))
        .unwrap();
    let tcp = socket.connect(server).await.unwrap();
    let mut request = format!("ws://{server}/ws").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("x-forwarded-for", HeaderValue::from_static(forwarded_for));
    match tokio_tungstenite::client_async(request, tcp).await {
        Ok((socket, _)) => Ok(socket),
        Err(WsError::Http(response)) => Err(Some(response.status())),
        Err(_) => Err(None),
    }
}

#[tokio::test]
async fn the_per_address_cap_counts_the_clients_a_trusted_proxy_names() {
    let server = TestServer::with_config(Config {
        max_connections_per_ip: 1,
        trust_proxy_header: Some("x-forwarded-for".parse().unwrap()),
        ..Config::default()
    })
    .await;
    // The client may claim anything on the left; the proxy's own entry is the last.
    let first = through_proxy(server.addr, "10.9.9.9, 198.51.100.1").await;
    assert!(first.is_ok(), "the first client at 198.51.100.1");
    let again = through_proxy(server.addr, "10.9.9.8, 198.51.100.1").await;
    assert_eq!(
        again.err(),
        Some(Some(StatusCode::SERVICE_UNAVAILABLE)),
        "a second connection from the same client is over its cap"
    );
    let other = through_proxy(server.addr, "198.51.100.2").await;
    assert!(
        other.is_ok(),
        "another client through the same proxy connection address gets in"
    );
    drop(first);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        through_proxy(server.addr, "198.51.100.1").await.is_ok(),
        "a closed WebSocket frees its client's place"
    );
}

#[tokio::test]
async fn without_the_flag_the_header_is_ignored() {
    let server = TestServer::with_config(Config {
        max_connections_per_ip: 1,
        ..Config::default()
    })
    .await;
    let _first = through_proxy(server.addr, "198.51.100.1").await.unwrap();
    // Refused at the TCP accept, before any HTTP: no status at all.
    assert!(
        through_proxy(server.addr, "198.51.100.2").await.is_err(),
        "the header does not make a second client of one address"
    );
}
