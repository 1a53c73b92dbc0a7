//! Golden tests: every message against a literal JSON string, plus a round trip, so that a
//! change to the wire is visible in review.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use noom_shared::*;

fn room(s: &str) -> RoomName {
    RoomName::new(s).unwrap()
}
fn nick(s: &str) -> Nickname {
    Nickname::new(s).unwrap()
}
fn peer(s: &str) -> PeerId {
    PeerId::new(s).unwrap()
}

/// Encodes `message` with `id`, compares with `json`, and decodes `json` back to `message`.
fn golden<M: Message + std::fmt::Debug + PartialEq + Clone>(
    message: M,
    id: Option<u32>,
    json: &str,
) {
    let envelope = Envelope::with_id(message, id);
    assert_eq!(envelope.encode(), json);
    assert_eq!(Envelope::<M>::decode(json).unwrap(), envelope);
}

#[test]
fn client_messages() {
    golden(
        ClientMessage::ListRooms(Empty {}),
        Some(1),
        r#"{"type":"list_rooms","payload":{},"id":1}"#,
    );
    golden(
        ClientMessage::Join(Join {
            room: room("standup"),
            nickname: nick("Ada"),
            password: None,
        }),
        Some(2),
        r#"{"type":"join","payload":{"room":"standup","nickname":"Ada"},"id":2}"#,
    );
    golden(
        ClientMessage::Leave(Empty {}),
        None,
        r#"{"type":"leave","payload":{}}"#,
    );
    golden(
        ClientMessage::Signal(SignalTo {
            to: peer("p2"),
            data: SignalData::from_json(r#"{"candidate":null}"#).unwrap(),
        }),
        None,
        r#"{"type":"signal","payload":{"to":"p2","data":{"candidate":null}}}"#,
    );
    golden(
        ClientMessage::Chat(ChatSend {
            text: ChatText::new("hello <b>all</b>").unwrap(),
        }),
        None,
        r#"{"type":"chat","payload":{"text":"hello <b>all</b>"}}"#,
    );
    golden(
        ClientMessage::SetNickname(SetNickname {
            nickname: nick("Grace"),
        }),
        None,
        r#"{"type":"set_nickname","payload":{"nickname":"Grace"}}"#,
    );
    golden(
        ClientMessage::SetStatus(PeerStatus {
            muted: true,
            camera_off: false,
            hand_raised: true,
            presenting: true,
        }),
        None,
        r#"{"type":"set_status","payload":{"muted":true,"camera_off":false,"hand_raised":true,"presenting":true}}"#,
    );
    golden(
        ClientMessage::Resume(Resume {
            token: ResumeToken::new("0123456789abcdef0123456789abcdef").unwrap(),
        }),
        Some(5),
        r#"{"type":"resume","payload":{"token":"0123456789abcdef0123456789abcdef"},"id":5}"#,
    );
    golden(
        ClientMessage::MakeHost(PeerTarget {
            peer_id: peer("p2"),
        }),
        None,
        r#"{"type":"make_host","payload":{"peer_id":"p2"}}"#,
    );
    golden(
        ClientMessage::MutePeer(MutePeer {
            peer_id: peer("p2"),
            kind: MediaKind::Video,
        }),
        None,
        r#"{"type":"mute_peer","payload":{"peer_id":"p2","kind":"video"}}"#,
    );
    golden(
        ClientMessage::RemovePeer(PeerTarget {
            peer_id: peer("p2"),
        }),
        Some(6),
        r#"{"type":"remove_peer","payload":{"peer_id":"p2"},"id":6}"#,
    );
    golden(
        ClientMessage::Join(Join {
            room: room("board"),
            nickname: nick("Ada"),
            password: Some(RoomPassword::new("sesame").unwrap()),
        }),
        None,
        r#"{"type":"join","payload":{"room":"board","nickname":"Ada","password":"sesame"}}"#,
    );
    golden(
        ClientMessage::SetRoomAccess(SetRoomAccess {
            password: Some(RoomPassword::new("sesame").unwrap()),
            lobby: true,
        }),
        Some(7),
        r#"{"type":"set_room_access","payload":{"password":"sesame","lobby":true},"id":7}"#,
    );
    golden(
        ClientMessage::SetRoomAccess(SetRoomAccess {
            password: None,
            lobby: false,
        }),
        None,
        r#"{"type":"set_room_access","payload":{"password":null,"lobby":false}}"#,
    );
    golden(
        ClientMessage::Admit(PeerTarget {
            peer_id: peer("p3"),
        }),
        None,
        r#"{"type":"admit","payload":{"peer_id":"p3"}}"#,
    );
    golden(
        ClientMessage::Deny(PeerTarget {
            peer_id: peer("p3"),
        }),
        None,
        r#"{"type":"deny","payload":{"peer_id":"p3"}}"#,
    );
    golden(
        ClientMessage::SfuAnswer(SfuAnswer {
            sdp: "v=0\r\n".to_owned(),
        }),
        Some(8),
        r#"{"type":"sfu_answer","payload":{"sdp":"v=0\r\n"},"id":8}"#,
    );
    golden(
        ClientMessage::SfuRestart(Empty {}),
        None,
        r#"{"type":"sfu_restart","payload":{}}"#,
    );
    golden(
        ClientMessage::SfuPause(SfuPause { video: true }),
        None,
        r#"{"type":"sfu_pause","payload":{"video":true}}"#,
    );
    golden(
        ClientMessage::SfuView(SfuView {
            tiles: vec![SfuTile {
                peer_id: peer("p3"),
                kind: SfuTrackKind::Camera,
                width: 320,
                height: 180,
            }],
            pinned: None,
        }),
        None,
        r#"{"type":"sfu_view","payload":{"tiles":[{"peer_id":"p3","kind":"camera","width":320,"height":180}]}}"#,
    );
    golden(
        ClientMessage::SfuView(SfuView {
            tiles: vec![],
            pinned: Some(peer("p4")),
        }),
        None,
        r#"{"type":"sfu_view","payload":{"tiles":[],"pinned":"p4"}}"#,
    );
}

#[test]
fn a_joined_without_media_is_a_mesh_room() {
    let old = r#"{"type":"joined","payload":{"room":"r","peer_id":"p2","peers":[],"host":"p2"}}"#;
    let Ok(envelope) = Envelope::<ServerMessage>::decode(old) else {
        panic!("decodes")
    };
    let ServerMessage::Joined(joined) = envelope.message else {
        panic!("a joined")
    };
    assert_eq!(joined.media, Media::Mesh);
}

#[test]
fn server_messages() {
    golden(
        ServerMessage::Welcome(Welcome {
            peer_id: peer("p1"),
            ice_servers: vec![IceServer {
                urls: vec!["turn:turn.example.org:3478".into()],
                username: Some("u".into()),
                credential: Some("c".into()),
            }],
            max_room_size: 8,
            max_file_bytes: 25_000_000,
            protocol: PROTOCOL_VERSION,
            ice_relay_only: false,
        }),
        None,
        r#"{"type":"welcome","payload":{"peer_id":"p1","ice_servers":[{"urls":["turn:turn.example.org:3478"],"username":"u","credential":"c"}],"max_room_size":8,"max_file_bytes":25000000,"protocol":1}}"#,
    );
    golden(
        ServerMessage::Welcome(Welcome {
            peer_id: peer("p1"),
            ice_servers: Vec::new(),
            max_room_size: 8,
            max_file_bytes: 25_000_000,
            protocol: PROTOCOL_VERSION,
            ice_relay_only: true,
        }),
        None,
        r#"{"type":"welcome","payload":{"peer_id":"p1","ice_servers":[],"max_room_size":8,"max_file_bytes":25000000,"protocol":1,"ice_relay_only":true}}"#,
    );
    golden(
        ServerMessage::Rooms(Rooms {
            rooms: vec![RoomInfo {
                name: room("standup"),
                participants: 3,
                locked: false,
            }],
        }),
        Some(1),
        r#"{"type":"rooms","payload":{"rooms":[{"name":"standup","participants":3}]},"id":1}"#,
    );
    golden(
        ServerMessage::RoomsChanged(RoomsChanged {
            rooms: vec![RoomInfo {
                name: room("standup"),
                participants: 4,
                locked: false,
            }],
            removed: vec![room("retro")],
        }),
        None,
        r#"{"type":"rooms_changed","payload":{"rooms":[{"name":"standup","participants":4}],"removed":["retro"]}}"#,
    );
    golden(
        ServerMessage::Joined(Joined {
            room: room("standup"),
            peer_id: peer("p2"),
            peers: vec![PeerInfo {
                peer_id: peer("p1"),
                nickname: nick("Ada"),
            }],
            host: peer("p1"),
            media: Media::Mesh,
        }),
        Some(2),
        r#"{"type":"joined","payload":{"room":"standup","peer_id":"p2","peers":[{"peer_id":"p1","nickname":"Ada"}],"host":"p1","media":"mesh"},"id":2}"#,
    );
    golden(
        ServerMessage::MediaChanged(MediaChanged { media: Media::Sfu }),
        None,
        r#"{"type":"media_changed","payload":{"media":"sfu"}}"#,
    );
    golden(
        ServerMessage::SfuOffer(SfuOffer {
            sdp: "v=0\r\n".to_owned(),
            tracks: vec![SfuTrack {
                mid: "0".to_owned(),
                peer_id: peer("p2"),
                kind: SfuTrackKind::Camera,
            }],
        }),
        None,
        r#"{"type":"sfu_offer","payload":{"sdp":"v=0\r\n","tracks":[{"mid":"0","peer_id":"p2","kind":"camera"}]}}"#,
    );
    golden(
        ServerMessage::SfuCameras(SfuCameras {
            only: Some(vec![peer("p2"), peer("p3")]),
        }),
        None,
        r#"{"type":"sfu_cameras","payload":{"only":["p2","p3"]}}"#,
    );
    golden(
        ServerMessage::SfuCameras(SfuCameras { only: None }),
        None,
        r#"{"type":"sfu_cameras","payload":{"only":null}}"#,
    );
    golden(
        ServerMessage::SfuSlots(SfuSlots {
            tracks: vec![SfuTrack {
                mid: "4".into(),
                peer_id: peer("p3"),
                kind: SfuTrackKind::Camera,
            }],
        }),
        None,
        r#"{"type":"sfu_slots","payload":{"tracks":[{"mid":"4","peer_id":"p3","kind":"camera"}]}}"#,
    );
    golden(
        ServerMessage::HostChanged(PeerTarget {
            peer_id: peer("p2"),
        }),
        None,
        r#"{"type":"host_changed","payload":{"peer_id":"p2"}}"#,
    );
    golden(
        ServerMessage::MutedByHost(MutedByHost {
            kind: MediaKind::Audio,
        }),
        None,
        r#"{"type":"muted_by_host","payload":{"kind":"audio"}}"#,
    );
    golden(
        ServerMessage::Removed(Empty {}),
        None,
        r#"{"type":"removed","payload":{}}"#,
    );
    golden(
        ServerMessage::RoomAccess(RoomAccess {
            has_password: true,
            lobby: false,
        }),
        None,
        r#"{"type":"room_access","payload":{"has_password":true,"lobby":false}}"#,
    );
    golden(
        ServerMessage::Waiting(Waiting {
            room: room("board"),
        }),
        Some(3),
        r#"{"type":"waiting","payload":{"room":"board"},"id":3}"#,
    );
    golden(
        ServerMessage::Knock(PeerInfo {
            peer_id: peer("p3"),
            nickname: nick("Cy"),
        }),
        None,
        r#"{"type":"knock","payload":{"peer_id":"p3","nickname":"Cy"}}"#,
    );
    golden(
        ServerMessage::KnockWithdrawn(PeerTarget {
            peer_id: peer("p3"),
        }),
        None,
        r#"{"type":"knock_withdrawn","payload":{"peer_id":"p3"}}"#,
    );
    golden(
        ServerMessage::Rooms(Rooms {
            rooms: vec![RoomInfo {
                name: room("board"),
                participants: 2,
                locked: true,
            }],
        }),
        None,
        r#"{"type":"rooms","payload":{"rooms":[{"name":"board","participants":2,"locked":true}]}}"#,
    );
    golden(
        ServerMessage::PeerJoined(PeerInfo {
            peer_id: peer("p2"),
            nickname: nick("Grace"),
        }),
        None,
        r#"{"type":"peer_joined","payload":{"peer_id":"p2","nickname":"Grace"}}"#,
    );
    golden(
        ServerMessage::Left(Left {
            room: room("standup"),
        }),
        Some(3),
        r#"{"type":"left","payload":{"room":"standup"},"id":3}"#,
    );
    golden(
        ServerMessage::PeerLeft(PeerLeft {
            peer_id: peer("p2"),
        }),
        None,
        r#"{"type":"peer_left","payload":{"peer_id":"p2"}}"#,
    );
    golden(
        ServerMessage::Signal(SignalFrom {
            from: peer("p1"),
            data: SignalData::from_json(r#"{"description":{"type":"offer","sdp":"v=0\r\n"}}"#)
                .unwrap(),
        }),
        None,
        r#"{"type":"signal","payload":{"from":"p1","data":{"description":{"type":"offer","sdp":"v=0\r\n"}}}}"#,
    );
    golden(
        ServerMessage::Chat(ChatMessage {
            from: peer("p1"),
            nickname: nick("Ada"),
            text: ChatText::new("hi").unwrap(),
            ts: 1_700_000_000_000,
        }),
        None,
        r#"{"type":"chat","payload":{"from":"p1","nickname":"Ada","text":"hi","ts":1700000000000}}"#,
    );
    golden(
        ServerMessage::PeerUpdated(PeerInfo {
            peer_id: peer("p1"),
            nickname: nick("Ada L."),
        }),
        None,
        r#"{"type":"peer_updated","payload":{"peer_id":"p1","nickname":"Ada L."}}"#,
    );
    golden(
        ServerMessage::PeerStatus(PeerStatusUpdate {
            peer_id: peer("p1"),
            status: PeerStatus {
                muted: false,
                camera_off: true,
                hand_raised: false,
                presenting: false,
            },
        }),
        None,
        r#"{"type":"peer_status","payload":{"peer_id":"p1","muted":false,"camera_off":true,"hand_raised":false,"presenting":false}}"#,
    );
    golden(
        ServerMessage::Session(Session {
            resume_token: ResumeToken::new("0123456789abcdef0123456789abcdef").unwrap(),
            grace_ms: 30_000,
        }),
        None,
        r#"{"type":"session","payload":{"resume_token":"0123456789abcdef0123456789abcdef","grace_ms":30000}}"#,
    );
    golden(
        ServerMessage::Resumed(Joined {
            room: room("standup"),
            peer_id: peer("p2"),
            peers: vec![],
            host: peer("p2"),
            media: Media::Sfu,
        }),
        Some(5),
        r#"{"type":"resumed","payload":{"room":"standup","peer_id":"p2","peers":[],"host":"p2","media":"sfu"},"id":5}"#,
    );
    golden(
        ServerMessage::error(ErrorCode::RoomFull, "room is full"),
        Some(4),
        r#"{"type":"error","payload":{"code":"room_full","message":"room is full"},"id":4}"#,
    );
}

#[test]
fn a_welcome_without_a_file_cap_means_100_mb() {
    let old = r#"{"type":"welcome","payload":{"peer_id":"p1","ice_servers":[],"max_room_size":8,"protocol":1}}"#;
    let Ok(Envelope {
        message: ServerMessage::Welcome(welcome),
        ..
    }) = Envelope::<ServerMessage>::decode(old)
    else {
        panic!("a welcome from a server that states no file cap decodes");
    };
    assert_eq!(welcome.max_file_bytes, 100_000_000);
}

#[test]
fn every_error_code_has_its_wire_name() {
    for code in ErrorCode::ALL {
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, format!("\"{}\"", code.as_str()));
        assert_eq!(ErrorCode::from_wire(code.as_str()), Some(code));
    }
}

fn decode_err(json: &str) -> DecodeError {
    Envelope::<ClientMessage>::decode(json).unwrap_err()
}

#[test]
fn unknown_type_with_payload_is_a_precise_bad_message() {
    let err = decode_err(r#"{"type":"dance","payload":{"style":"tango"},"id":9}"#);
    assert_eq!(err.code, ErrorCode::BadMessage);
    assert_eq!(err.message, "unknown message type `dance`");
    assert_eq!(err.id, Some(9));
}

#[test]
fn invalid_json_is_bad_message() {
    let err = decode_err("{not json");
    assert_eq!(err.code, ErrorCode::BadMessage);
    assert_eq!(err.id, None);
    assert_eq!(decode_err("[1,2]").code, ErrorCode::BadMessage);
    assert_eq!(decode_err(r#"{"payload":{}}"#).code, ErrorCode::BadMessage);
}

#[test]
fn payload_that_does_not_fit_is_bad_message_with_id() {
    let err = decode_err(r#"{"type":"join","payload":{"room":"x"},"id":5}"#);
    assert_eq!(err.code, ErrorCode::BadMessage);
    assert!(err.message.contains("nickname"), "{}", err.message);
    assert_eq!(err.id, Some(5));
    let err = decode_err(r#"{"type":"signal","payload":{"to":"p1","data":"sdp"}}"#);
    assert_eq!(err.code, ErrorCode::BadMessage);
    assert!(err.message.contains("JSON object"), "{}", err.message);
}

#[test]
fn invalid_names_get_their_own_codes() {
    let err = decode_err(r#"{"type":"join","payload":{"room":"  ","nickname":"Ada"},"id":3}"#);
    assert_eq!(
        (err.code, err.message.as_str(), err.id),
        (ErrorCode::InvalidRoom, "must not be empty", Some(3))
    );
    let long = "n".repeat(33);
    let err = decode_err(&format!(
        r#"{{"type":"join","payload":{{"room":"r","nickname":"{long}"}}}}"#
    ));
    assert_eq!(err.code, ErrorCode::InvalidNickname);
    let err = decode_err(r#"{"type":"chat","payload":{"text":""}}"#);
    assert_eq!(err.code, ErrorCode::InvalidText);
}

#[test]
fn unknown_fields_are_ignored_and_missing_payload_is_empty() {
    let env = Envelope::<ClientMessage>::decode(r#"{"type":"leave","extra":1}"#).unwrap();
    assert_eq!(env.message, ClientMessage::Leave(Empty {}));
    let env = Envelope::<ClientMessage>::decode(
        r#"{"type":"join","payload":{"room":"r","nickname":"n","color":"red"},"v":2}"#,
    )
    .unwrap();
    assert!(matches!(env.message, ClientMessage::Join(_)));
    let env =
        Envelope::<ClientMessage>::decode(r#"{"type":"set_status","payload":{"muted":true}}"#)
            .unwrap();
    assert_eq!(
        env.message,
        ClientMessage::SetStatus(PeerStatus {
            muted: true,
            ..PeerStatus::default()
        })
    );
}

#[test]
fn payload_before_type_still_decodes() {
    let env = Envelope::<ClientMessage>::decode(
        r#"{"payload":{"to":"p1","data":{"candidate":{"candidate":"c","sdpMid":"0"}}},"type":"signal"}"#,
    )
    .unwrap();
    let ClientMessage::Signal(signal) = env.message else {
        panic!("not a signal")
    };
    assert_eq!(
        signal.data.as_json(),
        r#"{"candidate":{"candidate":"c","sdpMid":"0"}}"#
    );
}
