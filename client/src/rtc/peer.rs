//! One `RTCPeerConnection` to one remote participant, negotiated with the perfect-negotiation
//! pattern over the `signal` messages of protocol v1.
//!
//! * The joiner offers: a link made with [`Role::Offer`] adds its tracks at once, which fires
//!   `negotiationneeded` and sends the offer. A link made with [`Role::Answer`] (an existing
//!   member, on the joiner's first offer) adds its tracks only after applying that offer, so its
//!   tracks ride the offered transceivers and the answer needs no second round.
//! * Later renegotiation from either side is perfect negotiation; the later joiner is polite.
//! * A connection that fails, stays interrupted for [`ICE_RESTART_AFTER`], or has not connected
//!   [`CONNECT_WITHIN`] after it opened, restarts ICE (`restartIce`), which renegotiates as above.
//! * Signals are applied one at a time, in arrival order. ICE candidates that arrive before a
//!   remote description wait for it; an empty candidate string is ignored; `{"candidate": null}`
//!   ends the remote candidates.
//! * Files travel on a negotiated data channel ([`FileChannel`]): the offerer creates it with its
//!   tracks, so the first offer carries it; the answerer creates it on that offer.
//! * A shared screen is a second video track in a stream of its own, added and removed with
//!   renegotiation. Every description we send says which of our streams is the screen
//!   ([`PeerSignal::Description`]), so the other side tells the screen from the camera when the
//!   track arrives, and drops the screen when a description says none.
//! * What goes in `signal.data` is [`PeerSignal`] (typed and golden-tested in `noom-shared`).
//! * In an SFU room, media goes through the server and a link carries only files
//!   ([`Carries::Files`]): opened when a file is first sent, by either side, so which side is
//!   polite comes from the caller rather than from who offers.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures_channel::mpsc::{UnboundedSender, unbounded};
use futures_util::StreamExt;
use js_sys::{Array, JSON, Reflect};
use noom_shared::{PeerId, PeerSignal, SdpType, SessionDescription, SignalData};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceCandidateInit, RtcIceTransportPolicy,
    RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcRtpSender,
    RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSessionDescriptionInit,
    RtcSignalingState, RtcTrackEvent,
};

use super::debug;
use super::files::{FileChannel, FileMessage};
use super::ice::IceSetup;
use super::media::{Kind, first_track};
use super::stats::StatsProbe;

/// How long a link may stay interrupted (`disconnected`) before ICE restarts; the browser waits
/// far longer before it calls a link `failed`, with the picture frozen all along.
const ICE_RESTART_AFTER: Duration = Duration::from_secs(3);

/// How long a new link may take to connect before its tile says it cannot: when no path works
/// at all (no relay, unreachable addresses), the browser keeps trying without ever failing.
const CONNECT_WITHIN: Duration = Duration::from_secs(15);

/// Who sends the first offer on this link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We joined after the remote peer: we offer, and we are the polite side.
    Offer,
    /// The remote peer joined after us and has offered: we answer, and we are impolite.
    Answer,
}

/// What a link carries besides its file channel.
pub enum Carries<'a> {
    /// Our camera and microphone (and `screen` while we present) and theirs: a mesh room's link.
    Media {
        local: &'a MediaStream,
        screen: Option<&'a MediaStream>,
    },
    /// Nothing else: a link between two members of an SFU room. Exactly one side of the pair
    /// is `polite`, since either may open it.
    Files { polite: bool },
}

/// The state of a link, as a tile shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Connected,
    /// Lost for now; the browser keeps trying.
    Interrupted,
    Failed,
}

impl LinkState {
    /// The state to show when the browser reports `next`: a failed link stays failed while
    /// it retries (ICE restarts go through `connecting`), until it connects or is interrupted
    /// again.
    pub fn then(self, next: Self) -> Self {
        match (self, next) {
            (Self::Failed, Self::Connecting) => Self::Failed,
            _ => next,
        }
    }
}

