//! The one `RTCPeerConnection` of a room whose media goes through the server (the SFU).
//!
//! The server always offers (`sfu_offer`) and we always answer (`sfu_answer`), one offer at a
//! time, so nothing here needs perfect negotiation. Each offer lists which participant's track
//! every m-line carries: on our own three (`audio`, `camera`, `screen`) we send, by
//! `replaceTrack` (so switching a device or presenting needs no new offer); every other one
//! brings a remote participant's microphone, camera or screen. Cameras and screens come on
//! slots, m-lines that the server hands from one participant's video to another's
//! (`sfu_slots`) as last-N chooses and as people present. Tracks are gathered per participant
//! into a camera stream (microphone and camera) and a screen stream.
//!
//! A connection that fails is not repaired in place: the owner closes it, opens another and
//! asks the server for a fresh offer (`sfu_restart`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_channel::mpsc::{UnboundedSender, unbounded};
use futures_util::StreamExt;
use noom_shared::{CAMERA_LAYER_RIDS, PeerId, SfuOffer, SfuSlots, SfuTrack, SfuTrackKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    MediaStream, MediaStreamTrack, RtcPeerConnection, RtcPeerConnectionState, RtcRtpTransceiver,
    RtcRtpTransceiverDirection, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

use super::ice::IceSetup;
use super::media::{Kind, first_track};
use super::peer::{LinkState, configuration};
use super::stats::StatsProbe;

/// The camera's simulcast layers the server's offer asks for, in `CAMERA_LAYER_RIDS`' order:
/// how much each is scaled down from the capture, and its most bits per second. The browser
/// leaves out the layers a small camera or a weak uplink cannot carry, from the top.
const CAMERA_LAYERS: [(f64, u32); 3] = [(4.0, 150_000), (2.0, 500_000), (1.0, 1_500_000)];

/// A participant's stream arrived.
pub type OnPeerStream = Box<dyn Fn(&PeerId, MediaStream)>;

/// What the SFU connection reports to its owner.
pub struct SfuEvents {
    /// Our answer, to send as `sfu_answer`.
    pub answer: Box<dyn Fn(String)>,
    /// A participant's microphone and camera, each time a track of theirs arrives.
    pub stream: OnPeerStream,
    /// A participant's screen stream changed: the screen slot carrying it was given to them, or
    /// taken back (the stream then has no track).
    pub screen: OnPeerStream,
    pub state: Box<dyn Fn(LinkState)>,
}

/// The room's connection to the SFU. [`SfuLink::close`] ends it.
pub struct SfuLink {
    pc: RtcPeerConnection,
    stats: StatsProbe,
    inbox: UnboundedSender<Update>,
    shared: Rc<Shared>,
    _track: Closure<dyn FnMut(RtcTrackEvent)>,
    _state: Closure<dyn FnMut()>,
}

/// What the server says of the connection, taken in the order it came: a slot change told
/// after an offer applies to that offer's m-lines.
enum Update {
    Offer(SfuOffer),
    Slots(SfuSlots),
}

struct Shared {
    id: u64,
    pc: RtcPeerConnection,
    me: PeerId,
    /// What each m-line carries, from the latest offer.
    tracks: RefCell<Vec<SfuTrack>>,
    /// Our camera and microphone, and our screen while we present.
    local: RefCell<Option<MediaStream>>,
    screen: RefCell<Option<MediaStream>>,
    /// The streams assembled for each participant: camera (with microphone), and screen.
    cameras: RefCell<HashMap<PeerId, MediaStream>>,
    screens: RefCell<HashMap<PeerId, MediaStream>>,
    events: SfuEvents,
}

impl SfuLink {
    /// A connection for `me` that sends `local`, and `screen` while presenting.
    pub fn new(
        me: PeerId,
        ice: &IceSetup,
        local: Option<&MediaStream>,
        screen: Option<&MediaStream>,
        events: SfuEvents,
    ) -> Result<Self, String> {
        let pc = RtcPeerConnection::new_with_configuration(&configuration(ice))
            .map_err(|err| format!("cannot open a peer connection: {err:?}"))?;
        thread_local!(static OPENED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) });
        let id = OPENED.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        let shared = Rc::new(Shared {
            id,
            pc: pc.clone(),
            me,
            tracks: RefCell::new(Vec::new()),
            local: RefCell::new(local.cloned()),
            screen: RefCell::new(screen.cloned()),
            cameras: RefCell::new(HashMap::new()),
            screens: RefCell::new(HashMap::new()),
            events,
        });

        let on_track = Rc::clone(&shared);
        let track = Closure::<dyn FnMut(_)>::new(move |event: RtcTrackEvent| {
            on_track.track_arrived(&event.transceiver(), &event.track());
        });
        pc.set_ontrack(Some(track.as_ref().unchecked_ref()));
        let on_state = Rc::clone(&shared);
        let state = Closure::<dyn FnMut()>::new(move || {
            if on_state.pc.connection_state() != RtcPeerConnectionState::Closed {
                (on_state.events.state)(link_state(&on_state.pc));
            }
        });
        pc.set_onconnectionstatechange(Some(state.as_ref().unchecked_ref()));

        let (inbox, mut updates) = unbounded::<Update>();
        let answering = Rc::clone(&shared);
        spawn_local(async move {
            while let Some(update) = updates.next().await {
                match update {
                    Update::Offer(offer) => {
                        if let Err(err) = answering.answer(offer).await {
                            leptos::logging::warn!("SFU offer not applied: {err:?}");
                        }
                    }
                    Update::Slots(slots) => answering.slots(slots),
                }
            }
        });
        super::debug::set_sfu(Some(&pc));
        Ok(Self {
            stats: StatsProbe::new(pc.clone()),
            pc,
            inbox,
            shared,
            _track: track,
            _state: state,
        })
    }

    /// Applies an `sfu_offer` (in order, after those before it) and answers it.
    pub fn receive(&self, offer: SfuOffer) {
        let _ = self.inbox.unbounded_send(Update::Offer(offer));
    }

    /// Applies an `sfu_slots` (after any offer before it).
    pub fn slots(&self, slots: SfuSlots) {
        let _ = self.inbox.unbounded_send(Update::Slots(slots));
    }

    /// Sends `track` in place of our current camera or microphone track.
    pub fn replace_track(&self, kind: Kind, track: &MediaStreamTrack) {
        let line = match kind {
            Kind::Audio => SfuTrackKind::Audio,
            Kind::Video => SfuTrackKind::Camera,
        };
        self.shared.send_on(line, Some(track));
    }

    /// Starts sending `screen` on our screen m-line, or stops (`None`); no new offer needed.
    pub fn share_screen(&self, screen: Option<&MediaStream>) {
        *self.shared.screen.borrow_mut() = screen.cloned();
        let track = screen.and_then(|s| first_track(s, Kind::Video));
        self.shared.send_on(SfuTrackKind::Screen, track.as_ref());
    }

    /// Tells this connection from any that replaces it.
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// How the connection is doing now.
    pub fn state(&self) -> LinkState {
        link_state(&self.pc)
    }

    /// `peer`'s screen stream, if its screen track has arrived.
    pub fn screen_of(&self, peer: &PeerId) -> Option<MediaStream> {
        self.shared.screens.borrow().get(peer).cloned()
    }

    /// A handle that reads this connection's quality (`getStats`).
    pub fn stats(&self) -> StatsProbe {
        self.stats.clone()
    }

    /// Closes the connection; no handler runs after this.
    pub fn close(&self) {
        self.inbox.close_channel();
        self.pc.set_ontrack(None);
        self.pc.set_onconnectionstatechange(None);
        self.pc.close();
        super::debug::set_sfu(None);
    }
}

