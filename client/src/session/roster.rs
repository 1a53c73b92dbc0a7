//! Who is in the room, and one peer link to each of the others: links opened as we join
//! (we offer) or on a later joiner's first offer (we answer), closed as people leave. In an SFU
//! room a link carries only files, and is opened when a file is first sent either way.

use std::rc::Rc;

use leptos::prelude::*;
use noom_shared::{
    ClientMessage, Joined, Media, Nickname, PeerId, PeerInfo, PeerSignal, PeerStatus,
    PeerStatusUpdate, SignalData, SignalFrom, SignalTo,
};
use web_sys::MediaStream;

use super::ledger::Failure;
use super::{ChatKind, Session};
use crate::rtc::files::FileMessage;
use crate::rtc::ice::IceSetup;
use crate::rtc::peer::{Carries, LinkEvents, LinkState, PeerLink, Role};
use crate::rtc::stats::Quality;

/// A tile's participant. Every field is a signal handle, so the whole is cheap to copy; only
/// the session writes them, components read them through the accessors.
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    pub id: PeerId,
    pub is_self: bool,
    nickname: RwSignal<String>,
    status: RwSignal<PeerStatus>,
    stream: RwSignal<Option<MediaStream>, LocalStorage>,
    screen: RwSignal<Option<MediaStream>, LocalStorage>,
    link: RwSignal<LinkState>,
    speaking: RwSignal<bool>,
    quality: RwSignal<Option<Quality>>,
    /// The server sends us their camera (in a large SFU room, only the latest speakers').
    camera_sent: RwSignal<bool>,
}

impl Participant {
    pub fn nickname(&self) -> ReadSignal<String> {
        self.nickname.read_only()
    }

    pub fn status(&self) -> ReadSignal<PeerStatus> {
        self.status.read_only()
    }

    /// Their camera and microphone.
    pub fn stream(&self) -> ReadSignal<Option<MediaStream>, LocalStorage> {
        self.stream.read_only()
    }

    /// The screen they share, shown as a tile of its own.
    pub fn screen(&self) -> ReadSignal<Option<MediaStream>, LocalStorage> {
        self.screen.read_only()
    }

    pub fn link(&self) -> ReadSignal<LinkState> {
        self.link.read_only()
    }

    pub fn speaking(&self) -> ReadSignal<bool> {
        self.speaking.read_only()
    }

    /// The link's quality from its last stats sample (remote participants only).
    pub fn quality(&self) -> ReadSignal<Option<Quality>> {
        self.quality.read_only()
    }

    pub(super) fn set_speaking(&self, speaking: bool) {
        self.speaking.try_set(speaking);
    }

    pub(super) fn set_quality(&self, quality: Quality) {
        self.quality.try_set(Some(quality));
    }

    pub(super) fn set_status(&self, status: PeerStatus) {
        self.status.try_set(status);
    }

    pub(super) fn set_screen(&self, screen: Option<MediaStream>) {
        self.screen.try_set(screen);
    }

    pub(super) fn set_stream(&self, stream: Option<MediaStream>) {
        self.stream.try_set(stream);
    }

    pub fn camera_sent(&self) -> ReadSignal<bool> {
        self.camera_sent.read_only()
    }

    pub(super) fn set_camera_sent(&self, sent: bool) {
        self.camera_sent.try_set(sent);
    }

    /// Shows the link as `state`, as [`LinkState::then`] allows.
    pub(super) fn link_is(&self, state: LinkState) {
        self.link.try_update(|shown| *shown = shown.then(state));
    }
}

impl Session {
    /// `joined`: our own tile, then a link to everyone already here (we joined last, so we offer).
    pub(super) fn enter_call(self, joined: Joined, nickname: Nickname) {
        let me = self.add_participant(
            &PeerInfo {
                peer_id: joined.peer_id,
                nickname,
            },
            true,
        );
        me.set_stream(self.devices.stream.get_untracked());
        me.set_screen(self.devices.screen.get_untracked());
        me.link.set(LinkState::Connected);
        if let Some(stream) = self.devices.stream.get_untracked() {
            self.watch_level(&me.id, &stream);
        }
        self.inner.update_value(|i| i.media = joined.media);
        for peer in &joined.peers {
            self.add_participant(peer, false);
            if joined.media == Media::Mesh {
                self.open_link(peer.peer_id.clone(), Role::Offer);
            }
        }
        if joined.media == Media::Sfu {
            self.open_sfu();
        }
    }