/// What a link reports to its owner.
pub struct LinkEvents {
    /// A signal to relay to the remote peer (`signal {to, data}`).
    pub signal: Box<dyn Fn(SignalData)>,
    /// The remote camera and microphone, each time a track of theirs arrives.
    pub stream: Box<dyn Fn(MediaStream)>,
    /// The remote screen when it arrives; `None` when they stop sharing it.
    pub screen: Box<dyn Fn(Option<MediaStream>)>,
    pub state: Box<dyn Fn(LinkState)>,
    /// What arrives on the file channel.
    pub files: Rc<dyn Fn(FileMessage)>,
}

/// A peer connection and the handlers that drive it. [`PeerLink::close`] ends it.
pub struct PeerLink {
    remote: PeerId,
    pc: RtcPeerConnection,
    inbox: UnboundedSender<PeerSignal>,
    stats: StatsProbe,
    shared: Rc<Negotiation>,
    _handlers: Handlers,
}

struct Handlers {
    _ice: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _track: Closure<dyn FnMut(RtcTrackEvent)>,
    _state: Closure<dyn FnMut()>,
    _negotiation: Closure<dyn FnMut()>,
}

/// Negotiation state shared by the handlers and the signal loop.
struct Negotiation {
    pc: RtcPeerConnection,
    polite: bool,
    making_offer: Cell<bool>,
    ignore_offer: Cell<bool>,
    /// [`Carries::Files`]: no tracks, and every signal says so.
    files_only: bool,
    /// Our tracks, added on the first remote offer for [`Role::Answer`].
    pending_tracks: RefCell<Option<MediaStream>>,
    early_candidates: RefCell<Vec<JsValue>>,
    /// Made with the tracks for [`Role::Offer`], on the first remote offer for [`Role::Answer`].
    files: RefCell<Option<FileChannel>>,
    /// The screen we share, sent while set (added with the camera for [`Role::Answer`]).
    screen: RefCell<Option<MediaStream>>,
    /// The sender of our screen track, while it is added.
    screen_sender: RefCell<Option<RtcRtpSender>>,
    /// The id of the remote peer's screen stream, from its latest description.
    remote_screen: RefCell<Option<String>>,
    events: LinkEvents,
}

impl PeerLink {
    /// Opens a link to `remote` that carries what `carries` says, and files.
    pub fn new(
        remote: PeerId,
        ice: &IceSetup,
        role: Role,
        carries: Carries<'_>,
        events: LinkEvents,
    ) -> Result<Self, String> {
        let pc = RtcPeerConnection::new_with_configuration(&configuration(ice))
            .map_err(|err| format!("cannot open a peer connection: {err:?}"))?;
        let (polite, files_only, screen) = match &carries {
            Carries::Media { screen, .. } => (role == Role::Offer, false, screen.cloned()),
            Carries::Files { polite } => (*polite, true, None),
        };
        let shared = Rc::new(Negotiation {
            pc: pc.clone(),
            polite,
            making_offer: Cell::new(false),
            ignore_offer: Cell::new(false),
            files_only,
            pending_tracks: RefCell::new(None),
            early_candidates: RefCell::new(Vec::new()),
            files: RefCell::new(None),
            screen: RefCell::new(screen),
            screen_sender: RefCell::new(None),
            remote_screen: RefCell::new(None),
            events,
        });
        let handlers = Handlers::install(&shared);
        match (role, carries) {
            (Role::Offer, Carries::Media { local, .. }) => {
                shared.open_files();
                add_tracks(&pc, local);
                shared.sync_screen();
            }
            (Role::Answer, Carries::Media { local, .. }) => {
                *shared.pending_tracks.borrow_mut() = Some(local.clone());
            }
            // The channel alone fires `negotiationneeded`, and so the offer.
            (Role::Offer, Carries::Files { .. }) => shared.open_files(),
            (Role::Answer, Carries::Files { .. }) => {}
        }

        let (inbox, mut signals) = unbounded::<PeerSignal>();
        let negotiation = Rc::clone(&shared);
        spawn_local(async move {
            while let Some(data) = signals.next().await {
                if let Err(err) = negotiation.apply(data).await {
                    leptos::logging::warn!("signal not applied: {err:?}");
                }
            }
        });
        give_up_connecting_after(&shared, CONNECT_WITHIN);
        debug::register(debug::Links::of(files_only), &remote, &pc);
        Ok(Self {
            remote,
            stats: StatsProbe::new(pc.clone()),
            pc,
            inbox,
            shared,
            _handlers: handlers,
        })
    }