fn link_state(pc: &RtcPeerConnection) -> LinkState {
    match pc.connection_state() {
        RtcPeerConnectionState::Connected => LinkState::Connected,
        RtcPeerConnectionState::Disconnected => LinkState::Interrupted,
        RtcPeerConnectionState::Failed => LinkState::Failed,
        _ => LinkState::Connecting,
    }
}

impl Shared {
    /// Applies `offer`, puts our tracks on our own m-lines, and sends the answer.
    async fn answer(&self, offer: SfuOffer) -> Result<(), JsValue> {
        // Known before the tracks arrive, which happens while the offer is applied.
        let before = self.tracks.replace(offer.tracks);
        let init = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        init.set_sdp(&offer.sdp);
        JsFuture::from(self.pc.set_remote_description(&init)).await?;
        self.move_slots(&before);
        let local = self.local.borrow().clone();
        let screen = self.screen.borrow().clone();
        let camera = local.as_ref().and_then(|s| first_track(s, Kind::Video));
        let microphone = local.as_ref().and_then(|s| first_track(s, Kind::Audio));
        let presented = screen.as_ref().and_then(|s| first_track(s, Kind::Video));
        self.send_on(SfuTrackKind::Audio, microphone.as_ref());
        self.send_on(SfuTrackKind::Camera, camera.as_ref());
        self.send_on(SfuTrackKind::Screen, presented.as_ref());
        let answer = JsFuture::from(self.pc.create_answer()).await?;
        let answer: RtcSessionDescriptionInit = answer.unchecked_into();
        JsFuture::from(self.pc.set_local_description(&answer)).await?;
        if let Some(sdp) = self.pc.local_description().map(|d| d.sdp()) {
            (self.events.answer)(sdp);
        }
        self.scale_camera_layers().await
    }

