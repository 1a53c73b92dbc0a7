//! One visit to a room: the signaling socket, the local camera and microphone, one
//! [`PeerLink`] per remote participant, and the reactive state the room's components show.
//!
//! [`Session`] is a `Copy` handle (signals plus a local store), so components and browser
//! callbacks can share it; [`Session::shutdown`] (run by the room page's `on_cleanup`) closes the
//! socket and every link and stops every track.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;
use noom_shared::{
    ChatMessage, ChatSend, ChatText, ClientMessage, DEFAULT_MAX_FILE_BYTES, ErrorCode, Join,
    Joined, Nickname, PeerId, PeerInfo, PeerStatus, Resume, RoomName, ServerMessage,
    Session as Lease, SignalFrom, SignalTo, Welcome,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStream;

use crate::backoff::Backoff;
use crate::rtc::files::{self, FileMessage, FileOffer, Notice, Stopped};
use crate::rtc::level::LevelMeter;
use crate::rtc::media::{self, Access, Device, Kind};
use crate::rtc::peer::{LinkEvents, LinkState, PeerLink, Role};
use crate::rtc::stats::Quality;
use crate::signaling::{Ending, Signaling};

/// Where the visit is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Opening the socket.
    Connecting,
    /// Connected, choosing devices before joining.
    PreJoin,
    /// `join` sent, waiting for `joined`.
    Joining,
    InCall,
    /// The server refused the join: the room is at its size limit.
    Full,
    /// Something the user must act on, in words.
    Failed(String),
}

/// A tile's participant. Every field is a signal handle, so the whole is cheap to copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    pub id: PeerId,
    pub is_self: bool,
    pub nickname: RwSignal<String>,
    pub status: RwSignal<PeerStatus>,
    pub stream: RwSignal<Option<MediaStream>, LocalStorage>,
    /// The screen they share, shown as a tile of its own.
    pub screen: RwSignal<Option<MediaStream>, LocalStorage>,
    pub link: RwSignal<LinkState>,
    pub speaking: RwSignal<bool>,
    /// The link's quality from its last stats sample (remote participants only).
    pub quality: RwSignal<Option<Quality>>,
}

/// One line of the chat panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// Unique within the session, for keyed lists.
    pub key: usize,
    pub kind: ChatKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatKind {
    Message {
        nickname: String,
        text: String,
        time: String,
        mine: bool,
    },
    /// "Ana joined", "Ana left".
    Notice(String),
}

/// One file sent or being received, as the chat panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    /// Unique within the session, for keyed lists.
    pub key: usize,
    pub name: String,
    pub size: u64,
    pub mime: String,
    /// Who sent it; `None` for ours.
    pub from: Option<String>,
    /// From 0 to 1: bytes queued (ours, summed over receivers) or arrived (theirs).
    pub progress: RwSignal<f64>,
    pub state: RwSignal<TransferState>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferState {
    /// Reading and checksumming our file.
    Preparing,
    Sending,
    Receiving,
    /// All bytes here; checking the SHA-256.
    Checking,
    /// Ours, all bytes handed over; waiting for receivers to confirm ("Sent to 2, 1 confirmed").
    Sent(String),
    /// Ours, every receiver that got it confirmed its checksum ("Delivered to 2").
    Delivered(String),
    /// Theirs, checksum matched: a download URL.
    Verified(String),
    /// Stopped by its sender or declined by us, in words.
    Cancelled(String),
    /// In words.
    Failed(String),
}

/// How far one of our files got with one receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Sending,
    /// All bytes handed to the channel; no confirmation yet.
    Sent,
    Confirmed,
    Declined,
    /// The receiver left or the connection closed first.
    Lost,
}

/// A file of ours on its way to the others.
struct Outgoing {
    transfer: Transfer,
    receivers: HashMap<PeerId, Delivery>,
    cancelled: bool,
}

impl Outgoing {
    /// The row's state from how each receiver is doing.
    fn state(&self) -> TransferState {
        let count = |d: Delivery| self.receivers.values().filter(|&&r| r == d).count();
        let (confirmed, sent, declined, lost) = (
            count(Delivery::Confirmed),
            count(Delivery::Sent),
            count(Delivery::Declined),
            count(Delivery::Lost),
        );
        let mut also = Vec::new();
        if declined > 0 {
            also.push(format!("{declined} declined"));
        }
        if lost > 0 {
            also.push(format!("{lost} left"));
        }
        let also = also.iter().map(|a| format!(", {a}")).collect::<String>();
        if self.cancelled {
            TransferState::Cancelled("Cancelled".to_owned())
        } else if count(Delivery::Sending) > 0 {
            TransferState::Sending
        } else if sent > 0 {
            TransferState::Sent(format!(
                "Sent to {}, {confirmed} confirmed{also}",
                sent + confirmed
            ))
        } else if confirmed > 0 {
            TransferState::Delivered(format!("Delivered to {confirmed}{also}"))
        } else {
            TransferState::Failed(format!("Not delivered{also}"))
        }
    }
}

/// A file on its way to us.
struct Incoming {
    offer: FileOffer,
    parts: js_sys::Array,
    received: u64,
    transfer: Transfer,
}