    /// Applies a `signal` from the remote peer (in order, after those before it).
    pub fn receive(&self, signal: PeerSignal) {
        let _ = self.inbox.unbounded_send(signal);
    }

    /// Sends `track` in place of the current camera or microphone track, without renegotiating.
    pub fn replace_track(&self, kind: Kind, track: &MediaStreamTrack) {
        let screen = self.shared.screen_sender.borrow().clone();
        for sender in self.pc.get_senders().iter() {
            let sender: RtcRtpSender = sender.unchecked_into();
            if sender.track().is_some_and(|t| t.kind() == kind.as_str())
                && screen.as_ref() != Some(&sender)
            {
                let _ = sender.replace_track(Some(track));
            }
        }
    }

    /// Starts sending `screen` as a second video track, or stops (`None`); renegotiates.
    pub fn share_screen(&self, screen: Option<&MediaStream>) {
        if self.shared.files_only {
            return;
        }
        *self.shared.screen.borrow_mut() = screen.cloned();
        self.shared.sync_screen();
    }

    /// The file channel, once made (it may still be connecting).
    pub fn files(&self) -> Option<FileChannel> {
        self.shared.files.borrow().clone()
    }

    /// A handle that reads this connection's quality (`getStats`).
    pub fn stats(&self) -> StatsProbe {
        self.stats.clone()
    }

    /// Closes the connection; no handler runs after this.
    pub fn close(&self) {
        self.inbox.close_channel();
        self.pc.set_onicecandidate(None);
        self.pc.set_ontrack(None);
        self.pc.set_onconnectionstatechange(None);
        self.pc.set_onnegotiationneeded(None);
        if let Some(files) = self.shared.files.take() {
            files.close();
        }
        self.pc.close();
        debug::unregister(debug::Links::of(self.shared.files_only), &self.remote);
    }
}

impl Handlers {
    fn install(shared: &Rc<Negotiation>) -> Self {
        let pc = &shared.pc;

        let link = Rc::clone(shared);
        let ice = Closure::<dyn FnMut(_)>::new(move |event: RtcPeerConnectionIceEvent| {
            // No candidate here is the end of ours, and is relayed as such (`null`).
            let candidate = match event.candidate() {
                None => None,
                Some(c) => match from_js(&c.to_json().into()) {
                    Some(candidate) => Some(candidate),
                    None => return leptos::logging::warn!("unreadable ICE candidate"),
                },
            };
            link.send(&PeerSignal::Candidate {
                candidate,
                files_only: link.files_only,
            });
        });
        pc.set_onicecandidate(Some(ice.as_ref().unchecked_ref()));

        let link = Rc::clone(shared);
        let track = Closure::<dyn FnMut(_)>::new(move |event: RtcTrackEvent| {
            let stream = match event.streams().get(0).dyn_into::<MediaStream>() {
                Ok(stream) => stream,
                Err(_) => match MediaStream::new() {
                    Ok(stream) => {
                        stream.add_track(&event.track());
                        stream
                    }
                    Err(_) => return,
                },
            };
            let is_screen = link.remote_screen.borrow().as_deref() == Some(stream.id().as_str());
            if is_screen {
                (link.events.screen)(Some(stream));
            } else {
                (link.events.stream)(stream);
            }
        });
        pc.set_ontrack(Some(track.as_ref().unchecked_ref()));

        let link = Rc::clone(shared);
        let state = Closure::<dyn FnMut()>::new(move || connection_changed(&link));
        pc.set_onconnectionstatechange(Some(state.as_ref().unchecked_ref()));

        let link = Rc::clone(shared);
        let negotiation = Closure::<dyn FnMut()>::new(move || {
            let link = Rc::clone(&link);
            spawn_local(async move {
                link.making_offer.set(true);
                let sent = link.set_local_description().await;
                link.making_offer.set(false);
                if let Err(err) = sent {
                    leptos::logging::warn!("offer failed: {err:?}");
                }
            });
        });
        pc.set_onnegotiationneeded(Some(negotiation.as_ref().unchecked_ref()));

        Self {
            _ice: ice,
            _track: track,
            _state: state,
            _negotiation: negotiation,
        }
    }
}

