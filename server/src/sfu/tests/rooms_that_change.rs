//! Rooms over a long meeting: people who come and go, and more cameras than last-N.

use noom_shared::SfuView;

use super::*;

#[test]
fn members_coming_and_going_never_grow_a_connection_past_a_full_rooms_m_lines() {
    let mut net = Net::new();
    for name in ["ana", "ben", "cat"] {
        net.enter(name);
    }
    net.run(Duration::from_secs(1));
    // A long meeting: people drop in and out, one at a time.
    for n in 0..20 {
        let visitor = &format!("v{n}");
        net.enter(visitor);
        net.run(Duration::from_millis(300));
        net.exit(visitor);
        net.run(Duration::from_millis(300));
    }
    let ben = PeerId::new("ben").unwrap();
    let before = net.client("ana").heard_from(&ben);
    net.run(Duration::from_secs(1));
    let ana = net.client("ana");
    println!(
        "ana: at most {} m-lines, renewed {} times",
        ana.most_m_lines, ana.renewed
    );
    let full_room = 3 * MAX_ROOM_SIZE as usize;
    assert!(
        ana.most_m_lines <= full_room,
        "{} m-lines",
        ana.most_m_lines
    );
    assert!(
        ana.renewed >= 1,
        "an audio m-line for each of 20 visitors was offered to ana over time"
    );
    assert_eq!(ana.offer.as_ref().unwrap().tracks.len(), 5);
    let after = ana.heard_from(&ben);
    assert!(
        after > before + 30,
        "ben heard again: {before} then {after}"
    );
    assert!(net.errors.is_empty(), "{:?}", net.errors);
}

