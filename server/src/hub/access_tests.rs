//! Passwords and the lobby, driven with no network (passwords are hashed for real).

use noom_shared::{Empty, ErrorCode, PeerTarget, RoomAccess, RoomPassword, SetRoomAccess};

use super::access::MAX_WAITING;
use super::tests::{error_code, hub_with, join, peer, remote_join, send};
use super::*;

fn set_access(hub: &mut Hub, from: &str, password: Option<&str>, lobby: bool) -> Vec<Outgoing> {
    let password = password.map(|p| RoomPassword::new(p).unwrap());
    send(
        hub,
        from,
        ClientMessage::SetRoomAccess(SetRoomAccess { password, lobby }),
    )
}

fn join_with(room: &str, nick: &str, password: &str) -> ClientMessage {
    let ClientMessage::Join(mut join) = join(room, nick) else {
        unreachable!()
    };
    join.password = Some(RoomPassword::new(password).unwrap());
    ClientMessage::Join(join)
}

fn target(id: &str) -> PeerTarget {
    PeerTarget { peer_id: peer(id) }
}

/// The messages in `out` for `who`.
fn told<'a>(out: &'a [Outgoing], who: &str) -> Vec<&'a ServerMessage> {
    out.iter()
        .filter(|o| o.to.contains(&peer(who)))
        .map(|o| &o.message)
        .collect()
}

#[test]
fn a_password_room_lets_in_only_those_who_bring_it_and_is_listed_locked() {
    let mut hub = hub_with(&["host", "b", "c", "d"], 8);
    send(&mut hub, "host", join("r", "Host"));
    send(&mut hub, "b", join("r", "B"));
    assert_eq!(
        error_code(&set_access(&mut hub, "b", Some("sesame"), false)),
        Some(ErrorCode::NotHost)
    );
    let out = set_access(&mut hub, "host", Some("sesame"), false);
    let told_access = ServerMessage::RoomAccess(RoomAccess {
        has_password: true,
        lobby: false,
    });
    assert_eq!(told(&out, "b"), vec![&told_access]);
    assert_eq!(told(&out, "host"), vec![&told_access]);
    assert!(hub.room_list().rooms[0].locked);

    let missing = send(&mut hub, "c", join("r", "C"));
    assert_eq!(error_code(&missing), Some(ErrorCode::WrongPassword));
    let wrong = send(&mut hub, "c", join_with("r", "C", "Sesame"));
    assert_eq!(error_code(&wrong), Some(ErrorCode::WrongPassword));
    assert!(hub.membership(&peer("c")).is_none());
    let right = send(&mut hub, "c", join_with("r", "C", "sesame"));
    assert!(
        matches!(right[0].message, ServerMessage::Joined(_)),
        "{right:?}"
    );
    assert!(
        told(&right, "c").contains(&&told_access),
        "a joiner learns the room is shut"
    );

    // Cleared: anyone may join again, and the list shows it open.
    set_access(&mut hub, "host", None, false);
    assert!(!hub.room_list().rooms[0].locked);
    let out = send(&mut hub, "d", join("r", "D"));
    assert!(matches!(out[0].message, ServerMessage::Joined(_)));
}

