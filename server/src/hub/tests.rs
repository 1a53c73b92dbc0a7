//! The hub's rules, driven with no network.

use noom_shared::testing::Dice;
use noom_shared::{ChatSend, ChatText, Empty, ErrorCode, Join, SetNickname, SignalData, SignalTo};

use super::*;

pub(super) fn peer(id: &str) -> PeerId {
    PeerId::new(id).unwrap()
}

pub(super) fn join(room: &str, nick: &str) -> ClientMessage {
    ClientMessage::Join(Join {
        room: RoomName::new(room).unwrap(),
        nickname: Nickname::new(nick).unwrap(),
        password: None,
    })
}

pub(super) fn send(hub: &mut Hub, from: &str, msg: ClientMessage) -> Vec<Outgoing> {
    hub.handle(&peer(from), Envelope::with_id(msg, Some(1)), 42)
}

pub(super) fn error_code(out: &[Outgoing]) -> Option<ErrorCode> {
    out.iter().find_map(|o| match &o.message {
        ServerMessage::Error(e) => Some(e.code),
        _ => None,
    })
}

pub(super) fn test_policy() -> ResumePolicy {
    fn counting_token() -> ResumeToken {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ResumeToken::new(&format!("token{n:016}")).unwrap()
    }
    ResumePolicy {
        grace_ms: 1000,
        new_token: counting_token,
    }
}

pub(super) fn session_token(out: &[Outgoing]) -> ResumeToken {
    out.iter()
        .find_map(|o| match &o.message {
            ServerMessage::Session(s) => Some(s.resume_token.clone()),
            _ => None,
        })
        .expect("a session message")
}

pub(super) fn hub_with(ids: &[&str], max: usize) -> Hub {
    let mut hub = Hub::new(Some(max), test_policy());
    for id in ids {
        hub.connect(peer(id));
    }
    hub
}

#[test]
fn join_lists_existing_peers_and_announces_the_joiner() {
    let mut hub = hub_with(&["a", "b"], 8);
    send(&mut hub, "a", join("r", "Ada"));
    let out = send(&mut hub, "b", join("r", "Bob"));
    assert_eq!(out.len(), 3);
    assert_eq!(out[0].to, vec![peer("b")]);
    assert_eq!(out[0].id, Some(1));
    let ServerMessage::Joined(joined) = &out[0].message else {
        panic!("{out:?}")
    };
    assert_eq!(
        joined.peers,
        vec![PeerInfo {
            peer_id: peer("a"),
            nickname: Nickname::new("Ada").unwrap()
        }]
    );
    assert!(matches!(&out[1].message, ServerMessage::Session(s) if s.grace_ms == 1000));
    assert_eq!(out[2].to, vec![peer("a")]);
    assert!(matches!(&out[2].message, ServerMessage::PeerJoined(p) if p.peer_id == peer("b")));
}

#[test]
fn room_full_and_already_in_room() {
    let mut hub = hub_with(&["a", "b", "c"], 2);
    send(&mut hub, "a", join("r", "A"));
    assert_eq!(
        error_code(&send(&mut hub, "a", join("s", "A"))),
        Some(ErrorCode::AlreadyInRoom)
    );
    send(&mut hub, "b", join("r", "B"));
    let out = send(&mut hub, "c", join("r", "C"));
    assert_eq!(error_code(&out), Some(ErrorCode::RoomFull));
    assert_eq!(out[0].id, Some(1));
    assert_eq!(hub.room_list().rooms[0].participants, 2);
}

#[test]
fn no_room_opens_past_the_cap_but_existing_ones_fill() {
    let mut hub = hub_with(&["a", "b", "c"], 8).with_max_rooms(1);
    send(&mut hub, "a", join("r", "A"));
    assert_eq!(
        error_code(&send(&mut hub, "b", join("s", "B"))),
        Some(ErrorCode::TooManyRooms)
    );
    assert!(error_code(&send(&mut hub, "c", join("r", "C"))).is_none());
    assert_eq!(hub.room_list().rooms.len(), 1);
}