    /// Sizes and caps our camera's simulcast layers (the encodings the offer's rids made).
    async fn scale_camera_layers(&self) -> Result<(), JsValue> {
        let Some(transceiver) = self.transceiver(&self.me, SfuTrackKind::Camera) else {
            return Ok(());
        };
        let sender = transceiver.sender();
        let call = |name: &str, args: &js_sys::Array| -> Result<JsValue, JsValue> {
            let method: js_sys::Function =
                js_sys::Reflect::get(&sender, &name.into())?.dyn_into()?;
            method.apply(&sender, args)
        };
        let parameters = call("getParameters", &js_sys::Array::new())?;
        let encodings: js_sys::Array =
            js_sys::Reflect::get(&parameters, &"encodings".into())?.dyn_into()?;
        if encodings.length() < 2 {
            return Ok(());
        }
        for encoding in encodings.iter() {
            let rid = js_sys::Reflect::get(&encoding, &"rid".into())?.as_string();
            let Some((scale, bitrate)) = CAMERA_LAYER_RIDS
                .iter()
                .position(|layer| rid.as_deref() == Some(*layer))
                .map(|index| CAMERA_LAYERS[index])
            else {
                continue;
            };
            js_sys::Reflect::set(&encoding, &"scaleResolutionDownBy".into(), &scale.into())?;
            js_sys::Reflect::set(&encoding, &"maxBitrate".into(), &bitrate.into())?;
        }
        let set = call("setParameters", &js_sys::Array::of1(&parameters))?;
        JsFuture::from(js_sys::Promise::from(set)).await?;
        Ok(())
    }

    /// Sends `track` (or nothing) on our own m-line for `kind`.
    fn send_on(&self, kind: SfuTrackKind, track: Option<&MediaStreamTrack>) {
        let Some(transceiver) = self.transceiver(&self.me, kind) else {
            return;
        };
        transceiver.set_direction(RtcRtpTransceiverDirection::Sendonly);
        let _ = transceiver.sender().replace_track(track);
    }

    /// The transceiver of `peer`'s `kind` track, by the mid the latest offer gave it.
    fn transceiver(&self, peer: &PeerId, kind: SfuTrackKind) -> Option<RtcRtpTransceiver> {
        let tracks = self.tracks.borrow();
        let mid = &tracks
            .iter()
            .find(|t| t.peer_id == *peer && t.kind == kind)?
            .mid;
        self.pc
            .get_transceivers()
            .iter()
            .map(JsValue::unchecked_into::<RtcRtpTransceiver>)
            .find(|t| t.mid().as_deref() == Some(mid.as_str()))
    }

