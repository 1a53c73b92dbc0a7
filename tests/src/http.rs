//! A bare HTTP/1.1 client: enough to check status codes and bodies.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::WAIT;

pub struct HttpResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Sends `GET path` with extra header lines (`"Name: value"`) and reads the whole response.
pub async fn get(addr: SocketAddr, path: &str, headers: &[&str]) -> HttpResponse {
    let stream = TcpStream::connect(addr).await.expect("connect");
    get_over(stream, &addr.to_string(), path, headers).await
}

/// Like [`get`], but `None` when the server cannot be reached.
pub async fn try_get(addr: SocketAddr, path: &str) -> Option<HttpResponse> {
    let stream = TcpStream::connect(addr).await.ok()?;
    Some(get_over(stream, &addr.to_string(), path, &[]).await)
}

/// Sends `POST path` with `body` as JSON and reads the whole response.
pub async fn post(addr: SocketAddr, path: &str, headers: &[&str], body: &str) -> HttpResponse {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let request = request_head("POST", &addr.to_string(), path, headers, Some(body));
    exchange(stream, request).await
}

/// Like [`get`], over a connection already made (a TLS stream, say) to `host`.
pub async fn get_over(
    stream: impl AsyncRead + AsyncWrite + Unpin,
    host: &str,
    path: &str,
    headers: &[&str],
) -> HttpResponse {
    exchange(stream, request_head("GET", host, path, headers, None)).await
}

/// A request's text: the head, with `Connection: close`, and the JSON body if any.
pub fn request_head(
    method: &str,
    host: &str,
    path: &str,
    headers: &[&str],
    body: Option<&str>,
) -> String {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    } else {
        request.push_str("\r\n");
    }
    request
}

async fn exchange(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    request: String,
) -> HttpResponse {
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write request");
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .expect("response in time")
        .expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    HttpResponse {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}