#[test]
fn a_lobby_joiner_waits_for_the_host_who_admits_or_denies() {
    let mut hub = hub_with(&["host", "b", "c"], 8);
    send(&mut hub, "host", join("r", "Host"));
    set_access(&mut hub, "host", None, true);

    let out = send(&mut hub, "b", join("r", "B"));
    let waiting = ServerMessage::Waiting(noom_shared::Waiting {
        room: RoomName::new("r").unwrap(),
    });
    assert_eq!(told(&out, "b"), vec![&waiting]);
    let knock = ServerMessage::Knock(PeerInfo {
        peer_id: peer("b"),
        nickname: Nickname::new("B").unwrap(),
    });
    assert_eq!(told(&out, "host"), vec![&knock]);
    assert!(hub.membership(&peer("b")).is_none());
    assert_eq!(
        hub.lobby().count(),
        1,
        "a waiter is not in the lobby: only c"
    );
    assert_eq!(
        error_code(&send(&mut hub, "b", join("other", "B"))),
        Some(ErrorCode::AlreadyInRoom),
        "one knock at a time"
    );
    // Only the host answers.
    assert_eq!(
        error_code(&send(&mut hub, "c", ClientMessage::Admit(target("b")))),
        Some(ErrorCode::NotInRoom)
    );

    let out = send(&mut hub, "host", ClientMessage::Admit(target("b")));
    assert!(
        matches!(told(&out, "b")[..], [ServerMessage::Joined(_), ..]),
        "{out:?}"
    );
    assert!(
        told(&out, "host")
            .iter()
            .any(|m| matches!(m, ServerMessage::PeerJoined(_)))
    );

    send(&mut hub, "c", join("r", "C"));
    let out = send(&mut hub, "host", ClientMessage::Deny(target("c")));
    assert_eq!(error_code(&out), Some(ErrorCode::Denied));
    assert_eq!(out[0].to, vec![peer("c")]);
    assert!(hub.knocking(&peer("c")).is_none());
    assert_eq!(
        error_code(&send(&mut hub, "host", ClientMessage::Admit(target("c")))),
        Some(ErrorCode::UnknownPeer),
        "a denied joiner no longer waits"
    );
}

#[test]
fn a_waiter_who_leaves_withdraws_and_an_emptied_room_turns_waiters_away() {
    let mut hub = hub_with(&["host", "b", "c", "d"], 8);
    send(&mut hub, "host", join("r", "Host"));
    send(&mut hub, "b", join("r", "B"));
    set_access(&mut hub, "host", None, true);
    send(&mut hub, "c", join("r", "C"));
    send(&mut hub, "d", join("r", "D"));

    let out = send(&mut hub, "c", ClientMessage::Leave(Empty {}));
    assert!(matches!(told(&out, "c")[..], [ServerMessage::Left(_)]));
    assert_eq!(
        told(&out, "host"),
        vec![&ServerMessage::KnockWithdrawn(target("c"))]
    );

    // The host leaves: the new host is asked about the one still waiting.
    let out = send(&mut hub, "host", ClientMessage::Leave(Empty {}));
    assert!(
        told(&out, "b")
            .iter()
            .any(|m| matches!(m, ServerMessage::Knock(k) if k.peer_id == peer("d"))),
        "{out:?}"
    );
    let out = send(&mut hub, "b", ClientMessage::Leave(Empty {}));
    assert_eq!(told(&out, "d").len(), 1);
    assert_eq!(error_code(&told_only(&out, "d")), Some(ErrorCode::Denied));
    assert!(hub.knocking(&peer("d")).is_none());
    assert!(hub.room_list().rooms.is_empty());
}

fn told_only(out: &[Outgoing], who: &str) -> Vec<Outgoing> {
    out.iter()
        .filter(|o| o.to.contains(&peer(who)))
        .cloned()
        .collect()
}

#[test]
fn an_admitted_waiter_is_turned_away_if_the_room_filled_meanwhile() {
    let mut hub = hub_with(&["host", "b", "c"], 2);
    send(&mut hub, "host", join("r", "Host"));
    set_access(&mut hub, "host", None, true);
    send(&mut hub, "b", join("r", "B"));
    remote_join(&mut hub, "remote", "r", "Remote");
    let out = send(&mut hub, "host", ClientMessage::Admit(target("b")));
    assert_eq!(error_code(&told_only(&out, "b")), Some(ErrorCode::RoomFull));
    assert!(hub.membership(&peer("b")).is_none());
}

#[test]
fn too_many_waiters_are_refused() {
    let ids: Vec<String> = (0..=MAX_WAITING).map(|n| format!("w{n}")).collect();
    let mut all: Vec<&str> = ids.iter().map(String::as_str).collect();
    all.push("host");
    let mut hub = hub_with(&all, 8);
    send(&mut hub, "host", join("r", "Host"));
    set_access(&mut hub, "host", None, true);
    for (n, id) in ids.iter().enumerate() {
        let out = send(&mut hub, id, join("r", &format!("W{n}")));
        let expected = (n == MAX_WAITING).then_some(ErrorCode::RoomFull);
        assert_eq!(error_code(&out), expected, "waiter {n}");
    }
}
