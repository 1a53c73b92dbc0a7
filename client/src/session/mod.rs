//! One visit to a room: the signaling socket, the local camera and microphone, one
//! [`PeerLink`] per remote participant, and the reactive state the room's components show.
//!
//! [`Session`] is a `Copy` handle (signals plus a local store), so components and browser
//! callbacks can share it; [`Session::shutdown`] (run by the room page's `on_cleanup`) closes the
//! socket and every link and stops every track. Its state is only written here: components read
//! it through the accessors below (read-only signals) and act through its public methods, which
//! the room page hands them as callbacks.
//!
//! One module per concern, each an `impl Session` block:
//! `connection` (the socket, welcome, resume and rejoin), `access` (passwords, the lobby and
//! the invite link), `host` (the host's role and actions), `roster` (participants and their
//! peer links), `media_mode` (mesh or SFU, and the switch), `devices` (camera, microphone, device switches, screen share), `activity`
//! (speaking levels and link stats), `chat`, and `transfers` (files, over the pure
//! [`ledger`]). [`welcome`] holds the pure decisions on greeting and on a dropped socket.
//!
//! **After an `.await`**, and in browser callbacks that can outlive the page, the room page may
//! be gone and every signal and store of the session disposed: such code uses only the `try_*`
//! accessors (`try_get_untracked`, `try_set`, `try_update_value`, ...), never the plain ones,
//! which panic on a disposed value, and a panic aborts the whole page (`panic = "abort"`).

mod access;
mod activity;
mod chat;
mod connection;
mod devices;
pub mod host;
pub mod ledger;
mod media_mode;
mod roster;
mod transfers;
mod view;
pub mod welcome;

use std::collections::HashMap;

use leptos::prelude::*;
use noom_shared::{
    ClientMessage, DEFAULT_MAX_FILE_BYTES, Media, Nickname, PeerId, PeerInfo, RoomAccess, RoomName,
    RoomPassword, Session as Lease, Welcome,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::spawn_local;

use crate::reconnect::ReconnectingSocket;
use crate::rtc::level::LevelMeter;
use crate::rtc::media::Kind;
use crate::rtc::peer::PeerLink;
use crate::rtc::sfu::SfuLink;

pub use chat::{ChatKind, ChatLine};
pub use devices::LocalDevices;
pub use roster::Participant;
pub use transfers::{SendProblem, Transfer};
pub use welcome::Phase;

/// The handle to a room visit.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    room: StoredValue<RoomName>,
    phase: RwSignal<Phase>,
    participants: RwSignal<Vec<Participant>>,
    chat: RwSignal<Vec<ChatLine>>,
    /// People in the room before we join, from the server's room list.
    occupancy: RwSignal<u32>,
    max_room_size: RwSignal<u32>,
    /// The largest file sent or accepted, from the server's `welcome`.
    max_file_bytes: RwSignal<u64>,
    /// Whether the server gave us a TURN relay, for explaining a link that fails.
    has_relay: RwSignal<bool>,
    devices: LocalDevices,
    /// A recoverable error from the server (bad nickname, rate limit) or from presenting, in
    /// the server's or the browser's words.
    notice: RwSignal<Option<String>>,
    /// The socket dropped during the call and the seat is being taken back (`resume`); the
    /// peer connections carry on meanwhile.
    reconnecting: RwSignal<bool>,
    /// Our raised hand, shown to everyone.
    hand_raised: RwSignal<bool>,
    /// The remote participant heard loudest most recently.
    active_speaker: RwSignal<Option<PeerId>>,
    /// The remote participant we pinned: shown large, and in a large SFU room always sent
    /// (see `view.rs`).
    pinned: RwSignal<Option<PeerId>>,
    /// Files sent and received, oldest first.
    transfers: RwSignal<Vec<Transfer>>,
    /// The room's host (see `host.rs`).
    host: RwSignal<Option<PeerId>>,
    /// The room's password and lobby, once in (see `access.rs`).
    access: RwSignal<RoomAccess>,
    /// As host: who waits to be let in.
    knocks: RwSignal<Vec<PeerInfo>>,
    /// The server asked for the room's password.
    needs_password: RwSignal<bool>,
    inner: StoredValue<Inner, LocalStorage>,
}

/// What the visit keeps that no component shows.
#[derive(Default)]
struct Inner {
    /// The room page's reactive owner: signals made later, from socket callbacks, belong to it
    /// and are freed with the page.
    owner: Option<Owner>,
    socket: Option<ReconnectingSocket>,
    welcome: Option<Welcome>,
    self_id: Option<PeerId>,
    /// The nickname sent in `join`.
    nickname: Option<Nickname>,
    /// The room's password, sent in `join`: from the invite link, typed, or set as host.
    password: Option<RoomPassword>,
    links: HashMap<PeerId, PeerLink>,
    /// The room's media: peer `links` in a mesh, this one link to the server in an SFU room.
    media: Media,
    sfu: Option<SfuLink>,
    /// Last-N in a large SFU room: the only others whose cameras the server sends us
    /// (`sfu_cameras`); `None`, everyone's.
    cameras_only: Option<Vec<PeerId>>,
    /// The camera size it was last opened at (`devices.rs`); `None`, the browser's
    /// default (as `media::MESH_CAMERA`).
    camera_size: Option<(u32, u32)>,
    /// What we last told the SFU we show (`sfu_view`), on the SFU link we have now.
    view_sent: Option<noom_shared::SfuView>,
    /// The latest `session`: the token that takes the seat back after a dropped socket.
    lease: Option<Lease>,
    meters: HashMap<PeerId, LevelMeter>,
    next_key: usize,
    transfers: transfers::Files,
    /// The handler of our shared screen's `ended` event (the browser's "Stop sharing").
    screen_ended: Option<Closure<dyn FnMut()>>,
    closed: bool,
}