/// The local devices, as pre-join and the call controls show them.
#[derive(Debug, Clone, Copy)]
pub struct LocalDevices {
    pub stream: RwSignal<Option<MediaStream>, LocalStorage>,
    pub audio: RwSignal<Option<Access>>,
    pub video: RwSignal<Option<Access>>,
    pub mic_on: RwSignal<bool>,
    pub camera_on: RwSignal<bool>,
    pub cameras: RwSignal<Vec<Device>>,
    pub microphones: RwSignal<Vec<Device>>,
    pub camera_id: RwSignal<Option<String>>,
    pub microphone_id: RwSignal<Option<String>>,
    /// A device switch that failed, in words.
    pub problem: RwSignal<Option<String>>,
    /// The screen, window or tab we share, while we do.
    pub screen: RwSignal<Option<MediaStream>, LocalStorage>,
}

/// The handle to a room visit.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    pub room: StoredValue<RoomName>,
    pub phase: RwSignal<Phase>,
    pub participants: RwSignal<Vec<Participant>>,
    pub chat: RwSignal<Vec<ChatLine>>,
    /// People in the room before we join, from the server's room list.
    pub occupancy: RwSignal<u32>,
    pub max_room_size: RwSignal<u32>,
    /// The largest file sent or accepted, from the server's `welcome`.
    pub max_file_bytes: RwSignal<u64>,
    pub devices: LocalDevices,
    /// A recoverable error from the server (bad nickname, rate limit), in words.
    pub notice: RwSignal<Option<String>>,
    /// The socket dropped during the call and the seat is being taken back (`resume`); the
    /// peer connections carry on meanwhile.
    pub reconnecting: RwSignal<bool>,
    /// Our raised hand, shown to everyone.
    pub hand_raised: RwSignal<bool>,
    /// The remote participant heard loudest most recently.
    pub active_speaker: RwSignal<Option<PeerId>>,
    /// Files sent and received, oldest first.
    pub transfers: RwSignal<Vec<Transfer>>,
    inner: StoredValue<Inner, LocalStorage>,
}

#[derive(Default)]
struct Inner {
    /// The room page's reactive owner: signals made later, from socket callbacks, belong to it
    /// and are freed with the page.
    owner: Option<Owner>,
    signaling: Option<Signaling>,
    welcome: Option<Welcome>,
    self_id: Option<PeerId>,
    /// The nickname sent in `join`.
    nickname: Option<Nickname>,
    links: HashMap<PeerId, PeerLink>,
    /// The latest `session`: the token that takes the seat back after a dropped socket.
    lease: Option<Lease>,
    /// Attempts to reach the server again since the socket dropped; reset by `welcome`.
    backoff: Backoff,
    meters: HashMap<PeerId, LevelMeter>,
    next_chat_key: usize,
    /// Files arriving, by sender and the sender's transfer id.
    incoming: HashMap<(PeerId, u32), Incoming>,
    /// Our files being sent or awaiting confirmation, by transfer id.
    outgoing: HashMap<u32, Outgoing>,
    next_transfer_id: u32,
    next_transfer_key: usize,
    /// Download URLs of received files, freed on shutdown.
    file_urls: Vec<String>,
    /// The handler of our shared screen's `ended` event (the browser's "Stop sharing").
    screen_ended: Option<Closure<dyn FnMut()>>,
    closed: bool,
}

const LOST: &str = "Lost the connection to the server. Reload to try again.";

