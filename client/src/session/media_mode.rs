//! A room's media mode: peer links to everyone (the mesh), or one link to the server (the SFU),
//! and the switch between them when the server says so (`media_changed`). Nobody leaves the
//! room across a switch: only the links change, and each tile gets its stream again from the
//! new ones.

use leptos::prelude::*;
use noom_shared::{
    ClientMessage, Media, PeerId, SfuAnswer, SfuCameras, SfuOffer, SfuPause, SfuSlots,
};
use web_sys::MediaStream;

use super::Session;
use crate::rtc::media;
use crate::rtc::peer::{LinkState, Role};
use crate::rtc::sfu::{SfuEvents, SfuLink};

/// How long a new SFU link may take to connect before it is replaced (and the server asked for
/// a fresh offer).
const SFU_CONNECT_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);
/// How long an SFU link may stay interrupted (a network change, a path gone) before it is
/// replaced, as a peer link restarts ICE: Chromium calls it failed later (a dead path was
/// replaced 10.8 s after the cut with this, 15.5 s without, in `browser_sfu.rs`).
const SFU_REPLACE_INTERRUPTED_AFTER: std::time::Duration = std::time::Duration::from_secs(3);

impl Session {
    pub(super) fn media(self) -> Media {
        self.inner.try_with_value(|i| i.media).unwrap_or_default()
    }

    /// `media_changed`: close the links of the old mode and open those of the new. Told the
    /// SFU while in it, the server replaces our SFU connection (the room's media moved to
    /// another node of a cluster, or people who left had grown it): a new SFU link, for the
    /// offer that follows; links that carry files stay.
    pub(super) fn media_changed(self, media: Media) {
        // A new connection, or the mesh: every camera comes until the server says otherwise.
        self.on_sfu_cameras(SfuCameras { only: None });
        if self.media() == Media::Sfu && media == Media::Sfu {
            self.replace_sfu_link();
            return;
        }
        self.close_links();
        self.inner.update_value(|i| i.media = media);
        for participant in self.participants.get_untracked() {
            if !participant.is_self {
                participant.link_is(LinkState::Connecting);
            }
        }
        match media {
            Media::Sfu => self.open_sfu(),
            Media::Mesh => {
                self.size_camera();
                // Back to the mesh: of each pair, the one with the greater id offers (both
                // know both ids, so exactly one does); the other answers its offer.
                let me = self.inner.with_value(|i| i.self_id.clone());
                for participant in self.participants.get_untracked() {
                    if !participant.is_self && me.as_ref().is_some_and(|me| *me > participant.id) {
                        self.open_link(participant.id.clone(), Role::Offer);
                    }
                }
            }
        }
    }

    /// Closes every peer link and the SFU link; tiles keep their participants.
    pub(super) fn close_links(self) {
        let Some((links, sfu)) = self.inner.try_update_value(|i| {
            i.meters.retain(|id, _| Some(id) == i.self_id.as_ref());
            (std::mem::take(&mut i.links), i.sfu.take())
        }) else {
            return;
        };
        for link in links.values() {
            link.close();
        }
        if let Some(sfu) = sfu {
            sfu.close();
        }
    }

    /// The camera size the room's media wants: larger through the SFU, whose top simulcast
    /// layer needs it (see `media::SFU_CAMERA`).
    pub(super) fn camera_size(self) -> (u32, u32) {
        match self.media() {
            Media::Sfu => media::SFU_CAMERA,
            Media::Mesh => media::MESH_CAMERA,
        }
    }

    /// Opens our connection to the SFU; the server's offer follows.
    pub(super) fn open_sfu(self) {
        let Some(me) = self.inner.with_value(|i| i.self_id.clone()) else {
            return;
        };
        self.size_camera();
        let ice = self.ice_setup();
        let local = self.devices.stream.get_untracked();
        let screen = self.devices.screen.get_untracked();
        match SfuLink::new(me, &ice, local.as_ref(), screen.as_ref(), self.sfu_events()) {
            Ok(link) => {
                let opened = link.id();
                self.inner.update_value(|i| {
                    i.sfu = Some(link);
                    // The server knows nothing of a new connection's tiles.
                    i.view_sent = None;
                });
                // As for a peer link: one that never connects (no path, a lost handshake) is
                // replaced rather than left trying.
                self.replace_sfu_later(opened, SFU_CONNECT_WITHIN, |s| s != LinkState::Connected);
            }
            Err(err) => leptos::logging::warn!("{err}"),
        }
    }

    /// `sfu_offer`: answered by our SFU link (one is opened if a switch is under way).
    pub(super) fn on_sfu_offer(self, offer: SfuOffer) {
        if self.media() != Media::Sfu {
            return;
        }
        if self.inner.with_value(|i| i.sfu.is_none()) {
            self.open_sfu();
        }
        self.inner.with_value(|i| {
            if let Some(sfu) = &i.sfu {
                sfu.receive(offer);
            }
        });
        // A new connection to the server (after a switch or a restart) starts unpaused.
        if page_hidden() {
            self.pause_sfu_video(true);
        }
    }

