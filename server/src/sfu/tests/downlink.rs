//! The layers a viewer gets are capped by what its downlink was seen to carry: behind a slow
//! link the full-size tile loses packets, the receiver reports say so, and the tile gets the
//! small layer; when the link widens again the cap rises until the large layer comes back.

use super::simulcast::{FULL, QUARTER, layers_ben_got, show_ana_to_ben};
use super::*;

/// Ana's camera in 150 kbit/s and 1.5 Mbit/s layers to Ben, who shows it at full size
/// behind a downlink of `kbps`.
fn ana_to_ben_behind(kbps: u64) -> Net {
    let mut net = ana_on_camera_and_ben(Net::new(), 0);
    net.clients[0].layers = vec![QUARTER, FULL];
    net.clients[1].downlink = Some(Link::new(kbps));
    show_ana_to_ben(&mut net, 1280, 720);
    net
}

/// The layers of the frames Ben got in the last `span` of running.
fn layers_over(net: &mut Net, span: Duration) -> Vec<char> {
    let before = layers_ben_got(net).len();
    net.run(span);
    layers_ben_got(net)[before..]
        .iter()
        .map(|(layer, _)| *layer)
        .collect()
}

#[test]
fn a_slow_downlink_gets_the_small_layer_and_the_large_one_when_it_widens() {
    let mut net = ana_to_ben_behind(700);
    net.run(Duration::from_secs(6));
    let slow = layers_over(&mut net, Duration::from_secs(2));
    let quarter = slow.iter().filter(|l| **l == 'q').count();
    assert!(
        quarter > 80 && quarter == slow.len(),
        "behind 700 kbit/s the 1.5 Mbit/s layer does not fit: {slow:?}"
    );
    let dropped = net.client("ben").downlink.as_ref().unwrap().dropped;
    println!("packets lost on the slow link before the cap held: {dropped}");
    assert!(
        net.forwarder.tally.downlink_cuts > 0,
        "counted for /metrics"
    );

    net.clients[1].downlink.as_mut().unwrap().set_kbps(20_000);
    let mut waited = Duration::ZERO;
    let raised = loop {
        let got = layers_over(&mut net, Duration::from_secs(1));
        waited += Duration::from_secs(1);
        if got.iter().rev().take(25).all(|l| *l == 'f') && got.len() > 25 {
            break true;
        }
        if waited >= Duration::from_secs(60) {
            break false;
        }
    };
    assert!(raised, "the widened link never got the full layer back");
    println!("the full layer was back within {waited:?} of the link widening");
}