    /// `sfu_slots`: our slots carry these cameras and screens now, and no others.
    fn slots(&self, slots: SfuSlots) {
        let before = self.tracks.borrow().clone();
        *self.tracks.borrow_mut() = slots.applied_to(&self.me, &before);
        self.move_slots(&before);
    }

    /// Moves the track of each slot that changed hands since `before` from its old owner's
    /// camera or screen stream to its new owner's.
    fn move_slots(&self, before: &[SfuTrack]) {
        let moves = super::slots::moves(&self.me, before, &self.tracks.borrow());
        if moves.is_empty() {
            return;
        }
        for transceiver in self.pc.get_transceivers().iter() {
            let transceiver: RtcRtpTransceiver = transceiver.unchecked_into();
            let Some(mid) = transceiver.mid() else {
                continue;
            };
            let Some(moved) = moves.iter().find(|m| m.mid == mid) else {
                continue;
            };
            let track = transceiver.receiver().track();
            if let Some((was, kind)) = &moved.was {
                self.remove_track(was, *kind, &track);
            }
            if let Some((is, kind)) = &moved.is {
                self.add_track(is, *kind, &track);
            }
        }
    }

    /// A remote track arrived on `transceiver`: it joins its participant's camera or screen
    /// stream, in place of any earlier track of its kind.
    fn track_arrived(&self, transceiver: &RtcRtpTransceiver, track: &MediaStreamTrack) {
        let Some(mid) = transceiver.mid() else { return };
        let owner = self
            .tracks
            .borrow()
            .iter()
            .find(|t| t.mid == mid && t.peer_id != self.me)
            .map(|t| (t.peer_id.clone(), t.kind));
        if let Some((peer, kind)) = owner {
            self.add_track(&peer, kind, track);
        }
    }

    /// Puts `track` in `peer`'s camera or screen stream (`kind`), in place of any earlier
    /// track of its kind, unless it is there already.
    fn add_track(&self, peer: &PeerId, kind: SfuTrackKind, track: &MediaStreamTrack) {
        let there = (self.streams(kind).borrow().get(peer))
            .is_some_and(|stream| stream.get_track_by_id(&track.id()).is_some());
        if there {
            return;
        }
        let kept = |old: &MediaStreamTrack| old.kind() != track.kind();
        self.restream(peer, kind, kept, Some(track));
    }

    /// Takes `track` out of `peer`'s camera or screen stream (`kind`).
    fn remove_track(&self, peer: &PeerId, kind: SfuTrackKind, track: &MediaStreamTrack) {
        let kept = |old: &MediaStreamTrack| old.id() != track.id();
        self.restream(peer, kind, kept, None);
    }

    /// Gives `peer` a new camera or screen stream: the tracks of its current one that are
    /// `kept`, and `added`. A new stream each time: a tile shows a new stream at once, where a
    /// track added to the shown one might not be.
    fn restream(
        &self,
        peer: &PeerId,
        kind: SfuTrackKind,
        kept: impl Fn(&MediaStreamTrack) -> bool,
        added: Option<&MediaStreamTrack>,
    ) {
        let streams = self.streams(kind);
        let tracks = js_sys::Array::new();
        if let Some(earlier) = streams.borrow().get(peer) {
            for old in earlier.get_tracks().iter() {
                let old: MediaStreamTrack = old.unchecked_into();
                if kept(&old) {
                    tracks.push(&old);
                }
            }
        }
        if let Some(added) = added {
            tracks.push(added);
        }
        let Ok(stream) = MediaStream::new_with_tracks(&tracks) else {
            return;
        };
        streams.borrow_mut().insert(peer.clone(), stream.clone());
        match kind {
            SfuTrackKind::Screen => (self.events.screen)(peer, stream),
            SfuTrackKind::Audio | SfuTrackKind::Camera => (self.events.stream)(peer, stream),
        }
    }

    /// The streams of `kind`'s tracks: cameras with microphones, or screens.
    fn streams(&self, kind: SfuTrackKind) -> &RefCell<HashMap<PeerId, MediaStream>> {
        match kind {
            SfuTrackKind::Screen => &self.screens,
            SfuTrackKind::Audio | SfuTrackKind::Camera => &self.cameras,
        }
    }
}