    /// `sfu_slots`: our SFU link moves the camera and screen tracks whose slots changed hands.
    pub(super) fn on_sfu_slots(self, slots: SfuSlots) {
        self.inner.with_value(|i| {
            if let Some(sfu) = &i.sfu {
                sfu.slots(slots);
            }
        });
    }

    /// `sfu_cameras`: whose cameras the server sends us; the others' tiles show their names.
    pub(super) fn on_sfu_cameras(self, cameras: SfuCameras) {
        self.inner.update_value(|i| i.cameras_only = cameras.only);
        for participant in self.participants.get_untracked() {
            if !participant.is_self {
                participant.set_camera_sent(self.camera_chosen(&participant.id));
            }
        }
    }

    /// Whether the server sends us `peer`'s camera.
    pub(super) fn camera_chosen(self, peer: &PeerId) -> bool {
        self.inner
            .try_with_value(|i| {
                i.cameras_only
                    .as_ref()
                    .is_none_or(|only| only.contains(peer))
            })
            .unwrap_or(true)
    }

    /// The page was hidden or shown again: a hidden page shows no video, so in an SFU room the
    /// server stops sending it (audio goes on) until the page is seen again.
    pub fn page_visibility_changed(self) {
        if self.media() == Media::Sfu {
            self.pause_sfu_video(page_hidden());
        }
    }

    fn pause_sfu_video(self, video: bool) {
        self.send(ClientMessage::SfuPause(SfuPause { video }));
    }

    /// Our SFU link failed (a network change, a server that lost it): a new one, and a fresh
    /// offer for it.
    fn restart_sfu(self) {
        if self.replace_sfu_link() {
            self.send(ClientMessage::SfuRestart(Default::default()));
        }
    }

    /// Closes our SFU link and opens a new one; false if there was none.
    fn replace_sfu_link(self) -> bool {
        let Some(Some(old)) = self.inner.try_update_value(|i| i.sfu.take()) else {
            return false;
        };
        old.close();
        self.open_sfu();
        true
    }

    /// Replaces the SFU link if it is still the one interrupted now, and still interrupted
    /// after [`SFU_REPLACE_INTERRUPTED_AFTER`].
    fn restart_sfu_if_still_interrupted(self) {
        if let Some(Some(interrupted)) = self
            .inner
            .try_with_value(|i| i.sfu.as_ref().map(SfuLink::id))
        {
            self.replace_sfu_later(interrupted, SFU_REPLACE_INTERRUPTED_AFTER, |s| {
                s == LinkState::Interrupted
            });
        }
    }

    /// After `delay`, replaces the SFU link `link` if it is still ours and `bad` of its state.
    fn replace_sfu_later(self, link: u64, delay: std::time::Duration, bad: fn(LinkState) -> bool) {
        set_timeout(
            move || {
                let replace = self.inner.try_with_value(|i| {
                    i.sfu
                        .as_ref()
                        .is_some_and(|sfu| sfu.id() == link && bad(sfu.state()))
                });
                if replace == Some(true) {
                    self.restart_sfu();
                }
            },
            delay,
        );
    }

    /// What the SFU link reports, turned into tiles. These run from browser events, possibly
    /// after the page is gone: `try_*` only.
    fn sfu_events(self) -> SfuEvents {
        SfuEvents {
            answer: Box::new(move |sdp| self.send(ClientMessage::SfuAnswer(SfuAnswer { sdp }))),
            stream: Box::new(move |peer, stream| {
                if let Some(participant) = self.participant(peer) {
                    self.watch_level(peer, &stream);
                    participant.set_stream(Some(stream));
                    participant.link_is(self.sfu_state());
                }
            }),
            screen: Box::new(move |peer, stream| self.show_sfu_screen(peer, Some(stream))),
            state: Box::new(move |state| {
                match state {
                    LinkState::Failed => self.restart_sfu(),
                    LinkState::Interrupted => self.restart_sfu_if_still_interrupted(),
                    _ => {}
                }
                // The SFU link's state is everyone's link state.
                for participant in self.participants.try_get_untracked().unwrap_or_default() {
                    if !participant.is_self {
                        participant.link_is(state);
                    }
                }
            }),
        }
    }

    /// The SFU link's state, for a tile that appears while it runs.
    pub(super) fn sfu_state(self) -> LinkState {
        self.inner
            .try_with_value(|i| i.sfu.as_ref().map(SfuLink::state))
            .flatten()
            .unwrap_or(LinkState::Connecting)
    }

    /// Shows `peer`'s screen tile while they present, from the SFU's screen track (`stream`,
    /// or the one it brought earlier).
    pub(super) fn show_sfu_screen(self, peer: &PeerId, stream: Option<MediaStream>) {
        let Some(participant) = self.participant(peer) else {
            return;
        };
        let stream = stream.or_else(|| {
            self.inner
                .try_with_value(|i| i.sfu.as_ref().and_then(|sfu| sfu.screen_of(peer)))
                .flatten()
        });
        let presenting = participant
            .status()
            .try_get_untracked()
            .is_some_and(|s| s.presenting);
        participant.set_screen(stream.filter(|_| presenting));
    }
}

/// Whether the page is hidden (a background tab, a minimised window).
fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}
