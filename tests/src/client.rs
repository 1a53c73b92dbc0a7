use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use noom_shared::{
    ClientMessage, Envelope, ErrorCode, ErrorPayload, Join, Joined, Nickname, PeerId, RoomName,
    Rooms, ServerMessage, Session, Welcome,
};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for a message it expects.
pub const WAIT: Duration = Duration::from_secs(5);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A protocol client over a real WebSocket. `recv` sets aside the room-list changes a lobby
/// connection gets unasked (applied to `rooms`) and `session` messages (the latest kept in
/// `session`), so tests read the messages they are about.
pub struct TestClient {
    pub socket: Socket,
    pub welcome: Welcome,
    /// The room list as this connection knows it: the latest `rooms` answer with every
    /// `rooms_changed` since applied.
    pub rooms: Rooms,
    /// The latest `session` (resume token) received.
    pub session: Option<Session>,
    next_id: u32,
}

impl TestClient {
    /// Connects to `url` and reads `welcome`.
    pub async fn connect(url: &str) -> Self {
        let (socket, _) = timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("connect in time")
            .expect("WebSocket handshake");
        Self::greeted(socket).await
    }

    /// Like [`connect`](Self::connect), from the local address `source` (any of 127/8 stands
    /// in for another client); `server` is the server's address.
    pub async fn connect_from(server: std::net::SocketAddr, source: std::net::IpAddr) -> Self {
        Self::greeted(raw_socket_from(server, source).await).await
    }

    async fn greeted(
        socket: tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
    ) -> Self {
        let mut client = Self {
            socket,
            welcome: Welcome {
                peer_id: PeerId::new("unknown").expect("valid id"),
                ice_servers: Vec::new(),
                max_room_size: 0,
                max_file_bytes: 0,
                protocol: 0,
                ice_relay_only: false,
            },
            rooms: Rooms::default(),
            session: None,
            next_id: 0,
        };
        match client.recv().await {
            ServerMessage::Welcome(welcome) => client.welcome = welcome,
            other => panic!("expected welcome, got {other:?}"),
        }
        client
    }

    pub fn peer_id(&self) -> &PeerId {
        &self.welcome.peer_id
    }

    /// Sends `message` with a fresh request id, and returns that id.
    pub async fn send(&mut self, message: ClientMessage) -> u32 {
        self.next_id += 1;
        let id = self.next_id;
        self.send_text(&Envelope::with_id(message, Some(id)).encode())
            .await;
        id
    }

    pub async fn send_text(&mut self, text: &str) {
        self.send_frame(Message::text(text)).await;
    }

    pub async fn send_frame(&mut self, frame: Message) {
        self.socket.send(frame).await.expect("send a frame");
    }

    /// Like [`send_frame`](Self::send_frame), false once the server has closed the socket.
    pub async fn try_send_frame(&mut self, frame: Message) -> bool {
        self.socket.send(frame).await.is_ok()
    }

    /// The next message and its id, skipping what [`set_aside`](Self::set_aside) keeps.
    pub async fn recv_envelope(&mut self) -> Envelope<ServerMessage> {
        self.recv_envelope_within(WAIT).await
    }

    pub async fn recv(&mut self) -> ServerMessage {
        self.recv_envelope().await.message
    }

    /// Like [`recv`](Self::recv), waiting up to `wait` instead of [`WAIT`].
    pub async fn recv_within(&mut self, wait: Duration) -> ServerMessage {
        self.recv_envelope_within(wait).await.message
    }

    async fn recv_envelope_within(&mut self, wait: Duration) -> Envelope<ServerMessage> {
        loop {
            let envelope = self.recv_any_within(wait).await;
            if !self.set_aside(&envelope) {
                return envelope;
            }
        }
    }

    /// Keeps a room-list push or a `session` aside, and says whether it did.
    fn set_aside(&mut self, envelope: &Envelope<ServerMessage>) -> bool {
        match &envelope.message {
            ServerMessage::RoomsChanged(changes) => self.rooms.apply(changes),
            // Returned to the caller, and the list from now on.
            ServerMessage::Rooms(rooms) => {
                self.rooms = rooms.clone();
                return false;
            }
            ServerMessage::Session(session) => self.session = Some(session.clone()),
            _ => return false,
        }
        true
    }

    /// The latest `session`, waiting for it if none has come yet.
    pub async fn recv_session(&mut self) -> Session {
        while self.session.is_none() {
            let envelope = self.recv_any().await;
            assert!(
                self.set_aside(&envelope),
                "expected session, got {:?}",
                envelope.message
            );
        }
        self.session.clone().expect("a session was just set aside")
    }