/// If `link` has not connected after `delay`, its tile says it failed (and stays so while it
/// retries, see [`LinkState::then`]) and ICE restarts.
fn give_up_connecting_after(link: &Rc<Negotiation>, delay: Duration) {
    let weak = Rc::downgrade(link);
    leptos::prelude::set_timeout(
        move || {
            if let Some(link) = weak.upgrade()
                && !matches!(
                    link.pc.connection_state(),
                    RtcPeerConnectionState::Connected | RtcPeerConnectionState::Closed
                )
            {
                (link.events.state)(LinkState::Failed);
                link.restart_ice();
            }
        },
        delay,
    );
}

/// The connection's state changed: tell the tile, and restart ICE when it failed or stays
/// interrupted.
fn connection_changed(link: &Rc<Negotiation>) {
    let state = match link.pc.connection_state() {
        RtcPeerConnectionState::Connected => LinkState::Connected,
        RtcPeerConnectionState::Disconnected => {
            let weak = Rc::downgrade(link);
            leptos::prelude::set_timeout(
                move || {
                    if let Some(link) = weak.upgrade()
                        && link.pc.connection_state() == RtcPeerConnectionState::Disconnected
                    {
                        link.restart_ice();
                    }
                },
                ICE_RESTART_AFTER,
            );
            LinkState::Interrupted
        }
        RtcPeerConnectionState::Failed => {
            // New ICE credentials on both sides: `negotiationneeded` fires and perfect
            // negotiation carries the restart offer.
            link.restart_ice();
            LinkState::Failed
        }
        RtcPeerConnectionState::Closed => return,
        _ => LinkState::Connecting,
    };
    (link.events.state)(state);
}

impl Negotiation {
    /// Perfect negotiation's message handler.
    async fn apply(&self, signal: PeerSignal) -> Result<(), JsValue> {
        match signal {
            PeerSignal::Description {
                description,
                screen,
                ..
            } => self.apply_description(&description, screen).await,
            // `{"candidate": null}` ends the remote candidates, and an empty candidate string
            // is an older way to say so; Chrome needs no call for either.
            PeerSignal::Candidate {
                candidate: None, ..
            } => Ok(()),
            PeerSignal::Candidate {
                candidate: Some(candidate),
                ..
            } if candidate.candidate.is_empty() => Ok(()),
            PeerSignal::Candidate {
                candidate: Some(candidate),
                ..
            } => {
                let candidate = to_js(&candidate)?;
                if self.pc.remote_description().is_none() {
                    self.early_candidates.borrow_mut().push(candidate);
                    Ok(())
                } else {
                    self.add_candidate(&candidate).await
                }
            }
        }
    }

    async fn apply_description(
        &self,
        description: &SessionDescription,
        screen: Option<String>,
    ) -> Result<(), JsValue> {
        let is_offer = description.kind == SdpType::Offer;
        let collision = is_offer
            && (self.making_offer.get() || self.pc.signaling_state() != RtcSignalingState::Stable);
        self.ignore_offer.set(!self.polite && collision);
        if self.ignore_offer.get() {
            return Ok(());
        }
        // Known before the tracks arrive, which happens while the description is applied.
        let stopped_sharing = screen.is_none();
        *self.remote_screen.borrow_mut() = screen;
        let init = to_js(description)?;
        let init: &RtcSessionDescriptionInit = init.unchecked_ref();
        JsFuture::from(self.pc.set_remote_description(init)).await?;
        if stopped_sharing {
            (self.events.screen)(None);
        }
        for candidate in self.early_candidates.take() {
            self.add_candidate(&candidate).await?;
        }
        if is_offer {
            if let Some(local) = self.pending_tracks.take() {
                add_tracks(&self.pc, &local);
                self.sync_screen();
            }
            self.open_files();
            self.set_local_description().await?;
        }
        Ok(())
    }

    /// Adds or removes our screen track to match [`Negotiation::screen`]; either way the browser
    /// fires `negotiationneeded`. For [`Role::Answer`], waits for the camera's tracks.
    fn sync_screen(&self) {
        if self.pending_tracks.borrow().is_some() {
            return;
        }
        let screen = self.screen.borrow().clone();
        let mut sender = self.screen_sender.borrow_mut();
        match (screen, sender.take()) {
            (Some(stream), None) => {
                if let Some(track) = first_track(&stream, Kind::Video) {
                    *sender = Some(self.pc.add_track(&track, &stream, &Array::new()));
                }
            }
            (None, Some(added)) => self.pc.remove_track(&added),
            (_, unchanged) => *sender = unchanged,
        }
    }

