//! Simulcast: each viewer gets the layer that fits the tile it shows a camera in, and changes
//! layer only at the new layer's keyframe.

use noom_shared::{SfuTile, SfuView};

use super::*;

/// 150 kbit/s and 1.5 Mbit/s, as the browser sends its smallest and largest layers.
pub(super) const QUARTER: TestLayer = TestLayer {
    rid: "q",
    width: 320,
    height: 180,
    frame_bytes: 375,
};
pub(super) const FULL: TestLayer = TestLayer {
    rid: "f",
    width: 1280,
    height: 720,
    frame_bytes: 3_750,
};

/// Ana sends her camera in two layers to Ben, who shows it at `width`×`height`.
fn ana_in_two_layers_to_ben(width: u32, height: u32) -> Net {
    let mut net = ana_on_camera_and_ben(Net::new(), 300);
    net.clients[0].layers = vec![QUARTER, FULL];
    show_ana_to_ben(&mut net, width, height);
    net
}

pub(super) fn show_ana_to_ben(net: &mut Net, width: u32, height: u32) {
    let tile = SfuTile {
        peer_id: PeerId::new("ana").unwrap(),
        kind: SfuTrackKind::Camera,
        width,
        height,
    };
    let ben = PeerId::new("ben").unwrap();
    let view = SfuView {
        tiles: vec![tile],
        pinned: None,
    };
    net.forwarder.view(&ben, view).unwrap();
}

/// The layers (by their marker byte) and keyframe flags of Ana's frames Ben got.
pub(super) fn layers_ben_got(net: &Net) -> Vec<(char, bool)> {
    let ana = PeerId::new("ana").unwrap();
    let ben = net.client("ben");
    ben.heard
        .iter()
        .filter(|(owner, _)| *owner == Some((ana.clone(), SfuTrackKind::Camera)))
        .map(|(_, frame)| (char::from(frame[10]), frame[0] == VP8_KEYFRAME))
        .collect()
}

#[test]
fn a_layer_whose_first_keyframe_was_missed_is_asked_for_one_and_then_sent() {
    // Ana's small layer starts later than her full one, without a keyframe: its size is
    // unknown, so no tile could be given it until the server asks for a keyframe.
    let mut net = ana_on_camera_and_ben(Net::new(), 300);
    net.clients[0].layers = vec![FULL];
    show_ana_to_ben(&mut net, 240, 135);
    net.run(Duration::from_secs(1));
    assert!(layers_ben_got(&net).iter().all(|(layer, _)| *layer == 'f'));
    let asked = net.client("ana").keyframe_requests;
    net.clients[0].layers = vec![QUARTER, FULL];
    net.clients[0].keyframe_due = false;
    net.run(Duration::from_secs(1));
    assert!(
        net.client("ana").keyframe_requests > asked,
        "the server asks for a keyframe"
    );
    let got = layers_ben_got(&net);
    assert!(
        got.iter().rev().take(10).all(|(layer, _)| *layer == 'q'),
        "Ben gets the small layer: {got:?}"
    );
}

#[test]
fn a_small_tile_gets_the_small_layer_and_a_large_one_the_full_layer_from_its_keyframe() {
    let mut net = ana_in_two_layers_to_ben(240, 135);
    net.run(Duration::from_secs(2));
    let small = layers_ben_got(&net);
    assert!(small.len() > 30, "Ben got {} frames", small.len());
    assert!(small[0].1, "the first frame is a keyframe");
    // The sizes are known from the first keyframes: what came before may be either layer.
    let settled = &small[small.len() / 2..];
    assert!(
        settled.iter().all(|(layer, _)| *layer == 'q'),
        "a 240×135 tile gets the quarter layer: {settled:?}"
    );

    show_ana_to_ben(&mut net, 1280, 720);
    let before = layers_ben_got(&net).len();
    net.run(Duration::from_secs(1));
    let after = &layers_ben_got(&net)[before..];
    let first_full = after.iter().position(|(layer, _)| *layer == 'f');
    let Some(first_full) = first_full else {
        panic!("the speaker's tile never got the full layer: {after:?}")
    };
    assert!(
        after[first_full].1,
        "the change is at a keyframe: {after:?}"
    );
    assert!(
        after[first_full..].iter().all(|(layer, _)| *layer == 'f'),
        "no quarter frame after the change: {after:?}"
    );
    assert!(
        after[..first_full].iter().all(|(layer, _)| *layer == 'q'),
        "the quarter layer until then: {after:?}"
    );
    println!("changed layer after {first_full} frames of 20 ms");
}

#[test]
fn a_tile_not_shown_gets_no_video_and_starts_again_at_a_keyframe() {
    let mut net = ana_in_two_layers_to_ben(0, 0);
    net.run(Duration::from_secs(1));
    assert_eq!(layers_ben_got(&net), [], "a hidden tile gets nothing");
    assert!(
        net.client("ben").heard_from(&PeerId::new("ana").unwrap()) > 20,
        "audio goes on"
    );
    show_ana_to_ben(&mut net, 320, 180);
    net.run(Duration::from_secs(1));
    let got = layers_ben_got(&net);
    assert!(got.len() > 20, "shown again: {got:?}");
    assert!(got[0].1, "from a keyframe");
}

#[test]
fn a_viewer_that_never_says_gets_the_largest_layer() {
    let mut net = ana_on_camera_and_ben(Net::new(), 300);
    net.clients[0].layers = vec![QUARTER, FULL];
    net.run(Duration::from_secs(2));
    let got = layers_ben_got(&net);
    let settled = &got[got.len() / 2..];
    assert!(
        !settled.is_empty() && settled.iter().all(|(layer, _)| *layer == 'f'),
        "{got:?}"
    );
}