#[test]
fn signal_only_reaches_peers_of_the_same_room() {
    let mut hub = hub_with(&["a", "b", "c"], 8);
    send(&mut hub, "a", join("r", "A"));
    send(&mut hub, "b", join("r", "B"));
    send(&mut hub, "c", join("other", "C"));
    let signal = |to: &str| {
        ClientMessage::Signal(SignalTo {
            to: peer(to),
            data: SignalData::from_json("{}").unwrap(),
        })
    };
    let out = send(&mut hub, "a", signal("b"));
    assert_eq!(out[0].to, vec![peer("b")]);
    assert!(matches!(&out[0].message, ServerMessage::Signal(s) if s.from == peer("a")));
    assert_eq!(
        error_code(&send(&mut hub, "a", signal("c"))),
        Some(ErrorCode::UnknownPeer)
    );
    assert_eq!(
        error_code(&send(&mut hub, "a", signal("a"))),
        Some(ErrorCode::UnknownPeer)
    );
    assert_eq!(
        error_code(&send(&mut hub, "a", signal("zz"))),
        Some(ErrorCode::UnknownPeer)
    );
}

#[test]
fn chat_goes_to_everyone_with_nickname_and_time() {
    let mut hub = hub_with(&["a", "b", "c"], 8);
    send(&mut hub, "a", join("r", "A"));
    send(&mut hub, "b", join("r", "B"));
    let text = ChatText::new("hi").unwrap();
    let out = send(
        &mut hub,
        "a",
        ClientMessage::Chat(ChatSend { text: text.clone() }),
    );
    assert_eq!(out[0].to, vec![peer("a"), peer("b")]);
    let ServerMessage::Chat(chat) = &out[0].message else {
        panic!()
    };
    assert_eq!(
        (chat.nickname.as_str(), chat.ts, &chat.text),
        ("A", 42, &text)
    );
    assert_eq!(
        error_code(&send(&mut hub, "c", ClientMessage::Chat(ChatSend { text }))),
        Some(ErrorCode::NotInRoom)
    );
}

#[test]
fn leave_and_disconnect_announce_peer_left_and_empty_rooms_vanish() {
    let mut hub = hub_with(&["a", "b"], 8);
    send(&mut hub, "a", join("r", "A"));
    send(&mut hub, "b", join("r", "B"));
    let out = send(&mut hub, "b", ClientMessage::Leave(Empty {}));
    assert!(matches!(&out[0].message, ServerMessage::Left(l) if l.room.as_str() == "r"));
    assert_eq!(out[1].to, vec![peer("a")]);
    assert!(matches!(&out[1].message, ServerMessage::PeerLeft(p) if p.peer_id == peer("b")));
    assert_eq!(
        error_code(&send(&mut hub, "b", ClientMessage::Leave(Empty {}))),
        Some(ErrorCode::NotInRoom)
    );
    let gone = hub.disconnect(&peer("a"), false, 0).unwrap();
    assert!(hub.apply(gone).is_empty());
    assert!(hub.room_list().rooms.is_empty());
    assert_eq!(hub.lobby().collect::<Vec<_>>(), vec![&peer("b")]);
}

#[test]
fn nickname_and_status_updates_reach_the_room_and_later_joiners() {
    let mut hub = hub_with(&["a", "b"], 8);
    send(&mut hub, "a", join("r", "A"));
    let out = send(
        &mut hub,
        "a",
        ClientMessage::SetNickname(SetNickname {
            nickname: Nickname::new("Ada").unwrap(),
        }),
    );
    assert!(
        matches!(&out[0].message, ServerMessage::PeerUpdated(p) if p.nickname.as_str() == "Ada")
    );
    let muted = PeerStatus {
        muted: true,
        ..PeerStatus::default()
    };
    let out = send(&mut hub, "a", ClientMessage::SetStatus(muted));
    assert_eq!(out[0].to, vec![peer("a")]);
    let out = send(&mut hub, "b", join("r", "B"));
    let ServerMessage::Joined(joined) = &out[0].message else {
        panic!()
    };
    assert_eq!(joined.peers[0].nickname.as_str(), "Ada");
    assert_eq!(out[1].message, profile::status_update(&peer("a"), muted));
    assert_eq!(out[1].to, vec![peer("b")]);
}