    /// Creates the file channel, once.
    fn open_files(&self) {
        let mut files = self.files.borrow_mut();
        if files.is_none() {
            *files = Some(FileChannel::open(&self.pc, Rc::clone(&self.events.files)));
        }
    }

    async fn add_candidate(&self, candidate: &JsValue) -> Result<(), JsValue> {
        let init: &RtcIceCandidateInit = candidate.unchecked_ref();
        let added = self
            .pc
            .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(init));
        match JsFuture::from(added).await {
            Err(_) if self.ignore_offer.get() => Ok(()),
            result => result.map(drop),
        }
    }

    /// `RTCPeerConnection.restartIce()` (not in web-sys yet).
    fn restart_ice(&self) {
        let restart = Reflect::get(&self.pc, &"restartIce".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        if let Some(restart) = restart
            && let Err(err) = restart.call0(&self.pc)
        {
            leptos::logging::warn!("ICE restart failed: {err:?}");
        }
    }

    /// `setLocalDescription()` with no argument (the browser picks offer, answer or rollback),
    /// then sends the result.
    async fn set_local_description(&self) -> Result<(), JsValue> {
        let method: js_sys::Function =
            Reflect::get(&self.pc, &"setLocalDescription".into())?.into();
        let promise: js_sys::Promise = method.call0(&self.pc)?.into();
        JsFuture::from(promise).await?;
        let Some(description) = self
            .pc
            .local_description()
            .and_then(|d| from_js::<SessionDescription>(&d.to_json().into()))
        else {
            return Ok(());
        };
        let screen = self.screen.borrow().as_ref().map(MediaStream::id);
        self.send(&PeerSignal::Description {
            description,
            screen,
            files_only: self.files_only,
        });
        Ok(())
    }

    /// Sends a signal to the remote peer.
    fn send(&self, signal: &PeerSignal) {
        match signal.encode() {
            Ok(data) => (self.events.signal)(data),
            Err(err) => leptos::logging::warn!("unsendable signal: {err}"),
        }
    }
}

/// A browser object (`toJSON()` of a description or candidate) as its typed payload.
fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue) -> Option<T> {
    let text = JSON::stringify(value).ok()?.as_string()?;
    serde_json::from_str(&text).ok()
}

/// A typed payload as the plain object the browser's APIs take.
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value).map_err(|err| JsValue::from_str(&err.to_string()))?;
    JSON::parse(&text)
}

/// Adds our tracks, and a receive-only transceiver for a kind we do not send, so we still see
/// and hear the remote peer.
fn add_tracks(pc: &RtcPeerConnection, local: &MediaStream) {
    let more = Array::new();
    for kind in [Kind::Audio, Kind::Video] {
        match first_track(local, kind) {
            Some(track) => {
                pc.add_track(&track, local, &more);
            }
            None => {
                let init = RtcRtpTransceiverInit::new();
                init.set_direction(RtcRtpTransceiverDirection::Recvonly);
                pc.add_transceiver_with_str_and_init(kind.as_str(), &init);
            }
        }
    }
}

pub(super) fn configuration(ice: &IceSetup) -> RtcConfiguration {
    let config = RtcConfiguration::new();
    let servers = Array::new();
    for server in ice.servers.iter().filter_map(|server| to_js(server).ok()) {
        servers.push(&server);
    }
    config.set_ice_servers(&servers);
    if ice.relay_only {
        config.set_ice_transport_policy(RtcIceTransportPolicy::Relay);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::LinkState::{self, *};

    #[test]
    fn a_failed_link_stays_failed_while_it_retries() {
        assert_eq!(Failed.then(Connecting), Failed);
        assert_eq!(Failed.then(Connected), Connected);
        assert_eq!(Failed.then(Interrupted), Interrupted);
        assert_eq!(Connecting.then(Failed), Failed);
        assert_eq!(Connected.then(Connecting), Connecting);
        let _: LinkState = Interrupted.then(Connected);
    }
}
