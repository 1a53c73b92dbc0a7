//! The server's hot paths, so that a regression shows up in review:
//! - `envelope`: decode a client `signal` frame and encode the relayed server frame;
//! - `relay`: one `signal` through the hub, encoded once and queued for its recipient;
//! - `fanout`: one `chat` in a room of 8, encoded once and queued for all 8.
//!
//! The switchboard's own work is the hub call, one encode per outgoing message and a
//! `try_send` per recipient; `deliver` below does exactly that (minus the uncontended lock).
//! Run with `cargo bench -p noom-server`.

use criterion::{Criterion, criterion_group, criterion_main};
use noom_server::{Hub, Outgoing, ResumePolicy};
use noom_shared::{
    ChatSend, ChatText, ClientMessage, Envelope, Join, Nickname, PeerId, ResumeToken, RoomName,
    ServerMessage,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// A realistic `signal`: an ICE candidate, as browsers send dozens of them per call.
const SIGNAL: &str = r#"{"type":"signal","payload":{"to":"b","data":{"candidate":{"candidate":"candidate:842163049 1 udp 1677729535 192.0.2.10 3478 typ srflx raddr 10.0.0.5 rport 50000 generation 0 ufrag sK4a network-cost 999","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"sK4a"}}}}"#;

fn peer(index: usize) -> PeerId {
    PeerId::new(&format!("p{index}")).unwrap_or_else(|_| unreachable!())
}

/// A hub with `members` peers `p0..` in room `r`, and a queue per peer.
fn room(
    members: usize,
) -> (
    Hub,
    Vec<mpsc::Receiver<Message>>,
    Vec<mpsc::Sender<Message>>,
) {
    let resume = ResumePolicy {
        grace_ms: 0,
        new_token: || ResumeToken::new("0123456789abcdef").unwrap_or_else(|_| unreachable!()),
    };
    let mut hub = Hub::new(Some(members), resume);
    let (mut queues, mut receivers) = (Vec::new(), Vec::new());
    for index in 0..members {
        hub.connect(peer(index));
        let join = ClientMessage::Join(Join {
            room: RoomName::new("r").unwrap_or_else(|_| unreachable!()),
            nickname: Nickname::new("n").unwrap_or_else(|_| unreachable!()),
            password: None,
        });
        hub.handle(&peer(index), Envelope::new(join), 0);
        let (tx, rx) = mpsc::channel(256);
        queues.push(tx);
        receivers.push(rx);
    }
    (hub, receivers, queues)
}

/// What the switchboard does with the hub's answer: encode each message once, queue it for
/// each recipient (peers are `p<index>`).
fn deliver(out: Vec<Outgoing>, queues: &[mpsc::Sender<Message>]) {
    for Outgoing { to, id, message } in out {
        let frame = Message::text(Envelope::with_id(message, id).encode());
        for peer in &to {
            let index: usize = peer[1..].parse().unwrap_or(0);
            let _ = queues[index].try_send(frame.clone());
        }
    }
}

fn drain(receivers: &mut [mpsc::Receiver<Message>]) {
    for rx in receivers {
        while rx.try_recv().is_ok() {}
    }
}

fn envelope(c: &mut Criterion) {
    c.bench_function("envelope: decode signal + encode relayed signal", |b| {
        b.iter(|| {
            let Ok(Envelope {
                message: ClientMessage::Signal(signal),
                ..
            }) = Envelope::<ClientMessage>::decode(SIGNAL)
            else {
                unreachable!()
            };
            let relayed = ServerMessage::Signal(noom_shared::SignalFrom {
                from: peer(0),
                data: signal.data,
            });
            Envelope::new(relayed).encode()
        });
    });
}

fn relay(c: &mut Criterion) {
    let (mut hub, mut receivers, queues) = room(2);
    let from = peer(0);
    let text = SIGNAL.replace(r#""to":"b""#, r#""to":"p1""#);
    c.bench_function("relay: decode + hub + encode + queue one signal", |b| {
        b.iter(|| {
            let Ok(envelope) = Envelope::<ClientMessage>::decode(&text) else {
                unreachable!()
            };
            deliver(hub.handle(&from, envelope, 0), &queues);
            drain(&mut receivers);
        });
    });
}

fn fanout(c: &mut Criterion) {
    let (mut hub, mut receivers, queues) = room(8);
    let from = peer(0);
    let text =
        ChatText::new("see you all at the stand-up tomorrow").unwrap_or_else(|_| unreachable!());
    c.bench_function("fanout: hub + encode once + queue a chat for 8", |b| {
        b.iter(|| {
            let chat = ClientMessage::Chat(ChatSend { text: text.clone() });
            deliver(hub.handle(&from, Envelope::new(chat), 0), &queues);
            drain(&mut receivers);
        });
    });
}

criterion_group!(benches, envelope, relay, fanout);
criterion_main!(benches);
