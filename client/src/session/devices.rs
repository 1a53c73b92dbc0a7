//! Our camera and microphone, their on/off toggles, switching devices mid-call, and presenting a
//! screen.

use leptos::prelude::*;
use noom_shared::{ClientMessage, PeerStatus};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStream;

use super::{Phase, Session};
use crate::rtc::media::{self, Access, Device, Kind};

/// The local devices, as pre-join and the call controls show them. Only the session writes
/// them; components read them through the accessors.
#[derive(Debug, Clone, Copy)]
pub struct LocalDevices {
    pub(super) stream: RwSignal<Option<MediaStream>, LocalStorage>,
    audio: RwSignal<Option<Access>>,
    video: RwSignal<Option<Access>>,
    mic_on: RwSignal<bool>,
    camera_on: RwSignal<bool>,
    cameras: RwSignal<Vec<Device>>,
    microphones: RwSignal<Vec<Device>>,
    camera_id: RwSignal<Option<String>>,
    microphone_id: RwSignal<Option<String>>,
    speakers: RwSignal<Vec<Device>>,
    /// The speaker others are heard on; `None`: the system's default.
    speaker_id: RwSignal<Option<String>>,
    problem: RwSignal<Option<String>>,
    pub(super) screen: RwSignal<Option<MediaStream>, LocalStorage>,
}

impl LocalDevices {
    pub(super) fn new() -> Self {
        Self {
            stream: RwSignal::new_local(None),
            audio: RwSignal::new(None),
            video: RwSignal::new(None),
            mic_on: RwSignal::new(true),
            camera_on: RwSignal::new(true),
            cameras: RwSignal::new(Vec::new()),
            microphones: RwSignal::new(Vec::new()),
            camera_id: RwSignal::new(None),
            microphone_id: RwSignal::new(None),
            speakers: RwSignal::new(Vec::new()),
            speaker_id: RwSignal::new(None),
            problem: RwSignal::new(None),
            screen: RwSignal::new_local(None),
        }
    }

    /// Our camera and microphone, once allowed.
    pub fn stream(self) -> ReadSignal<Option<MediaStream>, LocalStorage> {
        self.stream.read_only()
    }

    /// Whether we may use the microphone; `None` until the browser has answered.
    pub fn audio(self) -> ReadSignal<Option<Access>> {
        self.audio.read_only()
    }

    pub fn video(self) -> ReadSignal<Option<Access>> {
        self.video.read_only()
    }

    pub fn mic_on(self) -> ReadSignal<bool> {
        self.mic_on.read_only()
    }

    pub fn camera_on(self) -> ReadSignal<bool> {
        self.camera_on.read_only()
    }

    /// The devices of `kind`, and the one in use.
    pub fn choice(self, kind: Kind) -> (ReadSignal<Vec<Device>>, ReadSignal<Option<String>>) {
        match kind {
            Kind::Video => (self.cameras.read_only(), self.camera_id.read_only()),
            Kind::Audio => (self.microphones.read_only(), self.microphone_id.read_only()),
        }
    }

    /// A device switch that failed, in the browser's words.
    /// The speakers there are (none where the browser cannot choose), and the one chosen.
    pub fn speakers(self) -> (ReadSignal<Vec<Device>>, ReadSignal<Option<String>>) {
        (self.speakers.read_only(), self.speaker_id.read_only())
    }

    pub fn problem(self) -> ReadSignal<Option<String>> {
        self.problem.read_only()
    }

    /// The screen, window or tab we share, while we do.
    pub fn screen(self) -> ReadSignal<Option<MediaStream>, LocalStorage> {
        self.screen.read_only()
    }

    /// Stops the camera, microphone and shared screen (the visit is over).
    pub(super) fn stop_all(self) {
        for local in [self.stream, self.screen] {
            if let Some(Some(stream)) = local.try_get_untracked() {
                media::stop(&stream);
            }
        }
    }
}

