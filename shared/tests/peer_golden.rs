//! Golden tests of what browsers send one another: the bytes today's clients write (pinned from
//! `JSON.stringify` of the browser's own objects), decoded into the typed payloads and encoded
//! back to the same bytes.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use noom_shared::*;

fn signal(json: &str) -> SignalData {
    SignalData::from_json(json).unwrap()
}

/// `json` decodes to `expected` and `expected` encodes to exactly `json`.
fn golden_signal(expected: PeerSignal, json: &str) {
    assert_eq!(PeerSignal::decode(&signal(json)).unwrap(), expected);
    assert_eq!(expected.encode().unwrap().as_json(), json);
}

fn golden_file(expected: FileControl, json: &str) {
    assert_eq!(FileControl::decode(json).unwrap(), expected);
    assert_eq!(expected.encode(), json);
}

#[test]
fn descriptions_say_which_stream_is_the_screen() {
    golden_signal(
        PeerSignal::Description {
            description: SessionDescription {
                kind: SdpType::Offer,
                sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n".to_owned(),
            },
            screen: None,
            files_only: false,
        },
        r#"{"description":{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"},"screen":null}"#,
    );
    golden_signal(
        PeerSignal::Description {
            description: SessionDescription {
                kind: SdpType::Answer,
                sdp: "v=0\r\n".to_owned(),
            },
            screen: Some("{3f2a-screen}".to_owned()),
            files_only: false,
        },
        r#"{"description":{"type":"answer","sdp":"v=0\r\n"},"screen":"{3f2a-screen}"}"#,
    );
}

#[test]
fn candidates_and_their_end() {
    golden_signal(
        PeerSignal::Candidate {
            candidate: Some(IceCandidate {
                candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host".to_owned(),
                sdp_mid: Some("0".to_owned()),
                sdp_m_line_index: Some(0),
                username_fragment: Some("Xy9z".to_owned()),
            }),
            files_only: false,
        },
        r#"{"candidate":{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"Xy9z"}}"#,
    );
    golden_signal(
        PeerSignal::Candidate {
            candidate: None,
            files_only: false,
        },
        r#"{"candidate":null}"#,
    );
}

#[test]
fn the_signals_of_a_files_only_link_say_so() {
    golden_signal(
        PeerSignal::Description {
            description: SessionDescription {
                kind: SdpType::Offer,
                sdp: "v=0\r\n".to_owned(),
            },
            screen: None,
            files_only: true,
        },
        r#"{"description":{"type":"offer","sdp":"v=0\r\n"},"screen":null,"files_only":true}"#,
    );
    let end = PeerSignal::Candidate {
        candidate: None,
        files_only: true,
    };
    golden_signal(end.clone(), r#"{"candidate":null,"files_only":true}"#);
    assert!(end.files_only());
    assert!(
        !PeerSignal::decode(&signal(r#"{"candidate":null}"#))
            .unwrap()
            .files_only()
    );
}

#[test]
fn other_clients_may_leave_optional_fields_out() {
    // No `screen` (a client that never presents), no `sdpMid`/`usernameFragment`.
    let bare = PeerSignal::decode(&signal(r#"{"description":{"type":"offer","sdp":"v=0"}}"#));
    assert!(matches!(
        bare,
        Ok(PeerSignal::Description { screen: None, .. })
    ));
    let candidate = PeerSignal::decode(&signal(r#"{"candidate":{"candidate":""}}"#)).unwrap();
    let PeerSignal::Candidate {
        candidate: Some(candidate),
        ..
    } = candidate
    else {
        panic!("not a candidate: {candidate:?}");
    };
    assert_eq!(candidate.candidate, "");
    assert_eq!(candidate.sdp_m_line_index, None);
}

#[test]
fn malformed_signals_are_errors_not_guesses() {
    for json in [
        r#"{"description":{"type":"bogus","sdp":""}}"#,
        r#"{"description":"offer"}"#,
        r#"{"candidate":{"candidate":5}}"#,
    ] {
        assert!(PeerSignal::decode(&signal(json)).is_err(), "{json}");
    }
}

#[test]
fn file_channel_control_messages() {
    golden_file(
        FileControl::Offer(FileOffer {
            id: 7,
            name: "a.pdf".to_owned(),
            size: 1234,
            mime: "application/pdf".to_owned(),
            sha256: "9f86d081".to_owned(),
        }),
        r#"{"id":7,"mime":"application/pdf","name":"a.pdf","sha256":"9f86d081","size":1234,"t":"offer"}"#,
    );
    golden_file(FileControl::Cancel { id: 7 }, r#"{"id":7,"t":"cancel"}"#);
    golden_file(FileControl::Accept { id: 7 }, r#"{"id":7,"t":"accept"}"#);
    golden_file(FileControl::Decline { id: 7 }, r#"{"id":7,"t":"decline"}"#);
    golden_file(
        FileControl::Received { id: 7 },
        r#"{"id":7,"t":"received"}"#,
    );
}

#[test]
fn file_offers_need_name_size_and_checksum_but_not_a_type() {
    let no_mime = FileControl::decode(r#"{"t":"offer","id":1,"name":"x","size":3,"sha256":"ab"}"#);
    assert!(
        matches!(no_mime, Ok(FileControl::Offer(FileOffer { ref mime, .. })) if mime.is_empty())
    );
    for json in [
        r#"{"t":"offer","id":1,"size":3,"sha256":"ab"}"#,
        r#"{"t":"offer","id":1,"name":"x","sha256":"ab"}"#,
        r#"{"t":"offer","id":1,"name":"x","size":3}"#,
        r#"{"t":"shred","id":1}"#,
        r#"{"t":"cancel","id":-1}"#,
        r#"{"t":"cancel"}"#,
    ] {
        assert!(FileControl::decode(json).is_err(), "{json}");
    }
}