    pub(super) fn peer_joined(self, peer: &PeerInfo) {
        self.push_line(ChatKind::Joined(peer.nickname.to_string()));
        let participant = self.add_participant(peer, false);
        if self.media() == Media::Sfu {
            participant.link_is(self.sfu_state());
        }
    }

    /// After a resume: drop who left meanwhile, add who came.
    pub(super) fn catch_up(self, peers: &[PeerInfo]) {
        let gone: Vec<PeerId> = self.participants.with_untracked(|list| {
            list.iter()
                .filter(|p| !p.is_self && !peers.iter().any(|q| q.peer_id == p.id))
                .map(|p| p.id.clone())
                .collect()
        });
        for id in &gone {
            self.remove_peer(id);
        }
        for peer in peers {
            if self.participant(&peer.peer_id).is_none() {
                self.peer_joined(peer);
            }
        }
    }

    pub(super) fn renamed(self, id: &PeerId, nickname: &Nickname) {
        if let Some(p) = self.participant(id) {
            p.nickname.set(nickname.to_string());
        }
    }

    pub(super) fn status_changed(self, update: &PeerStatusUpdate) {
        if let Some(p) = self.participant(&update.peer_id) {
            if update.status.hand_raised && !p.status.get_untracked().hand_raised {
                self.push_line(ChatKind::RaisedHand(p.nickname.get_untracked()));
            }
            p.status.set(update.status);
            if self.media() == Media::Sfu {
                self.show_sfu_screen(&p.id, None);
            }
        }
    }

    pub(super) fn on_signal(self, signal: SignalFrom) {
        let data = match PeerSignal::decode(&signal.data) {
            Ok(data) => data,
            Err(err) => return leptos::logging::warn!("unreadable signal: {err}"),
        };
        // An SFU room's links carry only files, a mesh room's carry media: a signal of the
        // other kind was sent before its sender heard of a switch, for a link now closed.
        let sfu = self.media() == Media::Sfu;
        if self.participant(&signal.from).is_none() || data.files_only() != sfu {
            return;
        }
        let has_link = self
            .inner
            .with_value(|i| i.links.contains_key(&signal.from));
        if !has_link {
            // A later joiner's first offer, or the first file coming in an SFU room: that is
            // when our link to it begins.
            if sfu {
                self.open_files_link(signal.from.clone(), Role::Answer);
            } else {
                self.open_link(signal.from.clone(), Role::Answer);
            }
        }
        self.inner.with_value(|i| {
            if let Some(link) = i.links.get(&signal.from) {
                link.receive(data);
            }
        });
    }

    /// In an SFU room: a link that carries only files to everyone we have none to yet.
    pub(super) fn open_files_links(self) {
        for participant in self.participants.get_untracked() {
            let has_link = self
                .inner
                .with_value(|i| i.links.contains_key(&participant.id));
            if !participant.is_self && !has_link {
                self.open_files_link(participant.id, Role::Offer);
            }
        }
    }

    fn open_files_link(self, remote: PeerId, role: Role) {
        let Some(me) = self.inner.with_value(|i| i.self_id.clone()) else {
            return;
        };
        // Either side may open it: of each pair, the one with the greater id is polite.
        let carries = Carries::Files {
            polite: me > remote,
        };
        let events = LinkEvents {
            signal: self.signal_to(remote.clone()),
            // The tile shows the SFU link's media and state.
            stream: Box::new(|_| {}),
            screen: Box::new(|_| {}),
            state: Box::new(|_| {}),
            files: self.files_from(remote.clone()),
        };
        match PeerLink::new(remote.clone(), &self.ice_setup(), role, carries, events) {
            Ok(link) => self.inner.update_value(|i| {
                i.links.insert(remote, link);
            }),
            Err(err) => leptos::logging::warn!("{err}"),
        }
    }

    pub(super) fn ice_setup(self) -> IceSetup {
        self.inner
            .with_value(|i| i.welcome.as_ref().map(IceSetup::from_welcome))
            .unwrap_or_default()
    }