#[test]
fn in_a_room_beyond_last_n_each_member_gets_the_latest_speakers_cameras_and_everyones_audio() {
    let mut net = Net::with_last_n(2);
    for name in ["ana", "ben", "cat", "dan", "eve"] {
        net.enter(name);
    }
    for client in &mut net.clients {
        client.sends_video = true;
        client.speaking = ["dan", "eve"].contains(&client.id.as_str());
    }
    net.run(Duration::from_secs(2));
    let only = |net: &Net, viewer: &str| {
        let cameras = net.client(viewer).cameras.clone().unwrap();
        cameras
            .only
            .unwrap()
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(only(&net, "ana"), ["dan", "eve"]);
    assert_eq!(
        only(&net, "dan"),
        ["ana", "eve"],
        "eve spoke; then ana, by id"
    );
    let frames = |net: &Net, from: &str| camera_frames(net, "ana", from).len();
    // Before anyone spoke, ana had ben's and cat's (first by id); now dan's and eve's only.
    let counts = |net: &Net| ["ben", "cat", "dan", "eve"].map(|from| frames(net, from));
    let before = counts(&net);
    net.run(Duration::from_secs(1));
    let after = counts(&net);
    assert_eq!(
        &after[..2],
        &before[..2],
        "ben and cat are not among ana's two"
    );
    assert!(
        after[2] > before[2] + 20 && after[3] > before[3] + 20,
        "{before:?} {after:?}"
    );
    let ben = PeerId::new("ben").unwrap();
    assert!(
        net.client("ana").heard_from(&ben) > 20,
        "everyone's audio still comes"
    );

    // Ben speaks up and Eve falls silent: Ana gets Ben's camera (from a keyframe) instead,
    // on the slot that carried Eve's, without a new offer.
    let ben_stopped_at = frames(&net, "ben");
    let offers = net.client("ana").offers;
    let slots_before = camera_slots(&net, "ana");
    for client in &mut net.clients {
        client.speaking = ["dan", "ben"].contains(&client.id.as_str());
    }
    net.run(Duration::from_secs(2));
    assert_eq!(only(&net, "ana"), ["ben", "dan"]);
    let (ben_before, eve_before) = (frames(&net, "ben"), frames(&net, "eve"));
    net.run(Duration::from_secs(1));
    assert!(frames(&net, "ben") > ben_before + 20, "ben's camera comes");
    assert_eq!(frames(&net, "eve"), eve_before, "eve's stopped");
    let resumed = camera_frames(&net, "ana", "ben")[ben_stopped_at];
    assert_eq!(resumed, VP8_KEYFRAME, "it starts again at a keyframe");
    let slots_after = camera_slots(&net, "ana");
    assert_eq!(net.client("ana").offers, offers, "no new offer");
    assert_eq!(
        slots_before[0],
        ("dan".to_owned(), slots_after[1].1.clone())
    );
    assert_eq!(slots_before[1].0, "eve");
    assert_eq!(
        slots_after[0],
        ("ben".to_owned(), slots_before[1].1.clone())
    );
    assert_eq!(
        net.client("ana").most_m_lines,
        3 + 4 + 2,
        "its own, the audio of 4 others, and 2 camera slots"
    );

    // Ana pins Cat, who never spoke: Cat's camera takes the first of Ana's places at once
    // (within a step, not the next 500 ms round), Dan's the other; the others keep theirs.
    let pin = SfuView {
        tiles: Vec::new(),
        pinned: Some(PeerId::new("cat").unwrap()),
    };
    net.forwarder
        .view(&PeerId::new("ana").unwrap(), pin)
        .unwrap();
    net.step();
    assert_eq!(
        only(&net, "ana"),
        ["ben", "cat"],
        "cat pinned, then a latest speaker (ben before dan by id)"
    );
    assert_eq!(
        only(&net, "eve"),
        ["ben", "dan"],
        "a pin is the pinner's own"
    );
    let cat_before = frames(&net, "cat");
    net.run(Duration::from_secs(1));
    assert!(frames(&net, "cat") > cat_before + 20, "cat's camera comes");
    for viewer in ["ana", "ben", "cat", "dan", "eve"] {
        for (owner, frame) in &net.client(viewer).heard {
            if let Some((from, SfuTrackKind::Camera)) = owner {
                assert_eq!(
                    frame[1],
                    from.as_str().as_bytes()[0],
                    "{viewer} got a frame of {from}'s camera from someone else"
                );
            }
        }
    }
    assert!(net.errors.is_empty(), "{:?}", net.errors);
}

/// Whose camera each of `viewer`'s camera slots carries, by peer id: (peer, mid).
fn camera_slots(net: &Net, viewer: &str) -> Vec<(String, String)> {
    let client = net.client(viewer);
    let mut slots: Vec<(String, String)> = (client.tracks.iter())
        .filter(|t| t.kind == SfuTrackKind::Camera && t.peer_id != client.id)
        .map(|t| (t.peer_id.to_string(), t.mid.clone()))
        .collect();
    slots.sort();
    slots
}

#[test]
fn when_every_camera_fits_the_slots_go_to_the_members_whose_camera_sends() {
    // Four others and two slots (last-N 2), but only Dan and Eve, last by id, send a camera:
    // both fit, so Ana gets both, whoever is first by id.
    let mut net = Net::with_last_n(2);
    for name in ["ana", "ben", "cat", "dan", "eve"] {
        net.enter(name);
    }
    for client in &mut net.clients {
        client.sends_video = ["dan", "eve"].contains(&client.id.as_str());
    }
    net.run(Duration::from_secs(3));
    let ana = net.client("ana");
    assert!(
        ana.cameras.as_ref().is_none_or(|c| c.only.is_none()),
        "every camera fits"
    );
    for from in ["dan", "eve"] {
        let frames = camera_frames(&net, "ana", from).len();
        assert!(frames > 50, "ana got {frames} frames of {from}'s camera");
    }
    let slots: Vec<String> = camera_slots(&net, "ana")
        .into_iter()
        .map(|(peer, _)| peer)
        .collect();
    assert_eq!(slots, ["dan", "eve"]);
}

#[test]
fn a_screen_comes_on_a_slot_offered_once_someone_presents_and_the_slot_goes_to_the_next() {
    let mut net = Net::new();
    for name in ["ana", "ben", "cat"] {
        net.enter(name);
    }
    net.run(Duration::from_secs(1));
    assert_eq!(
        net.client("ben").most_m_lines,
        3 + 2 + 2,
        "its own, two others' audio, two camera slots: no screen slot while nobody presents"
    );
    let screen_frames = |net: &Net, viewer: &str, from: &str| {
        let from = PeerId::new(from).unwrap();
        (net.client(viewer).heard.iter())
            .filter(|(owner, frame)| {
                let on_screen = *owner == Some((from.clone(), SfuTrackKind::Screen));
                on_screen && frame[1] == from.as_str().as_bytes()[0]
            })
            .count()
    };

    net.clients[0].sends_screen = true;
    net.run(Duration::from_secs(2));
    for viewer in ["ben", "cat"] {
        let frames = screen_frames(&net, viewer, "ana");
        assert!(frames > 30, "{viewer} got {frames} frames of ana's screen");
    }
    assert_eq!(net.client("ben").most_m_lines, 8, "one screen slot added");
    let offers = net.client("ben").offers;

    // Ana stops, then Cat presents: Cat's screen takes the slot, with no new m-line or offer.
    net.clients[0].sends_screen = false;
    net.run(Duration::from_secs(2));
    net.clients[2].sends_screen = true;
    net.run(Duration::from_secs(3));
    let before = screen_frames(&net, "ben", "cat");
    net.run(Duration::from_secs(1));
    let after = screen_frames(&net, "ben", "cat");
    assert!(
        after > before + 30,
        "cat's screen comes: {before} then {after}"
    );
    let ben = net.client("ben");
    assert_eq!((ben.most_m_lines, ben.offers), (8, offers));
    let screens: Vec<&str> = (ben.tracks.iter())
        .filter(|t| t.kind == SfuTrackKind::Screen && t.peer_id != ben.id)
        .map(|t| t.peer_id.as_str())
        .collect();
    assert_eq!(screens, ["cat"], "ana's screen is no longer on a slot");
    assert!(net.errors.is_empty(), "{:?}", net.errors);
}

#[test]
fn a_camera_turned_on_is_given_its_place_at_once_not_at_the_next_round() {
    // One place each (last-N 1): Dan gets Cat's camera, the only one on.
    let mut net = Net::with_last_n(1);
    for name in ["ana", "ben", "cat", "dan"] {
        net.enter(name);
    }
    net.clients[2].sends_video = true;
    net.run(Duration::from_secs(2));
    assert!(camera_frames(&net, "dan", "cat").len() > 50);
    // A pin has everyone's cameras chosen at the next poll: the 500 ms round starts now.
    let pin = SfuView {
        tiles: Vec::new(),
        pinned: Some(PeerId::new("cat").unwrap()),
    };
    net.forwarder
        .view(&PeerId::new("ana").unwrap(), pin)
        .unwrap();
    net.step();
    // Ben's camera comes on: first by id among two cameras, it takes Dan's place within a few
    // frames, long before the next round.
    net.clients[1].sends_video = true;
    net.run(Duration::from_millis(200));
    let got = camera_frames(&net, "dan", "ben").len();
    assert!(got >= 3, "dan got {got} frames of ben's camera in 200 ms");
}