impl Session {
    /// Asks for the camera and microphone, then lists devices (labels need permission).
    pub(super) async fn acquire_media(self) {
        let local = media::acquire(None, None).await;
        let lists = media::devices().await;
        let d = self.devices;
        let local = match local {
            Ok(local) if !self.is_closed() => local,
            Ok(local) => return media::stop(&local.stream),
            Err(err) => {
                d.problem.try_set(Some(err));
                return;
            }
        };
        let current_id = |kind| {
            media::first_track(&local.stream, kind).and_then(|t| t.get_settings().get_device_id())
        };
        d.camera_id.try_set(current_id(Kind::Video));
        d.microphone_id.try_set(current_id(Kind::Audio));
        d.camera_on.try_set(local.video == Access::Granted);
        d.mic_on.try_set(local.audio == Access::Granted);
        d.audio.try_set(Some(local.audio));
        d.video.try_set(Some(local.video));
        d.cameras.try_set(lists.cameras);
        d.microphones.try_set(lists.microphones);
        if media::can_choose_speaker() {
            d.speakers.try_set(lists.speakers);
        }
        d.stream.try_set(Some(local.stream));
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

    /// Raises or lowers our hand for everyone.
    /// Turns the microphone or the camera off (the host asked).
    pub(super) fn turn_off(self, kind: noom_shared::MediaKind) {
        let on = match kind {
            noom_shared::MediaKind::Audio => self.devices.mic_on,
            noom_shared::MediaKind::Video => self.devices.camera_on,
        };
        if on.get_untracked() {
            on.set(false);
            self.apply_toggles();
        }
    }

    pub fn toggle_hand(self) {
        self.hand_raised.update(|up| *up = !*up);
        self.apply_toggles();
    }

    /// Applies the mic and camera toggles to the tracks (`enabled`, no renegotiation) and, in a
    /// call, tells the room.
    pub(super) fn apply_toggles(self) {
        let d = self.devices;
        let (Some(mic_on), Some(camera_on)) = (
            d.mic_on.try_get_untracked(),
            d.camera_on.try_get_untracked(),
        ) else {
            return;
        };
        if let Some(Some(stream)) = d.stream.try_get_untracked() {
            for (kind, on) in [(Kind::Audio, mic_on), (Kind::Video, camera_on)] {
                if let Some(track) = media::first_track(&stream, kind) {
                    track.set_enabled(on);
                }
            }
        }
        let status = PeerStatus {
            muted: !mic_on,
            camera_off: !camera_on,
            hand_raised: self.hand_raised.try_get_untracked().unwrap_or(false),
            presenting: d
                .screen
                .try_with_untracked(Option::is_some)
                .unwrap_or(false),
        };
        if let Some(me) = self.me() {
            me.set_status(status);
        }
        if self.phase.try_get_untracked() == Some(Phase::InCall) {
            self.send(ClientMessage::SetStatus(status));
        }
    }

    /// Plays everyone else on the speaker `device`.
    pub fn choose_speaker(self, device: String) {
        self.devices.speaker_id.set(Some(device));
    }

    /// Switches to another camera or microphone; in a call, every link sends the new track
    /// through `RTCRtpSender.replaceTrack`, with no renegotiation.
    pub fn switch_device(self, kind: Kind, device: String) {
        spawn_local(self.open_device(kind, device));
    }

    /// Opens the camera again at the size the room's media wants, unless it has that width
    /// already or was asked for that size last time (a camera that cannot give it is not
    /// asked again and again).
    pub(super) fn size_camera(self) {
        let size = self.camera_size();
        let asked = self.inner.try_update_value(|i| i.camera_size.replace(size));
        let camera = self.devices.camera_id.try_get_untracked().flatten();
        let old = self
            .devices
            .stream
            .try_get_untracked()
            .flatten()
            .and_then(|s| media::first_track(&s, Kind::Video));
        let (Some(asked), Some(camera), Some(old)) = (asked, camera, old) else {
            return;
        };
        let width = old.get_settings().get_width();
        if asked.unwrap_or(media::MESH_CAMERA) == size || width == i32::try_from(size.0).ok() {
            return;
        }
        // Chromium gives a camera that is open already at the size it has: it must be let go
        // first (its picture pauses for as long as opening it again takes).
        old.stop();
        spawn_local(self.open_device(Kind::Video, camera));
    }

    /// Opens `device` for `kind` (a camera at the size the room's media wants, see
    /// `media_mode.rs`) and sends its track in place of the old one.
    pub(super) async fn open_device(self, kind: Kind, device: String) {
        let opened = media::open_track(kind, &device, self.camera_size()).await;
        // The page may have gone meanwhile: `try_*` only from here.
        let d = self.devices;
        let track = match opened {
            Ok(track) => track,
            Err(err) => {
                d.problem.try_set(Some(err));
                return;
            }
        };
        let Some(Some(stream)) = d.stream.try_get_untracked() else {
            return track.stop();
        };
        self.inner.try_with_value(|i| {
            for link in i.links.values() {
                link.replace_track(kind, &track);
            }
            if let Some(sfu) = &i.sfu {
                sfu.replace_track(kind, &track);
            }
        });
        media::swap_track(&stream, kind, &track);
        match kind {
            Kind::Audio => d.microphone_id.try_set(Some(device)),
            Kind::Video => d.camera_id.try_set(Some(device)),
        };
        d.problem.try_set(None);
        self.apply_toggles();
        let me = self.inner.try_with_value(|i| i.self_id.clone()).flatten();
        if let (Kind::Audio, Some(me)) = (kind, me) {
            self.watch_level(&me, &stream);
        }
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
        self.inner.try_update_value(|i| {
            // An earlier share's handler is not running now: it can go.
            i.screen_ended = Some(ended);
            for link in i.links.values() {
                link.share_screen(Some(&stream));
            }
            if let Some(sfu) = &i.sfu {
                sfu.share_screen(Some(&stream));
            }
        });
        me.set_screen(Some(stream.clone()));
        self.devices.screen.try_set(Some(stream));
        // Says `presenting`, which an SFU room's tiles go by.
        self.apply_toggles();
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
            if let Some(sfu) = &i.sfu {
                sfu.share_screen(None);
            }
        });
        self.devices.screen.try_set(None);
        if let Some(me) = self.me() {
            me.set_screen(None);
        }
        self.apply_toggles();
    }
}