#[test]
fn the_room_list_version_moves_with_each_change_only() {
    let mut hub = hub_with(&["a", "b"], 8);
    let start = hub.room_list_version();
    send(&mut hub, "a", join("r", "A"));
    let one_room = hub.room_list_version();
    assert_ne!(one_room, start);
    send(
        &mut hub,
        "a",
        ClientMessage::Chat(ChatSend {
            text: ChatText::new("hi").unwrap(),
        }),
    );
    assert_eq!(hub.room_list_version(), one_room, "chat changes no count");
    send(&mut hub, "b", join("r", "B"));
    assert_ne!(hub.room_list_version(), one_room, "a count changed");
    assert_eq!(hub.room_list().rooms[0].participants, 2);
}

pub(super) fn remote_join(hub: &mut Hub, id: &str, room: &str, nick: &str) -> Vec<Outgoing> {
    hub.apply(Event::Join {
        peer: peer(id),
        room: RoomName::new(room).unwrap(),
        nickname: Nickname::new(nick).unwrap(),
        token: None,
        request: None,
        password: None,
        admitted: false,
        node: None,
    })
}

#[test]
fn peers_of_other_nodes_are_members_but_not_answered_or_in_the_lobby() {
    let mut hub = hub_with(&["a"], 8);
    assert!(remote_join(&mut hub, "r1", "r", "Remote").is_empty());
    let out = send(&mut hub, "a", join("r", "A"));
    let ServerMessage::Joined(joined) = &out[0].message else {
        panic!()
    };
    assert_eq!(joined.peers[0].peer_id, peer("r1"));
    // The remote peer is told by its own node, which applies the same event.
    assert_eq!(out[2].to, vec![peer("r1")]);
    assert_eq!(hub.lobby().count(), 0);
    // A remote leave removes the peer entirely.
    let out = hub.apply(Event::Leave {
        peer: peer("r1"),
        request: Some(3),
    });
    assert!(matches!(&out[0].message, ServerMessage::PeerLeft(_)));
    // It was the first in the room, so its host: the role passes to the one left.
    let host_now = noom_shared::PeerTarget { peer_id: peer("a") };
    assert_eq!(out[1].message, ServerMessage::HostChanged(host_now));
    assert_eq!(out.len(), 2);
    assert_eq!(hub.room_list().rooms[0].participants, 1);
}

#[test]
fn applying_an_event_twice_changes_nothing() {
    let mut hub = hub_with(&["a"], 8);
    send(&mut hub, "a", join("r", "A"));
    assert_eq!(remote_join(&mut hub, "r1", "r", "Remote").len(), 1);
    assert!(remote_join(&mut hub, "r1", "r", "Remote").is_empty());
    assert_eq!(hub.apply(Event::Gone { peer: peer("r1") }).len(), 1);
    assert!(hub.apply(Event::Gone { peer: peer("r1") }).is_empty());
}

