//! When a room's media moves between the mesh and the SFU, and who is told.

use noom_shared::{ErrorCode, Media, MediaChanged};

use super::tests::{hub_with, join, peer, send};
use super::*;

fn media_told(out: &[Outgoing]) -> Vec<(Vec<PeerId>, Media)> {
    out.iter()
        .filter_map(|o| match &o.message {
            ServerMessage::MediaChanged(MediaChanged { media }) => Some((o.to.clone(), *media)),
            _ => None,
        })
        .collect()
}

fn joined_media(out: &[Outgoing]) -> Option<Media> {
    out.iter().find_map(|o| match &o.message {
        ServerMessage::Joined(joined) => Some(joined.media),
        _ => None,
    })
}

#[test]
fn a_third_member_moves_the_room_to_the_sfu_and_a_leave_moves_it_back() {
    let mut hub = hub_with(&["a", "b", "c"], 8).with_sfu_if(Some(2));
    assert_eq!(
        joined_media(&send(&mut hub, "a", join("r", "Ada"))),
        Some(Media::Mesh)
    );
    assert_eq!(
        joined_media(&send(&mut hub, "b", join("r", "Bob"))),
        Some(Media::Mesh)
    );
    assert!(
        hub.take_media_changes()
            .iter()
            .all(|c| matches!(c, MediaChange::Exit(_)))
    );

    let out = send(&mut hub, "c", join("r", "Cat"));
    assert_eq!(joined_media(&out), Some(Media::Sfu));
    assert_eq!(
        media_told(&out),
        vec![(vec![peer("a"), peer("b")], Media::Sfu)]
    );
    let room = RoomName::new("r").unwrap();
    assert_eq!(
        hub.take_media_changes(),
        ["a", "b", "c"].map(|p| MediaChange::Enter(peer(p), room.clone()))
    );
    assert_eq!(hub.media_of(&peer("a")), Some(Media::Sfu));

    let out = send(&mut hub, "c", ClientMessage::Leave(noom_shared::Empty {}));
    assert_eq!(
        media_told(&out),
        vec![(vec![peer("a"), peer("b")], Media::Mesh)]
    );
    assert_eq!(
        hub.take_media_changes(),
        ["c", "a", "b"].map(|p| MediaChange::Exit(peer(p)))
    );
    assert_eq!(hub.media_of(&peer("a")), Some(Media::Mesh));
}

#[test]
fn without_the_sfu_every_room_stays_a_mesh() {
    let mut hub = hub_with(&["a", "b", "c"], 8);
    for (id, nick) in [("a", "Ada"), ("b", "Bob"), ("c", "Cat")] {
        let out = send(&mut hub, id, join("r", nick));
        assert_eq!(joined_media(&out), Some(Media::Mesh));
        assert!(media_told(&out).is_empty());
    }
    assert!(hub.take_media_changes().is_empty());
    let answer = ClientMessage::SfuRestart(noom_shared::Empty {});
    let refused = send(&mut hub, "a", answer);
    assert_eq!(super::tests::error_code(&refused), Some(ErrorCode::BadSdp));
}
