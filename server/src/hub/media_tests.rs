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

/// Two nodes' hubs, applying the cluster's events in one order.
struct TwoNodes {
    n1: Hub,
    n2: Hub,
}

impl TwoNodes {
    /// `n1` serves `on_n1`, `n2` serves `on_n2`; rooms go to the SFU beyond one member.
    fn new(on_n1: &[&str], on_n2: &[&str]) -> Self {
        let node = |name: &str, local: &[&str]| {
            let mut hub = hub_with(local, 8).with_sfu_if(Some(1));
            hub.set_node(name);
            hub
        };
        Self {
            n1: node("n1", on_n1),
            n2: node("n2", on_n2),
        }
    }

    /// `from`'s request, decided by its node and applied by both; what each node sends.
    fn request(&mut self, from: &str, message: ClientMessage) -> (Vec<Outgoing>, Vec<Outgoing>) {
        let (origin, name) = if self.n1.is_local(&peer(from)) {
            (&self.n1, "n1")
        } else {
            (&self.n2, "n2")
        };
        let Decision::Apply(mut event) = origin.decide(&peer(from), Envelope::new(message), 0)
        else {
            panic!("{from}'s request was not applied");
        };
        event.stamp(name);
        self.apply(event)
    }

    fn apply(&mut self, event: Event) -> (Vec<Outgoing>, Vec<Outgoing>) {
        (self.n1.apply(event.clone()), self.n2.apply(event))
    }
}

fn entered(changes: &[MediaChange]) -> Vec<PeerId> {
    changes
        .iter()
        .filter_map(|c| match c {
            MediaChange::Enter(peer, _) => Some(peer.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn in_a_cluster_the_media_lives_on_the_node_where_the_room_became_an_sfu_room() {
    let mut nodes = TwoNodes::new(&["a", "c"], &["b"]);
    nodes.request("a", join("r", "Ada"));
    nodes.request("b", join("r", "Bob"));
    nodes.request("c", join("r", "Cat"));
    assert!(entered(&nodes.n1.take_media_changes()).is_empty());
    assert_eq!(
        entered(&nodes.n2.take_media_changes()),
        ["a", "b", "c"].map(peer),
        "b's join made it an SFU room, on b's node"
    );

    // a's answer goes through the cluster to n2's media task only.
    let answer = ClientMessage::SfuAnswer(noom_shared::SfuAnswer { sdp: "v=0".into() });
    nodes.request("a", answer);
    assert!(nodes.n1.take_media_changes().is_empty());
    let sdp = "v=0".to_owned();
    assert_eq!(
        nodes.n2.take_media_changes(),
        vec![MediaChange::Request(peer("a"), SfuRequest::Answer { sdp })]
    );

    // n2's offer for a reaches a through the node a is on.
    let offer = ServerMessage::error(ErrorCode::BadSdp, "for a");
    let told = nodes.apply(Event::SfuTell {
        to: peer("a"),
        message: offer.clone(),
    });
    assert_eq!(told.0.len(), 1);
    assert_eq!(
        (told.0[0].to.clone(), &told.0[0].message),
        (vec![peer("a")], &offer)
    );
    assert!(told.1.is_empty());

    // n2 dies and its peer is reaped: the room's media moves to n1, and both are told.
    let (out, _) = nodes.apply(Event::Gone { peer: peer("b") });
    assert_eq!(
        media_told(&out),
        vec![(vec![peer("a"), peer("c")], Media::Sfu)]
    );
    assert_eq!(
        entered(&nodes.n1.take_media_changes()),
        ["a", "c"].map(peer)
    );
    let answer = ClientMessage::SfuRestart(noom_shared::Empty {});
    nodes.request("c", answer);
    assert_eq!(
        nodes.n1.take_media_changes(),
        vec![MediaChange::Request(peer("c"), SfuRequest::Restart)]
    );
}

#[test]
fn a_room_moves_its_media_when_its_media_nodes_last_member_resumes_elsewhere() {
    let mut nodes = TwoNodes::new(&["a"], &["b"]);
    nodes.request("a", join("r", "Ada"));
    let (_, out) = nodes.request("b", join("r", "Bob"));
    let token = super::tests::session_token(&out);
    nodes.n2.take_media_changes();
    // b's node goes away; b's client reconnects through n1.
    nodes.n1.connect(peer("b2"));
    let resume = ClientMessage::Resume(noom_shared::Resume { token });
    let (out, _) = nodes.request("b2", resume);
    assert_eq!(
        media_told(&out),
        vec![(vec![peer("a"), peer("b")], Media::Sfu)]
    );
    assert_eq!(
        entered(&nodes.n1.take_media_changes()),
        ["a", "b"].map(peer)
    );
    assert_eq!(
        nodes.n2.take_media_changes(),
        ["a", "b"].map(|p| MediaChange::Exit(peer(p)))
    );
}