#[test]
fn reconcile_adds_and_removes_remote_peers_and_keeps_local_ones() {
    let mut hub = hub_with(&["a"], 8);
    send(&mut hub, "a", join("r", "A"));
    remote_join(&mut hub, "old", "r", "Old");
    let truth = vec![RoomTruth {
        name: RoomName::new("r").unwrap(),
        members: vec![MemberTruth {
            peer: peer("new"),
            nickname: Nickname::new("New").unwrap(),
            node: "n2".to_owned(),
        }],
        access: Access::default(),
    }];
    let out = hub.reconcile(&truth);
    let left: Vec<_> = out
        .iter()
        .filter(|o| matches!(o.message, ServerMessage::PeerLeft(_)))
        .collect();
    let joined: Vec<_> = out
        .iter()
        .filter(|o| matches!(o.message, ServerMessage::PeerJoined(_)))
        .collect();
    assert_eq!((left.len(), joined.len()), (1, 1));
    assert_eq!(joined[0].to, vec![peer("a")]);
    assert_eq!(hub.room_list().rooms[0].participants, 2);
    let joins = hub.local_member_joins();
    assert!(
        matches!(&joins[..], [Event::Join { peer: p, token: Some(_), .. }] if *p == peer("a")),
        "{joins:?}"
    );
}