    pub(super) fn open_link(self, remote: PeerId, role: Role) {
        let Some(participant) = self.participant(&remote) else {
            return;
        };
        let local = self
            .devices
            .stream
            .get_untracked()
            .or_else(|| MediaStream::new().ok());
        let Some(local) = local else { return };
        let screen = self.devices.screen.get_untracked();
        let events = self.link_events(&participant);
        let carries = Carries::Media {
            local: &local,
            screen: screen.as_ref(),
        };
        match PeerLink::new(remote.clone(), &self.ice_setup(), role, carries, events) {
            Ok(link) => self.inner.update_value(|i| {
                i.links.insert(remote, link);
            }),
            Err(err) => {
                leptos::logging::warn!("{err}");
                participant.link.set(LinkState::Failed);
            }
        }
    }

    /// What a link to `participant` reports, turned into their tile's signals. These run from
    /// browser events, possibly after the page is gone: `try_*` only.
    fn link_events(self, participant: &Participant) -> LinkEvents {
        let (on_stream, on_screen, on_state) = (
            participant.clone(),
            participant.clone(),
            participant.clone(),
        );
        LinkEvents {
            signal: self.signal_to(participant.id.clone()),
            stream: Box::new(move |stream| {
                let Some(current) = on_stream.stream.try_get_untracked() else {
                    return;
                };
                if current.as_ref() != Some(&stream) {
                    self.watch_level(&on_stream.id, &stream);
                    on_stream.set_stream(Some(stream));
                }
            }),
            screen: Box::new(move |screen| {
                if on_screen.screen.try_get_untracked().as_ref() != Some(&screen) {
                    on_screen.set_screen(screen);
                }
            }),
            state: Box::new(move |state| {
                on_state.link.try_update(|shown| *shown = shown.then(state));
            }),
            files: self.files_from(participant.id.clone()),
        }
    }

    /// Sends a link's signals to `to`, through the server.
    fn signal_to(self, to: PeerId) -> Box<dyn Fn(SignalData)> {
        Box::new(move |data| {
            self.send(ClientMessage::Signal(SignalTo {
                to: to.clone(),
                data,
            }));
        })
    }

    /// Takes what arrives on a link's file channel from `from`.
    fn files_from(self, from: PeerId) -> Rc<dyn Fn(FileMessage)> {
        Rc::new(move |message| self.on_file(&from, message))
    }

    fn add_participant(self, peer: &PeerInfo, is_self: bool) -> Participant {
        let camera_sent = is_self || self.camera_chosen(&peer.peer_id);
        let participant = self.owned(|| Participant {
            id: peer.peer_id.clone(),
            is_self,
            nickname: RwSignal::new(peer.nickname.to_string()),
            status: RwSignal::new(PeerStatus::default()),
            stream: RwSignal::new_local(None),
            screen: RwSignal::new_local(None),
            link: RwSignal::new(LinkState::Connecting),
            speaking: RwSignal::new(false),
            quality: RwSignal::new(None),
            camera_sent: RwSignal::new(camera_sent),
        });
        self.participants
            .update(|list| list.push(participant.clone()));
        participant
    }

    /// Closes every link and forgets every participant, ourselves included, without a word in
    /// the chat: after a rejoin they come back under new peer ids.
    pub(super) fn forget_everyone(self) {
        self.close_links();
        self.inner.try_update_value(|i| i.meters.clear());
        for participant in self.participants.get_untracked() {
            self.fail_incoming(&participant.id, &Failure::ConnectionReset);
            self.lose_receiver(&participant.id);
        }
        self.participants.set(Vec::new());
    }

    pub(super) fn remove_peer(self, id: &PeerId) {
        if let Some(Some(link)) = self.inner.try_update_value(|i| {
            i.meters.remove(id);
            i.links.remove(id)
        }) {
            link.close();
        }
        let Some(gone) = self.participant(id) else {
            return;
        };
        let nickname = gone.nickname.get_untracked();
        self.fail_incoming(id, &Failure::SenderLeft(nickname.clone()));
        self.lose_receiver(id);
        self.participants
            .update(|list| list.retain(|p| &p.id != id));
        self.push_line(ChatKind::Left(nickname));
    }

    /// Our own tile's participant, once in the call.
    pub(super) fn me(self) -> Option<Participant> {
        self.participants
            .try_with_untracked(|l| l.iter().find(|p| p.is_self).cloned())
            .flatten()
    }

    pub(super) fn participant(self, id: &PeerId) -> Option<Participant> {
        self.participants
            .try_with_untracked(|list| list.iter().find(|p| &p.id == id).cloned())
            .flatten()
    }
}
