//! The switchboard with channels standing in for connections, and a clock moved by hand.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Duration;

use crate::send_queue::{QueueReceiver, send_queue};
use noom_shared::{ChatSend, ChatText, Join, Nickname, Resume, RoomName, ServerMessage};

use super::*;
use crate::clock::ManualClock;

struct Conn {
    id: PeerId,
    frames: QueueReceiver,
    state: Arc<handle::ConnState>,
}

impl Conn {
    /// Every message queued for this connection so far.
    fn received(&mut self) -> Vec<ServerMessage> {
        let mut out = Vec::new();
        while let Some(frame) = self.frames.try_recv() {
            let text = frame.into_text().unwrap();
            out.push(Envelope::<ServerMessage>::decode(&text).unwrap().message);
        }
        out
    }
}

fn board(grace: Duration, clock: &Arc<ManualClock>) -> Switchboard {
    let config = Config {
        resume_grace: grace,
        ..Config::default()
    };
    Switchboard::with_clock(&config, Arc::clone(clock) as Arc<dyn Clock>)
}

fn connect(board: &Switchboard, id: &str, capacity: usize) -> Conn {
    let (queue, frames) = send_queue(capacity, usize::MAX / 2);
    let id = PeerId::new(id).unwrap();
    let handle = ConnHandle::new(queue, None);
    let state = handle.state.clone();
    board.connect(id.clone(), handle);
    Conn { id, frames, state }
}

fn send(board: &Switchboard, from: &Conn, message: ClientMessage) {
    let _ = board.handle(&from.id, Envelope::new(message));
}

fn join(board: &Switchboard, conn: &mut Conn, nickname: &str) -> Vec<ServerMessage> {
    let join = ClientMessage::Join(Join {
        room: RoomName::new("standup").unwrap(),
        nickname: Nickname::new(nickname).unwrap(),
        password: None,
    });
    send(board, conn, join);
    conn.received()
}

fn chat(text: &str) -> ClientMessage {
    ClientMessage::Chat(ChatSend {
        text: ChatText::new(text).unwrap(),
    })
}

fn token_of(messages: &[ServerMessage]) -> noom_shared::ResumeToken {
    messages
        .iter()
        .find_map(|m| match m {
            ServerMessage::Session(lease) => Some(lease.resume_token.clone()),
            _ => None,
        })
        .unwrap()
}

#[test]
fn room_list_replies_are_the_envelope_bytes_and_follow_changes() {
    let clock = Arc::new(ManualClock::default());
    let board = board(Duration::from_secs(30), &clock);
    let mut watcher = connect(&board, "watcher", 16);
    let mut ada = connect(&board, "ada", 16);
    watcher.received();
    // Every frame the request brought, as text.
    let ask = |board: &Switchboard, conn: &mut Conn, id| {
        let list = Envelope {
            id,
            message: ClientMessage::ListRooms(noom_shared::Empty {}),
        };
        let _ = board.handle(&conn.id, list);
        let mut frames = Vec::new();
        while let Some(frame) = conn.frames.try_recv() {
            frames.push(frame.into_text().unwrap().to_string());
        }
        frames
    };
    let empty = ask(&board, &mut watcher, Some(7));
    let expected = |rooms| {
        Envelope::with_id(ServerMessage::Rooms(rooms), Some(7))
            .encode()
            .to_string()
    };
    assert_eq!(empty, [expected(noom_shared::Rooms { rooms: vec![] })]);
    join(&board, &mut ada, "Ada");
    let after_join = ask(&board, &mut watcher, Some(7));
    let [change, one] = &after_join[..] else {
        panic!("expected the change, then the list: {after_join:?}")
    };
    assert!(change.starts_with(r#"{"type":"rooms_changed""#), "{change}");
    assert!(
        one.contains(r#""name":"standup","participants":1"#),
        "{one}"
    );
    assert_eq!(
        ask(&board, &mut watcher, Some(7)),
        std::slice::from_ref(one),
        "the same, and no change pushed, until a change"
    );
    assert!(!ask(&board, &mut watcher, None)[0].contains(r#""id""#));
}

#[test]
fn joins_reach_the_room_and_a_full_queue_kicks_its_connection() {
    let clock = Arc::new(ManualClock::default());
    let board = board(Duration::from_secs(30), &clock);
    let mut ana = connect(&board, "ana", 16);
    let mut ben = connect(&board, "ben", 3);
    assert!(matches!(ana.received()[..], [ServerMessage::Welcome(_)]));
    ben.received();
    join(&board, &mut ana, "Ana");
    let joined = join(&board, &mut ben, "Ben");
    assert!(matches!(&joined[0], ServerMessage::Joined(j) if j.peers.len() == 1));
    assert!(matches!(&ana.received()[..], [ServerMessage::PeerJoined(p)] if p.peer_id == ben.id));
    // Ben stops reading: his queue of 3 fills, and the next message kicks him.
    for n in 0..4 {
        send(&board, &ana, chat(&format!("hello {n}")));
    }
    assert!(ben.state.is_ended());
    assert!(!ana.state.is_ended());
    assert_eq!(ana.received().len(), 4, "the sender gets its own chats");
}

#[test]
fn a_held_seat_gets_what_it_missed_on_resume_and_nobody_sees_a_leave() {
    let clock = Arc::new(ManualClock::default());
    let board = board(Duration::from_secs(30), &clock);
    let mut ana = connect(&board, "ana", 16);
    let mut ben = connect(&board, "ben", 16);
    join(&board, &mut ana, "Ana");
    let token = token_of(&join(&board, &mut ben, "Ben"));
    ana.received();
    board.disconnect(&ben.id, true);
    send(&board, &ana, chat("while you were away"));
    clock.advance(29_000);
    board.tick();
    let mut again = connect(&board, "ben2", 16);
    again.received();
    send(&board, &again, ClientMessage::Resume(Resume { token }));
    let back = again.received();
    assert!(matches!(&back[0], ServerMessage::Resumed(r) if r.peer_id == ben.id));
    let missed = back
        .iter()
        .any(|m| matches!(m, ServerMessage::Chat(c) if c.text.as_str() == "while you were away"));
    assert!(missed, "parked chat delivered: {back:?}");
    // The new connection speaks as the seat.
    send(&board, &again, chat("back"));
    let seen = ana.received();
    assert!(
        seen.iter()
            .all(|m| !matches!(m, ServerMessage::PeerLeft(_)))
    );
    assert!(
        seen.iter()
            .any(|m| matches!(m, ServerMessage::Chat(c) if c.from == ben.id))
    );
}

#[test]
fn a_held_seat_expires_on_the_injected_clock() {
    let clock = Arc::new(ManualClock::default());
    let board = board(Duration::from_secs(30), &clock);
    let mut ana = connect(&board, "ana", 16);
    let mut ben = connect(&board, "ben", 16);
    join(&board, &mut ana, "Ana");
    join(&board, &mut ben, "Ben");
    ana.received();
    board.disconnect(&ben.id, true);
    clock.advance(29_999);
    board.tick();
    assert!(
        ana.received()
            .iter()
            .all(|m| !matches!(m, ServerMessage::PeerLeft(_)))
    );
    clock.advance(1);
    board.tick();
    let left = ana.received();
    assert!(
        left.iter()
            .any(|m| matches!(m, ServerMessage::PeerLeft(l) if l.peer_id == ben.id)),
        "{left:?}"
    );
}