/// How loud the audio must be for a tile to show as speaking.
const SPEAKING_LEVEL: f64 = 0.12;

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
            devices: LocalDevices {
                stream: RwSignal::new_local(None),
                audio: RwSignal::new(None),
                video: RwSignal::new(None),
                mic_on: RwSignal::new(true),
                camera_on: RwSignal::new(true),
                cameras: RwSignal::new(Vec::new()),
                microphones: RwSignal::new(Vec::new()),
                camera_id: RwSignal::new(None),
                microphone_id: RwSignal::new(None),
                problem: RwSignal::new(None),
                screen: RwSignal::new_local(None),
            },
            notice: RwSignal::new(None),
            reconnecting: RwSignal::new(false),
            hand_raised: RwSignal::new(false),
            active_speaker: RwSignal::new(None),
            transfers: RwSignal::new(Vec::new()),
            inner: StoredValue::new_local(Inner {
                owner: Owner::current(),
                ..Inner::default()
            }),
        };
        session.connect();
        spawn_local(session.acquire_media());
        session
    }

    /// Opens the socket (again, when reconnecting).
    fn connect(self) {
        if self.inner.try_with_value(|i| i.closed).unwrap_or(true) {
            return;
        }
        match Signaling::connect(
            move |message| self.handle(message),
            move |ending| self.connection_lost(ending),
        ) {
            Ok(signaling) => self.inner.update_value(|i| i.signaling = Some(signaling)),
            Err(err) => self.fail(&format!("Cannot reach the server: {err}")),
        }
    }

    /// The socket ended. Unless the server refused us, try again with backoff. In a call the peer
    /// connections carry on meanwhile, and the seat is then taken back (`resume`) or, when the
    /// server no longer holds it (it restarted), taken anew (`join`). Gives up when
    /// [`Backoff`] says so.
    fn connection_lost(self, ending: Ending) {
        let Some((delay, closed)) = self.inner.try_update_value(|i| {
            i.signaling = None;
            (i.backoff.next_delay(), i.closed)
        }) else {
            return;
        };
        if closed {
            return;
        }
        let Some(delay) = delay.filter(|_| ending != Ending::Refused) else {
            return self.fail(LOST);
        };
        match self.phase.get_untracked() {
            Phase::InCall => self.reconnecting.set(true),
            Phase::Connecting | Phase::PreJoin | Phase::Joining => {
                self.phase.set(Phase::Connecting);
            }
            // Nothing on screen needs the server.
            Phase::Full | Phase::Failed(_) => return,
        }
        set_timeout(move || self.connect(), delay);
    }

    /// Asks for the camera and microphone, then lists devices (labels need permission).
    async fn acquire_media(self) {
        let local = media::acquire(None, None).await;
        let (cameras, microphones) = media::devices().await;
        let is_closed = self.inner.try_with_value(|i| i.closed).unwrap_or(true);
        let local = match local {
            Ok(local) if !is_closed => local,
            Ok(local) => return media::stop(&local.stream),
            Err(err) => return self.devices.problem.set(Some(err)),
        };
        let current_id = |kind| {
            media::first_track(&local.stream, kind).and_then(|t| t.get_settings().get_device_id())
        };
        let d = self.devices;
        d.camera_id.set(current_id(Kind::Video));
        d.microphone_id.set(current_id(Kind::Audio));
        d.camera_on.set(local.video == Access::Granted);
        d.mic_on.set(local.audio == Access::Granted);
        d.audio.set(Some(local.audio));
        d.video.set(Some(local.video));
        d.cameras.set(cameras);
        d.microphones.set(microphones);
        d.stream.set(Some(local.stream));
    }

    /// Sends `join`, after checking the nickname as the server would.
    pub fn join(self, nickname: &str) -> Result<(), String> {
        let nickname = Nickname::new(nickname).map_err(|e| format!("Nickname {}", e.reason))?;
        self.notice.set(None);
        self.phase.set(Phase::Joining);
        self.inner
            .update_value(|i| i.nickname = Some(nickname.clone()));
        self.send(ClientMessage::Join(Join {
            room: self.room.get_value(),
            nickname,
        }));
        Ok(())
    }

    /// Sends a chat message, after checking it as the server would.
    pub fn send_chat(self, text: &str) -> Result<(), String> {
        let text = ChatText::new(text).map_err(|e| format!("Message {}", e.reason))?;
        self.send(ClientMessage::Chat(ChatSend { text }));
        Ok(())
    }

    /// Sends `file` to everyone in the call, peer to peer; refuses it in words when it is too
    /// big or nobody is there. Progress and the outcome show in [`Session::transfers`].
    pub fn send_file(self, file: web_sys::File) -> Result<(), String> {
        let name = file.name();
        // `File.size` is a whole number of bytes.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let size = file.size() as u64;
        let max = self.max_file_bytes.get_untracked();
        if size > max {
            return Err(format!(
                "{name} is {}: files up to {} can be sent.",
                files::human_size(size),
                files::human_size(max)
            ));
        }
        if size == 0 {
            return Err(format!("{name} is empty."));
        }
        let channels: Vec<_> = self.inner.with_value(|i| {
            i.links
                .iter()
                .filter_map(|(peer, link)| Some((peer.clone(), link.files()?)))
                .collect()
        });
        if channels.is_empty() {
            return Err("Nobody else is here to send a file to.".to_owned());
        }
        let Some(transfer) = self.add_transfer(&name, size, &file.type_(), None) else {
            return Ok(());
        };
        transfer.state.set(TransferState::Preparing);
        spawn_local(async move {
            let prepared = async {
                let bytes = files::read(&file).await?;
                let sha256 = files::sha256(&bytes).await?;
                Ok::<_, String>((bytes, sha256))
            };
            let (bytes, sha256) = match prepared.await {
                Ok(prepared) => prepared,
                Err(err) => {
                    transfer.state.try_set(TransferState::Failed(err));
                    return;
                }
            };
            let Some(id) = self.inner.try_update_value(|i| {
                i.next_transfer_id += 1;
                let id = i.next_transfer_id;
                let receivers = channels
                    .iter()
                    .map(|(peer, _)| (peer.clone(), Delivery::Sending))
                    .collect();
                i.outgoing.insert(
                    id,
                    Outgoing {
                        transfer: transfer.clone(),
                        receivers,
                        cancelled: false,
                    },
                );
                id
            }) else {
                return;
            };
            let offer = FileOffer {
                id,
                name: transfer.name.clone(),
                size,
                mime: transfer.mime.clone(),
                sha256,
            };
            transfer.state.try_set(TransferState::Sending);
            let total = size * channels.len() as u64;
            let queued = Cell::new(0);
            let progress = Progress::new(transfer.progress);
            let on_sent = |n: u64| {
                queued.set(queued.get() + n);
                progress.report(queued.get(), total);
            };
            let sends = channels.iter().map(|(peer, channel)| {
                let stop = move || !self.still_sending(id, peer);
                let (on_sent, offer, bytes) = (&on_sent, &offer, &bytes);
                async move {
                    let sent = channel.send_file(offer, bytes, on_sent, &stop).await;
                    let delivery = match sent {
                        Ok(()) => Delivery::Sent,
                        Err(Stopped::Asked) => return,
                        Err(Stopped::Closed) => Delivery::Lost,
                    };
                    self.update_delivery(id, peer, delivery);
                }
            });
            futures_util::future::join_all(sends).await;
        });
        Ok(())
    }

    /// Whether transfer `id` of ours still goes to `peer` (not cancelled, not declined).
    fn still_sending(self, id: u32, peer: &PeerId) -> bool {
        self.inner
            .try_with_value(|i| {
                i.outgoing.get(&id).is_some_and(|o| {
                    !o.cancelled && o.receivers.get(peer) == Some(&Delivery::Sending)
                })
            })
            .unwrap_or(false)
    }

    /// Records how far transfer `id` of ours got with `peer`, and shows it. Confirmed, declined
    /// and lost are final; sent only follows sending.
    fn update_delivery(self, id: u32, peer: &PeerId, delivery: Delivery) {
        let updated = self.inner.try_update_value(|i| {
            let outgoing = i.outgoing.get_mut(&id)?;
            let current = outgoing.receivers.get_mut(peer)?;
            let moves = match delivery {
                Delivery::Sent => *current == Delivery::Sending,
                _ => matches!(*current, Delivery::Sending | Delivery::Sent),
            };
            if moves {
                *current = delivery;
            }
            Some((outgoing.transfer.state, outgoing.state()))
        });
        if let Some(Some((row, state))) = updated {
            row.try_set(state);
        }
    }

    /// `peer` is gone: our files it had not confirmed count as lost.
    fn lose_receiver(self, peer: &PeerId) {
        let ours: Vec<u32> = self
            .inner
            .try_with_value(|i| i.outgoing.keys().copied().collect())
            .unwrap_or_default();
        for transfer in ours {
            self.update_delivery(transfer, peer, Delivery::Lost);
        }
    }

    /// Stops a file: ours goes to nobody more, and its receivers are told; theirs stops coming
    /// to us, and its sender is told.
    pub fn cancel_transfer(self, key: usize) {
        let Some(stopped) = self.inner.try_update_value(|i| {
            if let Some((&id, outgoing)) =
                i.outgoing.iter_mut().find(|(_, o)| o.transfer.key == key)
            {
                outgoing.cancelled = true;
                let told: Vec<_> = outgoing
                    .receivers
                    .iter()
                    .filter(|(_, d)| matches!(d, Delivery::Sending | Delivery::Sent))
                    .filter_map(|(peer, _)| i.links.get(peer)?.files())
                    .collect();
                for channel in told {
                    channel.notify(id, Notice::Cancel);
                }
                return Some((outgoing.transfer.state, outgoing.state()));
            }
            let (from, id) = i
                .incoming
                .iter()
                .find(|(_, incoming)| incoming.transfer.key == key)
                .map(|(k, _)| k.clone())?;
            let incoming = i.incoming.remove(&(from.clone(), id))?;
            if let Some(channel) = i.links.get(&from).and_then(PeerLink::files) {
                channel.notify(id, Notice::Decline);
            }
            Some((
                incoming.transfer.state,
                TransferState::Cancelled("You declined it".to_owned()),
            ))
        }) else {
            return;
        };
        if let Some((row, state)) = stopped {
            row.try_set(state);
        }
    }

    /// Turns the microphone on or off for everyone, and tells the room.
    pub fn toggle_mic(self) {
        self.devices.mic_on.update(|on| *on = !*on);
        self.apply_toggles();
    }

    /// Turns the camera on or off for everyone, and tells the room.
    pub fn toggle_camera(self) {
        self.devices.camera_on.update(|on| *on = !*on);
        self.apply_toggles();
    }

    /// Starts presenting a screen, window or tab (the browser asks which), or stops.
    pub fn toggle_screen_share(self) {
        if self.devices.screen.get_untracked().is_some() {
            return self.stop_screen_share();
        }
        spawn_local(async move {
            match media::share_screen().await {
                Ok(Some(stream)) => self.start_screen_share(stream),
                Ok(None) => {}
                Err(err) => {
                    self.notice.try_set(Some(err));
                }
            }
        });
    }

    /// Sends `stream` to everyone as our screen, and shows it to us.
    fn start_screen_share(self, stream: MediaStream) {
        let in_call = self.phase.try_get_untracked() == Some(Phase::InCall);
        // A second Present while the first picker was open: keep the first share.
        let already = self.devices.screen.try_with_untracked(Option::is_some) != Some(false);
        let Some(me) = self.me().filter(|_| in_call && !already) else {
            return media::stop(&stream);
        };
        // The browser's own "Stop sharing" control ends the track: stop as our button would.
        let ended = Closure::<dyn FnMut()>::new(move || self.stop_screen_share());
        if let Some(track) = media::first_track(&stream, Kind::Video) {
            track.set_onended(Some(ended.as_ref().unchecked_ref()));
        }
        self.inner.update_value(|i| {
            // An earlier share's handler is not running now: it can go.
            i.screen_ended = Some(ended);
            for link in i.links.values() {
                link.share_screen(Some(&stream));
            }
        });
        me.screen.set(Some(stream.clone()));
        self.devices.screen.set(Some(stream));
    }

    /// Stops presenting: the screen track ends and leaves every link.
    pub fn stop_screen_share(self) {
        let Some(Some(stream)) = self.devices.screen.try_get_untracked() else {
            return;
        };
        if let Some(track) = media::first_track(&stream, Kind::Video) {
            track.set_onended(None);
        }
        media::stop(&stream);
        self.inner.try_with_value(|i| {
            for link in i.links.values() {
                link.share_screen(None);
            }
        });
        self.devices.screen.try_set(None);
        if let Some(me) = self.me() {
            me.screen.try_set(None);
        }
    }

    /// Raises or lowers our hand for everyone.
    pub fn toggle_hand(self) {
        self.hand_raised.update(|up| *up = !*up);
        self.apply_toggles();
    }

    /// Reads every link's stats and updates its participant's quality.
    pub fn sample_stats(self) {
        let Some(probes) = self.inner.try_with_value(|i| {
            i.links
                .iter()
                .map(|(id, link)| (id.clone(), link.stats()))
                .collect::<Vec<_>>()
        }) else {
            return;
        };
        for (id, probe) in probes {
            let Some(participant) = self.participant(&id) else {
                continue;
            };
            spawn_local(async move {
                if let Ok(quality) = probe.sample().await {
                    participant.quality.try_set(Some(quality));
                }
            });
        }
    }

    /// Switches to another camera or microphone; in a call, every link sends the new track
    /// through `RTCRtpSender.replaceTrack`, with no renegotiation.
    pub fn switch_device(self, kind: Kind, device: String) {
        spawn_local(async move {
            let track = match media::open_track(kind, &device).await {
                Ok(track) => track,
                Err(err) => return self.devices.problem.set(Some(err)),
            };
            let Some(stream) = self.devices.stream.get_untracked() else {
                return track.stop();
            };
            self.inner.with_value(|i| {
                for link in i.links.values() {
                    link.replace_track(kind, &track);
                }
            });
            media::swap_track(&stream, kind, &track);
            match kind {
                Kind::Audio => self.devices.microphone_id.set(Some(device)),
                Kind::Video => self.devices.camera_id.set(Some(device)),
            }
            self.devices.problem.set(None);
            self.apply_toggles();
            let me = self.inner.with_value(|i| i.self_id.clone());
            if let (Kind::Audio, Some(me)) = (kind, me) {
                self.watch_level(&me, &stream);
            }
        });
    }

    /// Closes the socket and every link and stops every track; the component tree is going.
    pub fn shutdown(self) {
        let Some(Some(inner)) = self.inner.try_update_value(|i| {
            if i.closed {
                return None;
            }
            i.closed = true;
            Some((i.signaling.take(), std::mem::take(&mut i.links)))
        }) else {
            return;
        };
        let (signaling, links) = inner;
        if let Some(signaling) = signaling {
            signaling.close();
        }
        for link in links.values() {
            link.close();
        }
        self.inner.try_update_value(|i| {
            i.meters.clear();
            i.incoming.clear();
            for url in i.file_urls.drain(..) {
                files::revoke(&url);
            }
        });
        for local in [self.devices.stream, self.devices.screen] {
            if let Some(Some(stream)) = local.try_get_untracked() {
                media::stop(&stream);
            }
        }
    }

    /// Updates every participant's speaking highlight from its audio level, and the active
    /// speaker.
    pub fn sample_levels(self) {
        let Some(levels) = self.inner.try_with_value(|i| {
            i.meters
                .iter()
                .map(|(id, meter)| (id.clone(), meter.level()))
                .collect::<HashMap<_, _>>()
        }) else {
            return;
        };
        let mic_on = self.devices.mic_on.get_untracked();
        let mut loudest: Option<(f64, PeerId)> = None;
        for p in self.participants.get_untracked() {
            let level = levels.get(&p.id).copied().unwrap_or(0.0);
            let speaking = level > SPEAKING_LEVEL && (mic_on || !p.is_self);
            if p.speaking.get_untracked() != speaking {
                p.speaking.set(speaking);
            }
            if speaking && !p.is_self && loudest.as_ref().is_none_or(|(max, _)| level > *max) {
                loudest = Some((level, p.id.clone()));
            }
        }
        // The last one heard stays the active speaker through a pause.
        if let Some((_, id)) = loudest
            && self.active_speaker.get_untracked().as_ref() != Some(&id)
        {
            self.active_speaker.set(Some(id));
        }
    }

    fn handle(self, message: ServerMessage) {
        match message {
            ServerMessage::Welcome(welcome) => self.on_welcome(welcome),
            ServerMessage::Rooms(rooms) => {
                let room = self.room.get_value();
                let here = rooms.rooms.iter().find(|r| r.name == room);
                self.occupancy.set(here.map_or(0, |r| r.participants));
            }
            ServerMessage::Joined(joined) => self.on_joined(joined),
            ServerMessage::PeerJoined(peer) => {
                self.notice_line(format!("{} joined", peer.nickname));
                self.add_participant(&peer, false);
            }
            ServerMessage::PeerLeft(left) => self.remove_peer(&left.peer_id),
            ServerMessage::Signal(signal) => self.on_signal(signal),
            ServerMessage::Chat(chat) => self.on_chat(chat),
            ServerMessage::PeerUpdated(peer) => {
                if let Some(p) = self.participant(&peer.peer_id) {
                    p.nickname.set(peer.nickname.to_string());
                }
            }
            ServerMessage::PeerStatus(update) => {
                if let Some(p) = self.participant(&update.peer_id) {
                    if update.status.hand_raised && !p.status.get_untracked().hand_raised {
                        self.notice_line(format!("{} raised a hand", p.nickname.get_untracked()));
                    }
                    p.status.set(update.status);
                }
            }
            ServerMessage::Session(lease) => self.inner.update_value(|i| i.lease = Some(lease)),
            ServerMessage::Resumed(resumed) => self.on_resumed(resumed),
            ServerMessage::Left(_) => {}
            ServerMessage::Error(error) => self.on_error(error.code, &error.message),
        }
    }

    fn on_welcome(self, welcome: Welcome) {
        self.max_room_size.set(welcome.max_room_size);
        self.max_file_bytes.set(welcome.max_file_bytes);
        let reconnecting = self.reconnecting.get_untracked();
        let lease = self
            .inner
            .try_update_value(|i| {
                i.welcome = Some(welcome);
                i.backoff.reset();
                i.lease.take().filter(|_| reconnecting)
            })
            .flatten();
        match (reconnecting, lease) {
            // Back after a drop: take the seat back (each token works once).
            (true, Some(lease)) => self.send(ClientMessage::Resume(Resume {
                token: lease.resume_token,
            })),
            (true, None) => self.rejoin(),
            (false, _) => {
                self.send(ClientMessage::ListRooms(Default::default()));
                self.phase.set(Phase::PreJoin);
            }
        }
    }

    /// `resumed`: the seat is ours again under the same peer id, so every peer connection still
    /// fits. Catch up with who left or came meanwhile.
    fn on_resumed(self, resumed: Joined) {
        self.reconnecting.set(false);
        let gone: Vec<PeerId> = self.participants.with_untracked(|list| {
            list.iter()
                .filter(|p| !p.is_self && !resumed.peers.iter().any(|q| q.peer_id == p.id))
                .map(|p| p.id.clone())
                .collect()
        });
        for id in &gone {
            self.remove_peer(id);
        }
        for peer in &resumed.peers {
            if self.participant(&peer.peer_id).is_none() {
                self.notice_line(format!("{} joined", peer.nickname));
                self.add_participant(peer, false);
            }
        }
        self.apply_toggles();
    }

    fn on_joined(self, joined: Joined) {
        if self.reconnecting.get_untracked() {
            // A rejoin: the room is rebuilt from this message.
            self.forget_everyone();
            self.reconnecting.set(false);
        }
        self.inner
            .update_value(|i| i.self_id = Some(joined.peer_id.clone()));
        let Some(nickname) = self.inner.with_value(|i| i.nickname.clone()) else {
            return;
        };
        let me = self.add_participant(
            &PeerInfo {
                peer_id: joined.peer_id,
                nickname,
            },
            true,
        );
        me.stream.set(self.devices.stream.get_untracked());
        me.screen.set(self.devices.screen.get_untracked());
        me.link.set(LinkState::Connected);
        if let Some(stream) = self.devices.stream.get_untracked() {
            self.watch_level(&me.id, &stream);
        }
        // We joined last: we offer to everyone already here.
        for peer in &joined.peers {
            self.add_participant(peer, false);
            self.open_link(peer.peer_id.clone(), Role::Offer);
        }
        self.phase.set(Phase::InCall);
        self.apply_toggles();
    }

    fn on_signal(self, signal: SignalFrom) {
        let known = self.participant(&signal.from).is_some();
        let has_link = self
            .inner
            .with_value(|i| i.links.contains_key(&signal.from));
        if !known {
            return;
        }
        if !has_link {
            // A later joiner's first offer: that is when our link to it begins.
            self.open_link(signal.from.clone(), Role::Answer);
        }
        self.inner.with_value(|i| {
            if let Some(link) = i.links.get(&signal.from) {
                link.receive(signal.data);
            }
        });
    }

    fn on_chat(self, chat: ChatMessage) {
        let mine = self
            .inner
            .with_value(|i| i.self_id.as_ref() == Some(&chat.from));
        self.push_line(ChatKind::Message {
            nickname: chat.nickname.to_string(),
            text: chat.text.to_string(),
            time: clock_time(chat.ts),
            mine,
        });
    }

    fn on_error(self, code: ErrorCode, message: &str) {
        match code {
            ErrorCode::RoomFull => self.phase.set(Phase::Full),
            // The held seat is gone (expired, or the server restarted).
            ErrorCode::InvalidToken if self.reconnecting.get_untracked() => self.rejoin(),
            ErrorCode::InvalidNickname | ErrorCode::InvalidRoom | ErrorCode::AlreadyInRoom
                if self.phase.get_untracked() == Phase::Joining =>
            {
                self.phase.set(Phase::PreJoin);
                self.notice.set(Some(message.to_owned()));
            }
            _ => self.notice.set(Some(message.to_owned())),
        }
    }

    fn open_link(self, remote: PeerId, role: Role) {
        let Some(participant) = self.participant(&remote) else {
            return;
        };
        let ice_servers = self
            .inner
            .with_value(|i| i.welcome.as_ref().map(|w| w.ice_servers.clone()))
            .unwrap_or_default();
        let local = self
            .devices
            .stream
            .get_untracked()
            .or_else(|| MediaStream::new().ok());
        let Some(local) = local else { return };
        let screen = self.devices.screen.get_untracked();
        let to = remote.clone();
        let files_from = remote.clone();
        let events = LinkEvents {
            signal: Box::new(move |data| {
                self.send(ClientMessage::Signal(SignalTo {
                    to: to.clone(),
                    data,
                }));
            }),
            stream: Box::new(move |stream| {
                let Some(current) = participant.stream.try_get_untracked() else {
                    return;
                };
                if current.as_ref() != Some(&stream) {
                    self.watch_level(&participant.id, &stream);
                    participant.stream.set(Some(stream));
                }
            }),
            screen: Box::new(move |screen| {
                if participant.screen.try_get_untracked().as_ref() != Some(&screen) {
                    participant.screen.try_set(screen);
                }
            }),
            state: Box::new(move |state| {
                participant.link.try_set(state);
            }),
            files: Rc::new(move |message| self.on_file(&files_from, message)),
        };
        match PeerLink::new(
            remote.clone(),
            &ice_servers,
            role,
            &local,
            screen.as_ref(),
            events,
        ) {
            Ok(link) => self.inner.update_value(|i| {
                i.links.insert(remote, link);
            }),
            Err(err) => {
                leptos::logging::warn!("{err}");
                participant.link.set(LinkState::Failed);
            }
        }
    }

    /// Something arrived on `from`'s file channel.
    fn on_file(self, from: &PeerId, message: FileMessage) {
        match message {
            FileMessage::Offer(offer) => {
                let nickname = self
                    .participant(from)
                    .map(|p| p.nickname.get_untracked())
                    .unwrap_or_default();
                let Some(transfer) =
                    self.add_transfer(&offer.name, offer.size, &offer.mime, Some(nickname))
                else {
                    return;
                };
                let max = self.max_file_bytes.get_untracked();
                if offer.size > max {
                    transfer.state.set(TransferState::Failed(format!(
                        "Refused: over {}",
                        files::human_size(max)
                    )));
                    return;
                }
                transfer.state.set(TransferState::Receiving);
                let key = (from.clone(), offer.id);
                let incoming = Incoming {
                    offer,
                    parts: js_sys::Array::new(),
                    received: 0,
                    transfer,
                };
                self.inner
                    .try_update_value(|i| i.incoming.insert(key, incoming));
            }
            FileMessage::Chunk { id, data } => {
                let key = (from.clone(), id);
                let done = self.inner.try_update_value(|i| {
                    let incoming = i.incoming.get_mut(&key)?;
                    incoming.parts.push(&data);
                    incoming.received += u64::from(data.length());
                    Progress::new(incoming.transfer.progress)
                        .report(incoming.received, incoming.offer.size);
                    if incoming.received < incoming.offer.size {
                        return None;
                    }
                    i.incoming.remove(&key)
                });
                if let Some(Some(incoming)) = done {
                    spawn_local(self.check_file(from.clone(), incoming));
                }
            }
            FileMessage::Notice { id, notice } => match notice {
                Notice::Cancel => self.cancel_incoming(from, id),
                Notice::Decline => self.update_delivery(id, from, Delivery::Declined),
                Notice::Received => self.update_delivery(id, from, Delivery::Confirmed),
            },
            FileMessage::Closed => {
                self.fail_incoming(from, "The sender's connection closed");
            }
        }
    }

    /// A file has fully arrived from `from`: check its SHA-256, offer it for download, and
    /// confirm it to the sender.
    async fn check_file(self, from: PeerId, incoming: Incoming) {
        let transfer = incoming.transfer;
        let id = incoming.offer.id;
        transfer.state.try_set(TransferState::Checking);
        let checked = async {
            let (bytes, url) = files::assemble(&incoming.parts, &incoming.offer.mime).await?;
            let sha256 = files::sha256(&bytes).await;
            if sha256.as_ref() != Ok(&incoming.offer.sha256) {
                files::revoke(&url);
                return Err(sha256.err().unwrap_or_else(|| {
                    "Damaged on the way: the checksum does not match".to_owned()
                }));
            }
            Ok(url)
        };
        let state = match checked.await {
            Ok(url) => {
                let kept = self
                    .inner
                    .try_update_value(|i| i.file_urls.push(url.clone()));
                if kept.is_none() {
                    return files::revoke(&url);
                }
                self.inner.with_value(|i| {
                    if let Some(channel) = i.links.get(&from).and_then(PeerLink::files) {
                        channel.notify(id, Notice::Received);
                    }
                });
                TransferState::Verified(url)
            }
            Err(err) => TransferState::Failed(err),
        };
        transfer.state.try_set(state);
    }

    /// Its sender cancelled file `id` from `from`: it stops arriving, and its row says so.
    fn cancel_incoming(self, from: &PeerId, id: u32) {
        let Some(Some(incoming)) = self
            .inner
            .try_update_value(|i| i.incoming.remove(&(from.clone(), id)))
        else {
            return;
        };
        let nickname = self
            .participant(from)
            .map(|p| p.nickname.get_untracked())
            .unwrap_or_default();
        incoming
            .transfer
            .state
            .try_set(TransferState::Cancelled(format!("{nickname} cancelled it")));
    }

    /// Ends files from `from` still arriving as failed.
    fn fail_incoming(self, from: &PeerId, reason: &str) {
        let failed = self.inner.try_update_value(|i| {
            let keys: Vec<_> = i
                .incoming
                .keys()
                .filter(|(peer, _)| peer == from)
                .cloned()
                .collect();
            keys.iter()
                .filter_map(|key| i.incoming.remove(key))
                .map(|incoming| incoming.transfer)
                .collect::<Vec<_>>()
        });
        for transfer in failed.into_iter().flatten() {
            transfer
                .state
                .try_set(TransferState::Failed(reason.to_owned()));
        }
    }

    /// A new row in the file list, its signals owned by the room page.
    fn add_transfer(
        self,
        name: &str,
        size: u64,
        mime: &str,
        from: Option<String>,
    ) -> Option<Transfer> {
        let key = self.inner.try_update_value(|i| {
            i.next_transfer_key += 1;
            i.next_transfer_key
        })?;
        let make = || Transfer {
            key,
            name: name.to_owned(),
            size,
            mime: mime.to_owned(),
            from,
            progress: RwSignal::new(0.0),
            state: RwSignal::new(TransferState::Receiving),
        };
        let owner = self.inner.with_value(|i| i.owner.clone());
        let transfer = match owner {
            Some(owner) => owner.with(make),
            None => make(),
        };
        self.transfers
            .try_update(|list| list.push(transfer.clone()))?;
        Some(transfer)
    }

    fn add_participant(self, peer: &PeerInfo, is_self: bool) -> Participant {
        let make = || Participant {
            id: peer.peer_id.clone(),
            is_self,
            nickname: RwSignal::new(peer.nickname.to_string()),
            status: RwSignal::new(PeerStatus::default()),
            stream: RwSignal::new_local(None),
            screen: RwSignal::new_local(None),
            link: RwSignal::new(LinkState::Connecting),
            speaking: RwSignal::new(false),
            quality: RwSignal::new(None),
        };
        let owner = self.inner.with_value(|i| i.owner.clone());
        let participant = match owner {
            Some(owner) => owner.with(make),
            None => make(),
        };
        self.participants
            .update(|list| list.push(participant.clone()));
        participant
    }

    /// The server no longer holds our seat (it restarted, or the grace ran out): join the room
    /// again under the same name. Everyone's peer id is new then, so every link starts over when
    /// `joined` arrives.
    fn rejoin(self) {
        match self.inner.with_value(|i| i.nickname.clone()) {
            Some(nickname) => self.send(ClientMessage::Join(Join {
                room: self.room.get_value(),
                nickname,
            })),
            None => self.fail(LOST),
        }
    }

    /// Closes every link and forgets every participant, ourselves included, without a word in
    /// the chat: after a rejoin they come back under new peer ids.
    fn forget_everyone(self) {
        let links = self.inner.try_update_value(|i| {
            i.meters.clear();
            std::mem::take(&mut i.links)
        });
        for link in links.into_iter().flat_map(HashMap::into_values) {
            link.close();
        }
        for participant in self.participants.get_untracked() {
            self.fail_incoming(&participant.id, "The connection to the sender was reset");
            self.lose_receiver(&participant.id);
        }
        self.participants.set(Vec::new());
    }

    fn remove_peer(self, id: &PeerId) {
        if let Some(link) = self.inner.try_update_value(|i| {
            i.meters.remove(id);
            i.links.remove(id)
        }) && let Some(link) = link
        {
            link.close();
        }
        let Some(gone) = self.participant(id) else {
            return;
        };
        let nickname = gone.nickname.get_untracked();
        self.fail_incoming(id, &format!("{nickname} left before it arrived"));
        self.lose_receiver(id);
        self.participants
            .update(|list| list.retain(|p| &p.id != id));
        self.notice_line(format!("{} left", gone.nickname.get_untracked()));
    }

    /// Our own tile's participant, once in the call.
    fn me(self) -> Option<Participant> {
        self.participants
            .try_with_untracked(|l| l.iter().find(|p| p.is_self).cloned())
            .flatten()
    }

    fn participant(self, id: &PeerId) -> Option<Participant> {
        self.participants
            .with_untracked(|list| list.iter().find(|p| &p.id == id).cloned())
    }

    /// Measures `stream`'s audio for `id`'s speaking highlight, replacing any earlier meter.
    fn watch_level(self, id: &PeerId, stream: &MediaStream) {
        let meter = LevelMeter::new(stream);
        self.inner.try_update_value(|i| match meter {
            Some(meter) => i.meters.insert(id.clone(), meter),
            None => i.meters.remove(id),
        });
    }

    /// Applies the mic and camera toggles to the tracks and, in a call, tells the room.
    fn apply_toggles(self) {
        let d = self.devices;
        let (mic_on, camera_on) = (d.mic_on.get_untracked(), d.camera_on.get_untracked());
        if let Some(stream) = d.stream.get_untracked() {
            for (kind, on) in [(Kind::Audio, mic_on), (Kind::Video, camera_on)] {
                if let Some(track) = media::first_track(&stream, kind) {
                    track.set_enabled(on);
                }
            }
        }
        let status = PeerStatus {
            muted: !mic_on,
            camera_off: !camera_on,
            hand_raised: self.hand_raised.get_untracked(),
        };
        if let Some(me) = self.me() {
            me.status.set(status);
        }
        if self.phase.get_untracked() == Phase::InCall {
            self.send(ClientMessage::SetStatus(status));
        }
    }

    fn notice_line(self, text: String) {
        self.push_line(ChatKind::Notice(text));
    }

    fn push_line(self, kind: ChatKind) {
        let Some(key) = self.inner.try_update_value(|i| {
            i.next_chat_key += 1;
            i.next_chat_key
        }) else {
            return;
        };
        self.chat.update(|lines| lines.push(ChatLine { key, kind }));
    }

    fn send(self, message: ClientMessage) {
        self.inner.with_value(|i| {
            if let Some(signaling) = &i.signaling {
                signaling.send(message);
            }
        });
    }

    /// Ends the visit with a message: links closed and tracks stopped, as on leaving.
    fn fail(self, message: &str) {
        if !self.inner.try_with_value(|i| i.closed).unwrap_or(true) {
            self.shutdown();
            self.phase.set(Phase::Failed(message.to_owned()));
        }
    }
}

/// Sets a progress signal only when the whole percent changes, so a large file does not
/// re-render its row for every chunk.
struct Progress(RwSignal<f64>);

impl Progress {
    fn new(signal: RwSignal<f64>) -> Self {
        Self(signal)
    }

    fn report(&self, done: u64, total: u64) {
        // Byte counts up to 100 MiB times the room size fit an f64 exactly.
        #[allow(clippy::cast_precision_loss)]
        let now = done as f64 / total.max(1) as f64;
        let before = self.0.try_get_untracked().unwrap_or(now);
        if (now * 100.0).floor() != (before * 100.0).floor() || now >= 1.0 {
            self.0.try_set(now);
        }
    }
}

/// `ts` (ms since the epoch) as local `HH:MM`.
fn clock_time(ts: u64) -> String {
    // Millisecond timestamps fit an f64 exactly until the year 287396.
    #[allow(clippy::cast_precision_loss)]
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ts as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}