impl Session {
    /// Starts a visit to `room`: opens the socket and asks for the camera and microphone.
    pub fn start(room: RoomName) -> Self {
        let session = Self {
            room: StoredValue::new(room),
            phase: RwSignal::new(Phase::Connecting),
            participants: RwSignal::new(Vec::new()),
            chat: RwSignal::new(Vec::new()),
            occupancy: RwSignal::new(0),
            max_room_size: RwSignal::new(0),
            max_file_bytes: RwSignal::new(DEFAULT_MAX_FILE_BYTES),
            has_relay: RwSignal::new(false),
            devices: LocalDevices::new(),
            notice: RwSignal::new(None),
            reconnecting: RwSignal::new(false),
            hand_raised: RwSignal::new(false),
            active_speaker: RwSignal::new(None),
            pinned: RwSignal::new(None),
            transfers: RwSignal::new(Vec::new()),
            host: RwSignal::new(None),
            access: RwSignal::new(RoomAccess::default()),
            knocks: RwSignal::new(Vec::new()),
            needs_password: RwSignal::new(false),
            inner: StoredValue::new_local(Inner {
                owner: Owner::current(),
                ..Inner::default()
            }),
        };
        session.read_invite_password();
        session.connect();
        spawn_local(session.acquire_media());
        session
    }

    pub fn room(self) -> RoomName {
        self.room.get_value()
    }

    pub fn phase(self) -> ReadSignal<Phase> {
        self.phase.read_only()
    }

    /// Everyone in the call, ourselves included, in the order they joined.
    pub fn participants(self) -> ReadSignal<Vec<Participant>> {
        self.participants.read_only()
    }

    pub fn chat(self) -> ReadSignal<Vec<ChatLine>> {
        self.chat.read_only()
    }

    pub fn occupancy(self) -> ReadSignal<u32> {
        self.occupancy.read_only()
    }

    pub fn max_room_size(self) -> ReadSignal<u32> {
        self.max_room_size.read_only()
    }

    pub fn max_file_bytes(self) -> ReadSignal<u64> {
        self.max_file_bytes.read_only()
    }

    pub fn has_relay(self) -> ReadSignal<bool> {
        self.has_relay.read_only()
    }

    pub fn devices(self) -> LocalDevices {
        self.devices
    }

    pub fn notice(self) -> ReadSignal<Option<String>> {
        self.notice.read_only()
    }

    pub fn reconnecting(self) -> ReadSignal<bool> {
        self.reconnecting.read_only()
    }

    pub fn hand_raised(self) -> ReadSignal<bool> {
        self.hand_raised.read_only()
    }

    pub fn active_speaker(self) -> ReadSignal<Option<PeerId>> {
        self.active_speaker.read_only()
    }

    pub fn pinned(self) -> ReadSignal<Option<PeerId>> {
        self.pinned.read_only()
    }

    pub fn transfers(self) -> ReadSignal<Vec<Transfer>> {
        self.transfers.read_only()
    }

    /// The controls' actions, as callbacks.
    pub fn actions(self) -> CallActions {
        CallActions {
            toggle_mic: Callback::new(move |()| self.toggle_mic()),
            toggle_camera: Callback::new(move |()| self.toggle_camera()),
            toggle_screen: Callback::new(move |()| self.toggle_screen_share()),
            toggle_hand: Callback::new(move |()| self.toggle_hand()),
            switch_device: Callback::new(move |(kind, id)| self.switch_device(kind, id)),
            choose_speaker: Callback::new(move |id| self.choose_speaker(id)),
        }
    }

    /// Closes the socket and every link and stops every track; the component tree is going.
    pub fn shutdown(self) {
        let Some(Some(socket)) = self.inner.try_update_value(|i| {
            if i.closed {
                return None;
            }
            i.closed = true;
            Some(i.socket.take())
        }) else {
            return;
        };
        if let Some(socket) = socket {
            socket.close();
        }
        self.close_links();
        self.inner.try_update_value(|i| {
            i.meters.clear();
            i.transfers.clear();
        });
        self.devices.stop_all();
    }

    fn is_closed(self) -> bool {
        self.inner.try_with_value(|i| i.closed).unwrap_or(true)
    }

    /// A key unique within the visit, for keyed lists.
    fn next_key(self) -> Option<usize> {
        self.inner.try_update_value(|i| {
            i.next_key += 1;
            i.next_key
        })
    }

    /// Runs `make` under the room page's owner, so signals made from a socket callback are
    /// freed with the page.
    fn owned<T>(self, make: impl FnOnce() -> T) -> T {
        match self.inner.try_with_value(|i| i.owner.clone()).flatten() {
            Some(owner) => owner.with(make),
            None => make(),
        }
    }

    fn send(self, message: ClientMessage) {
        self.inner.try_with_value(|i| {
            if let Some(socket) = &i.socket {
                socket.send(message);
            }
        });
    }

    /// Ends the visit on `phase` (lost, outdated): links closed and tracks stopped, as on
    /// leaving.
    fn end(self, phase: Phase) {
        if !self.is_closed() {
            self.shutdown();
            self.phase.try_set(phase);
        }
    }
}

/// What the call's controls can do, as callbacks (so they get no other hold on the session).
#[derive(Clone, Copy)]
pub struct CallActions {
    pub toggle_mic: Callback<()>,
    pub toggle_camera: Callback<()>,
    pub toggle_screen: Callback<()>,
    pub toggle_hand: Callback<()>,
    pub switch_device: Callback<(Kind, String)>,
    pub choose_speaker: Callback<String>,
}