    /// The room list after the next `rooms_changed` push.
    pub async fn recv_room_push(&mut self) -> Rooms {
        loop {
            let envelope = self.recv_any().await;
            match envelope.message {
                ServerMessage::RoomsChanged(changes) => {
                    self.rooms.apply(&changes);
                    return self.rooms.clone();
                }
                ServerMessage::Session(session) => self.session = Some(session),
                other => panic!("expected a room-list push, got {other:?}"),
            }
        }
    }

    /// The next message of any kind.
    async fn recv_any(&mut self) -> Envelope<ServerMessage> {
        self.recv_any_within(WAIT).await
    }

    async fn recv_any_within(&mut self, wait: Duration) -> Envelope<ServerMessage> {
        loop {
            let frame = timeout(wait, self.socket.next())
                .await
                .expect("a message within the wait")
                .expect("the socket is open")
                .expect("a readable frame");
            match frame {
                Message::Text(text) => {
                    return Envelope::decode(&text).unwrap_or_else(|err| {
                        panic!("server sent an invalid message {text}: {err}")
                    });
                }
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Reads until the server closes, returning the close code.
    pub async fn close_code(&mut self) -> Option<CloseCode> {
        self.messages_until_close().await.1
    }

    /// Reads until the server closes: the protocol messages that came first (room-list pushes
    /// included), and the close code.
    pub async fn messages_until_close(&mut self) -> (Vec<ServerMessage>, Option<CloseCode>) {
        let mut messages = Vec::new();
        loop {
            match timeout(WAIT, self.socket.next())
                .await
                .expect("closed within the wait")
            {
                Some(Ok(Message::Close(frame))) => return (messages, frame.map(|f| f.code)),
                Some(Ok(Message::Text(text))) => {
                    if let Ok(envelope) = Envelope::<ServerMessage>::decode(&text) {
                        messages.push(envelope.message);
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return (messages, None),
            }
        }
    }

    /// Asserts that no message other than those set aside arrives for `window`.
    pub async fn expect_silence(&mut self, window: Duration) {
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(frame) = tokio::time::timeout_at(deadline, self.socket.next()).await {
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let envelope = Envelope::<ServerMessage>::decode(&text).expect("valid message");
                    assert!(
                        self.set_aside(&envelope),
                        "expected silence, got {:?}",
                        envelope.message
                    );
                }
                Some(Ok(_)) => {}
                other => panic!("expected silence, the socket ended: {other:?}"),
            }
        }
    }

    /// Joins `room` as `nickname` and returns `joined`, checking that it echoes the request id.
    pub async fn join(&mut self, room: &str, nickname: &str) -> Joined {
        let id = self.send(join_message(room, nickname)).await;
        let envelope = self.recv_envelope().await;
        assert_eq!(envelope.id, Some(id), "joined echoes the request id");
        match envelope.message {
            ServerMessage::Joined(joined) => joined,
            other => panic!("expected joined, got {other:?}"),
        }
    }

    /// Reads until an `error` with `code` arrives, skipping whatever comes first.
    pub async fn until_error(&mut self, code: ErrorCode) -> ErrorPayload {
        loop {
            if let ServerMessage::Error(error) = self.recv().await
                && error.code == code
            {
                return error;
            }
        }
    }

    /// Reads the next message and asserts it is an `error` with `code`.
    pub async fn expect_error(&mut self, code: ErrorCode) -> ErrorPayload {
        match self.recv().await {
            ServerMessage::Error(error) if error.code == code => error,
            other => panic!("expected error {code}, got {other:?}"),
        }
    }
}

/// A bare WebSocket to `server` from the local address `source`, its `welcome` unread: for
/// clients that misbehave at the frame level, or read without decoding.
pub async fn raw_socket_from(
    server: std::net::SocketAddr,
    source: std::net::IpAddr,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind(std::net::SocketAddr::new(source, 0))
        .expect("bind the source address");
    let tcp = socket.connect(server).await.expect("connect");
    let url = format!("ws://{server}/ws");
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(tcp);
    let (socket, _) = timeout(WAIT, tokio_tungstenite::client_async(url, stream))
        .await
        .expect("handshake in time")
        .expect("WebSocket handshake");
    socket
}

pub fn join_message(room: &str, nickname: &str) -> ClientMessage {
    ClientMessage::Join(Join {
        room: RoomName::new(room).expect("valid room"),
        nickname: Nickname::new(nickname).expect("valid nickname"),
        password: None,
    })
}
