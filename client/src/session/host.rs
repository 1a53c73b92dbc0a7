//! The room's host, as the server says: who it is, what the host may do to others (hand the
//! role over, ask them to mute, take them out), and what this visit does when the host does
//! it to us.

use leptos::prelude::*;
use noom_shared::{ClientMessage, MediaKind, MutePeer, PeerId, PeerTarget};

use super::Session;
use super::welcome::Phase;
use crate::i18n::{Texts, t_now};

/// What a host may do to another member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostAction {
    MuteAudio,
    MuteVideo,
    MakeHost,
    Remove,
}

impl HostAction {
    /// The message that asks the server to do it to `peer`.
    pub fn message(self, peer: PeerId) -> ClientMessage {
        let mute = |kind| {
            ClientMessage::MutePeer(MutePeer {
                peer_id: peer.clone(),
                kind,
            })
        };
        match self {
            Self::MuteAudio => mute(MediaKind::Audio),
            Self::MuteVideo => mute(MediaKind::Video),
            Self::MakeHost => ClientMessage::MakeHost(PeerTarget { peer_id: peer }),
            Self::Remove => ClientMessage::RemovePeer(PeerTarget { peer_id: peer }),
        }
    }
}

/// What the host turning something off for us says, in `texts`' words.
pub fn muted_by_host_text(texts: &Texts, kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Audio => texts.host_muted_mic,
        MediaKind::Video => texts.host_stopped_camera,
    }
}

impl Session {
    /// The room's host, once in the call.
    pub fn host(self) -> ReadSignal<Option<PeerId>> {
        self.host.read_only()
    }

    /// Whether we are the room's host.
    pub fn am_host(self) -> Signal<bool> {
        Signal::derive(move || {
            let me = self.inner.with_value(|i| i.self_id.clone());
            me.is_some() && self.host.get() == me
        })
    }

    /// As host, does `action` to `peer`.
    pub fn host_action(self, peer: PeerId, action: HostAction) {
        self.send(action.message(peer));
    }

    pub(super) fn host_is(self, peer: PeerId) {
        let me = self.inner.with_value(|i| i.self_id.clone());
        if me.as_ref() != Some(&peer) {
            self.forget_knocks();
        }
        self.host.set(Some(peer));
    }

    /// The host asks us to turn `kind` off: we do, and say so; turning it back on is ours.
    pub(super) fn muted_by_host(self, kind: MediaKind) {
        self.turn_off(kind);
        self.notice
            .set(Some(muted_by_host_text(t_now(), kind).to_owned()));
    }

    /// The host took us out: the call is over for us, our seat is gone, and we may try again
    /// from the pre-join page.
    pub(super) fn removed(self) {
        self.forget_everyone();
        self.inner.update_value(|i| i.lease = None);
        self.host.set(None);
        self.phase.set(Phase::PreJoin);
        self.notice.set(Some(t_now().host_removed_you.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn each_action_is_its_message() {
        let peer = PeerId::new("p2").unwrap();
        let target = PeerTarget {
            peer_id: peer.clone(),
        };
        assert_eq!(
            HostAction::Remove.message(peer.clone()),
            ClientMessage::RemovePeer(target.clone())
        );
        assert_eq!(
            HostAction::MakeHost.message(peer.clone()),
            ClientMessage::MakeHost(target)
        );
        let ClientMessage::MutePeer(mute) = HostAction::MuteVideo.message(peer) else {
            panic!("not a mute");
        };
        assert_eq!(mute.kind, MediaKind::Video);
        let en = crate::i18n::Lang::En.texts();
        assert!(muted_by_host_text(en, MediaKind::Audio).contains("microphone"));
    }
}