#[test]
fn events_have_a_stable_wire_form() {
    // The cluster's Lua scripts write join, leave and gone events in exactly this form.
    let join = Event::Join {
        peer: peer("p1"),
        room: RoomName::new("r").unwrap(),
        nickname: Nickname::new("N").unwrap(),
        token: None,
        request: Some(4),
        password: None,
        admitted: false,
        node: None,
    };
    let json = serde_json::to_string(&join).unwrap();
    assert_eq!(
        json,
        r#"{"kind":"join","peer":"p1","room":"r","nickname":"N","token":null,"request":4,"password":null,"admitted":false}"#
    );
    let from_lua: Event =
        serde_json::from_str(r#"{"room":"r","kind":"join","nickname":"N","peer":"p1"}"#).unwrap();
    assert!(matches!(from_lua, Event::Join { request: None, .. }));
    let signal = Event::Signal {
        from: peer("a"),
        to: peer("b"),
        data: SignalData::from_json(r#"{"candidate":null}"#).unwrap(),
    };
    let json = serde_json::to_string(&signal).unwrap();
    assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), signal);
    assert!(serde_json::from_str::<Event>(r#"{"kind":"gone","peer":"bad id"}"#).is_err());
    // The SFU's messages cross the cluster as the frames they will be on the socket.
    let tell = Event::SfuTell {
        to: peer("b"),
        message: ServerMessage::error(ErrorCode::BadSdp, "no"),
    };
    let json = serde_json::to_string(&tell).unwrap();
    assert!(json.contains(r#""message":"{\"type\":\"error\""#), "{json}");
    assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), tell);
    let pause = Event::Sfu {
        peer: peer("b"),
        request: SfuRequest::Pause { video: true },
    };
    let json = serde_json::to_string(&pause).unwrap();
    assert_eq!(
        json,
        r#"{"kind":"sfu","peer":"b","request":{"request":"pause","video":true}}"#
    );
}

fn resume(token: &ResumeToken) -> ClientMessage {
    ClientMessage::Resume(noom_shared::Resume {
        token: token.clone(),
    })
}

#[test]
fn a_lost_connection_holds_its_seat_and_resumes_unseen() {
    let mut hub = hub_with(&["a", "b"], 8);
    send(&mut hub, "a", join("r", "A"));
    let token = session_token(&send(&mut hub, "b", join("r", "B")));
    assert_eq!(
        hub.disconnect(&peer("b"), true, 100),
        None,
        "held, nobody told"
    );
    assert!(hub.is_held(&peer("b")));
    assert_eq!(hub.room_list().rooms[0].participants, 2);

    hub.connect(peer("b2"));
    let out = send(&mut hub, "b2", resume(&token));
    assert!(
        out.iter().all(|o| o.to == vec![peer("b")]),
        "only the resumer hears of it"
    );
    let ServerMessage::Resumed(resumed) = &out[0].message else {
        panic!("{out:?}")
    };
    assert_eq!((resumed.peer_id.clone(), out[0].id), (peer("b"), Some(1)));
    assert_eq!(resumed.peers[0].peer_id, peer("a"));
    assert_ne!(session_token(&out), token, "tokens are used once");
    assert!(!hub.is_held(&peer("b")));
    assert_eq!(hub.lobby().count(), 0);

    hub.connect(peer("b3"));
    assert_eq!(
        error_code(&send(&mut hub, "b3", resume(&token))),
        Some(ErrorCode::InvalidToken)
    );
}

#[test]
fn a_seat_resumed_on_another_node_is_released_here() {
    let mut hub = hub_with(&["a", "b"], 8);
    send(&mut hub, "a", join("r", "A"));
    let token = session_token(&send(&mut hub, "b", join("r", "B")));
    // The client reconnected to another node, whose connection id is unknown here.
    let out = hub.apply(Event::Resume {
        seat: peer("b"),
        conn: peer("elsewhere"),
        room: RoomName::new("r").unwrap(),
        old_token: token.clone(),
        token: ResumeToken::new("fresh0000000000000").unwrap(),
        request: None,
        node: None,
    });
    assert!(out.is_empty(), "the room sees nothing");
    assert_eq!(
        hub.local_member_joins().len(),
        1,
        "only Ada is still this node's"
    );
    assert!(!hub.resume_fits(&peer("b"), &token));
    // Bob's messages are still delivered (by his new node): he is a member everywhere.
    let out = send(
        &mut hub,
        "a",
        ClientMessage::Chat(ChatSend {
            text: noom_shared::ChatText::new("hi").unwrap(),
        }),
    );
    assert_eq!(out[0].to, vec![peer("a"), peer("b")]);
}

#[test]
fn a_held_seat_expires_into_gone_and_a_closed_one_goes_at_once() {
    let mut hub = hub_with(&["a", "b", "c"], 8);
    send(&mut hub, "a", join("r", "A"));
    let token = session_token(&send(&mut hub, "b", join("r", "B")));
    send(&mut hub, "c", join("r", "C"));
    assert_eq!(
        hub.disconnect(&peer("c"), false, 0),
        Some(Event::Gone { peer: peer("c") })
    );

    hub.disconnect(&peer("b"), true, 100);
    assert!(hub.expire_held_seats(1099).is_empty());
    let expired = hub.expire_held_seats(1100);
    assert_eq!(expired, vec![Event::Gone { peer: peer("b") }]);
    assert!(hub.expire_held_seats(5000).is_empty(), "expired once");
    let out = hub.apply(expired[0].clone());
    assert!(matches!(&out[0].message, ServerMessage::PeerLeft(p) if p.peer_id == peer("b")));
    hub.connect(peer("late"));
    assert_eq!(
        error_code(&send(&mut hub, "late", resume(&token))),
        Some(ErrorCode::InvalidToken)
    );
}

#[test]
fn held_seats_expire_in_deadline_order_and_a_resumed_one_never_does() {
    let mut hub = hub_with(&["a", "b", "c"], 8);
    send(&mut hub, "a", join("r", "A"));
    let token = session_token(&send(&mut hub, "b", join("r", "B")));
    send(&mut hub, "c", join("r", "C"));
    hub.disconnect(&peer("c"), true, 300);
    hub.disconnect(&peer("a"), true, 100);
    hub.disconnect(&peer("b"), true, 200);
    hub.connect(peer("b2"));
    send(&mut hub, "b2", resume(&token));

    assert_eq!(
        hub.expire_held_seats(5000),
        vec![
            Event::Gone { peer: peer("a") },
            Event::Gone { peer: peer("c") }
        ],
        "earliest first; Bob took his seat back"
    );
    assert!(hub.expire_held_seats(10_000).is_empty());
    assert!(!hub.is_held(&peer("a")) && !hub.is_held(&peer("c")));
}

/// What must hold after every step: rooms are non-empty, within their size, without
/// duplicates, and agree with each member's own record; a signal only joins roommates.
fn assert_invariants(hub: &Hub, out: &[Outgoing], max: usize, context: &str) {
    for (name, room) in &hub.rooms {
        assert!(
            !room.members.is_empty(),
            "{context}: empty room {name} kept"
        );
        assert!(room.members.len() <= max, "{context}: {name} over {max}");
        let mut unique = room.members.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            room.members.len(),
            "{context}: a member twice in {name}"
        );
        for member in &room.members {
            let record = hub.membership(member).map(|(room, _)| room);
            assert_eq!(
                record,
                Some(name),
                "{context}: {member} in {name} thinks otherwise"
            );
        }
    }
    let seated = hub
        .peers
        .values()
        .filter(|p| p.membership.is_some())
        .count();
    let listed: u32 = hub.room_list().rooms.iter().map(|r| r.participants).sum();
    assert_eq!(
        seated, listed as usize,
        "{context}: the room list miscounts"
    );
    for outgoing in out {
        if let ServerMessage::Signal(signal) = &outgoing.message {
            let room_of = |p: &PeerId| hub.membership(p).map(|(room, _)| room.clone());
            for to in &outgoing.to {
                assert!(
                    room_of(&signal.from).is_some() && room_of(&signal.from) == room_of(to),
                    "{context}: a signal from {} reached {to} outside its room",
                    signal.from
                );
            }
        }
    }
}

#[test]
fn random_sequences_keep_rooms_membership_and_routing_consistent() {
    let rooms = ["r0", "r1", "r2"];
    for seed in 1..=300u64 {
        let mut dice = Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let max = 1 + dice.roll(4);
        let mut hub = Hub::new(Some(max), test_policy()).with_max_rooms(2);
        let (mut connected, mut tokens) = (Vec::<PeerId>::new(), Vec::<ResumeToken>::new());
        let mut now = 0;
        for step in 0..200 {
            let context = format!("seed {seed}, step {step}");
            let who = dice.pick(&connected).cloned();
            let out = match (dice.roll(8), who) {
                (0, _) | (_, None) => {
                    let fresh = peer(&format!("p{step}"));
                    hub.connect(fresh.clone());
                    connected.push(fresh);
                    Vec::new()
                }
                (1 | 2, Some(who)) => {
                    let room = dice.pick(&rooms).copied().unwrap_or("r0");
                    let envelope = Envelope::new(join(room, &format!("n{step}")));
                    hub.handle(&who, envelope, now)
                }
                (3, Some(who)) => {
                    hub.handle(&who, Envelope::new(ClientMessage::Leave(Empty {})), now)
                }
                (4, Some(who)) => {
                    let to = dice
                        .pick(&connected)
                        .cloned()
                        .unwrap_or_else(|| who.clone());
                    let signal = ClientMessage::Signal(SignalTo {
                        to,
                        data: SignalData::from_json(r#"{"candidate":null}"#).unwrap(),
                    });
                    hub.handle(&who, Envelope::new(signal), now)
                }
                (5, Some(who)) => {
                    connected.retain(|p| *p != who);
                    let lost = dice.roll(2) == 0;
                    hub.disconnect(&who, lost, now)
                        .map_or_else(Vec::new, |event| hub.apply(event))
                }
                (6, Some(who)) => match dice.pick(&tokens).cloned() {
                    Some(token) => hub.handle(&who, Envelope::new(resume(&token)), now),
                    None => Vec::new(),
                },
                (_, Some(_)) => {
                    now += 600;
                    let expired = hub.expire_held_seats(now);
                    expired
                        .into_iter()
                        .flat_map(|event| hub.apply(event))
                        .collect()
                }
            };
            tokens.extend(out.iter().filter_map(|o| match &o.message {
                ServerMessage::Session(session) => Some(session.resume_token.clone()),
                _ => None,
            }));
            assert_invariants(&hub, &out, max, &context);
            assert!(hub.rooms.len() <= 2, "{context}: over the room cap");
        }
    }
}
