//! The local camera and microphone: asking for them, listing devices, switching one, and
//! stopping them; and the screen, window or tab the user shares.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DisplayMediaStreamConstraints, MediaDeviceKind, MediaStream, MediaStreamConstraints,
    MediaStreamTrack,
};

use crate::i18n::{Texts, fill, t_now};

/// The largest shared screen sent, and its frame rate. Every link sends its own copy (a mesh),
/// so 720p at 15 frames a second keeps a share with several people within a home uplink.
const SCREEN_MAX: (u32, u32, u32) = (1280, 720, 15);

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Audio,
    Video,
}

impl Kind {
    /// The kind as `MediaStreamTrack.kind` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
        }
    }
}

/// What happened when one device was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Granted,
    /// The user or the browser refused permission.
    Blocked,
    /// No such device, or it is in use elsewhere.
    Missing,
    /// The page is not a secure context (plain `http://` off this machine): browsers offer no
    /// camera or microphone at all.
    Insecure,
    /// Any other failure, with the browser's reason.
    Failed(String),
}

impl Access {
    fn from_error(err: &JsValue) -> Self {
        let name = err
            .dyn_ref::<web_sys::DomException>()
            .map(|e| e.name())
            .unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" | "SecurityError" => Self::Blocked,
            "NotFoundError" | "NotReadableError" | "OverconstrainedError" => Self::Missing,
            _ => Self::Failed(
                err.dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
                    .unwrap_or(name),
            ),
        }
    }

    /// A sentence a user can act on, in `texts`' words, for a device of `kind`; `None` when
    /// granted.
    pub fn explain(&self, texts: &Texts, kind: Kind) -> Option<String> {
        let device = match kind {
            Kind::Audio => texts.microphone,
            Kind::Video => texts.camera,
        };
        let template = match self {
            Self::Granted => return None,
            Self::Blocked => texts.device_blocked,
            Self::Missing => texts.device_missing,
            Self::Insecure => texts.device_insecure,
            Self::Failed(_) => texts.device_failed,
        };
        let reason = match self {
            Self::Failed(reason) => reason.as_str(),
            _ => "",
        };
        Some(fill(template, &[("device", device), ("reason", reason)]))
    }
}

/// The local stream and how each device went. The stream holds at most one track per kind.
pub struct LocalMedia {
    pub stream: MediaStream,
    pub audio: Access,
    pub video: Access,
}

/// A camera or microphone the browser lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub label: String,
}

/// Asks for the camera and microphone (the chosen devices when given). Whatever works is kept:
/// with the camera blocked the stream still carries the microphone, and the reverse.
pub async fn acquire(
    audio_device: Option<&str>,
    video_device: Option<&str>,
) -> Result<LocalMedia, String> {
    let stream = MediaStream::new().map_err(|_| "this browser cannot make a media stream")?;
    if !is_secure_context() {
        return Ok(LocalMedia {
            stream,
            audio: Access::Insecure,
            video: Access::Insecure,
        });
    }
    Ok(
        match get_user_media(audio_device, video_device, true, true, None).await {
            Ok(both) => {
                for track in both.get_tracks().iter() {
                    stream.add_track(track.unchecked_ref());
                }
                LocalMedia {
                    stream,
                    audio: Access::Granted,
                    video: Access::Granted,
                }
            }
            Err(_) => {
                // One of the two failed: ask for each alone to keep the one that works.
                let audio = add_single(&stream, Kind::Audio, audio_device).await;
                let video = add_single(&stream, Kind::Video, video_device).await;
                LocalMedia {
                    stream,
                    audio,
                    video,
                }
            }
        },
    )
}

/// Opens one new track of `kind` from `device` (a camera at `camera_size`), for switching
/// devices, or the camera's size, mid-call.
pub async fn open_track(
    kind: Kind,
    device: &str,
    camera_size: (u32, u32),
) -> Result<MediaStreamTrack, String> {
    let (audio, video) = match kind {
        Kind::Audio => (true, false),
        Kind::Video => (false, true),
    };
    let stream = get_user_media(Some(device), Some(device), audio, video, Some(camera_size))
        .await
        .map_err(|err| {
            Access::from_error(&err)
                .explain(t_now(), kind)
                .unwrap_or_default()
        })?;
    first_track(&stream, kind).ok_or_else(|| format!("no {} track", kind.as_str()))
}

/// The first track of `kind` in `stream`.
pub fn first_track(stream: &MediaStream, kind: Kind) -> Option<MediaStreamTrack> {
    let tracks = match kind {
        Kind::Audio => stream.get_audio_tracks(),
        Kind::Video => stream.get_video_tracks(),
    };
    tracks.get(0).dyn_into().ok()
}

/// Puts `track` in `stream` in place of the stream's track of the same kind, which is stopped.
pub fn swap_track(stream: &MediaStream, kind: Kind, track: &MediaStreamTrack) {
    if let Some(old) = first_track(stream, kind) {
        old.stop();
        stream.remove_track(&old);
    }
    stream.add_track(track);
}

/// Stops every track of `stream`: the camera light goes off.
pub fn stop(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        track.unchecked_into::<MediaStreamTrack>().stop();
    }
}

/// Whether this browser can share a screen (desktop browsers can; most phones cannot).
pub fn can_share_screen() -> bool {
    media_devices().is_some_and(|media| {
        js_sys::Reflect::has(&media, &"getDisplayMedia".into()).unwrap_or(false)
    })
}

/// Asks the browser to share a screen, window or tab (it shows its own picker). `Ok(None)`
/// when the user cancels the picker; an error in words otherwise.
pub async fn share_screen() -> Result<Option<MediaStream>, String> {
    let texts = t_now();
    let media = media_devices().ok_or(texts.screen_needs_https)?;
    let (width, height, frame_rate) = SCREEN_MAX;
    let video = video_bounds(
        "max",
        &[
            ("width", width),
            ("height", height),
            ("frameRate", frame_rate),
        ],
    );
    let constraints = DisplayMediaStreamConstraints::new();
    constraints.set_video(&video);
    constraints.set_audio(&JsValue::FALSE);
    let promise = media
        .get_display_media_with_constraints(&constraints)
        .map_err(|_| texts.screen_unsupported)?;
    match JsFuture::from(promise).await {
        Ok(stream) => {
            let stream: MediaStream = stream.unchecked_into();
            if let Some(track) = first_track(&stream, Kind::Video) {
                // Keep text sharp: under load, send fewer frames rather than fewer pixels.
                let _ = js_sys::Reflect::set(&track, &"contentHint".into(), &"detail".into());
            }
            Ok(Some(stream))
        }
        Err(err) => match Access::from_error(&err) {
            Access::Granted | Access::Blocked => Ok(None),
            Access::Missing => Err(texts.screen_nothing.to_owned()),
            Access::Insecure => Err(texts.screen_insecure.to_owned()),
            Access::Failed(reason) => Err(fill(texts.screen_failed, &[("reason", &reason)])),
        },
    }
}

/// The cameras, microphones and speakers there are.
#[derive(Debug, Default)]
pub struct DeviceLists {
    pub cameras: Vec<Device>,
    pub microphones: Vec<Device>,
    pub speakers: Vec<Device>,
}

/// Lists cameras, microphones and speakers. Labels are empty until permission is granted.
pub async fn devices() -> DeviceLists {
    let mut lists = DeviceLists::default();
    let Some(media) = media_devices() else {
        return lists;
    };
    let Ok(promise) = media.enumerate_devices() else {
        return lists;
    };
    let Ok(list) = JsFuture::from(promise).await else {
        return lists;
    };
    let DeviceLists {
        cameras,
        microphones,
        speakers,
    } = &mut lists;
    for info in js_sys::Array::from(&list).iter() {
        let info: web_sys::MediaDeviceInfo = info.unchecked_into();
        let number = |list: &Vec<Device>| list.len() + 1;
        match info.kind() {
            MediaDeviceKind::Videoinput => cameras.push(Device {
                label: label_or(&info, t_now().camera, number(cameras)),
                id: info.device_id(),
            }),
            MediaDeviceKind::Audioinput => microphones.push(Device {
                label: label_or(&info, t_now().microphone, number(microphones)),
                id: info.device_id(),
            }),
            MediaDeviceKind::Audiooutput => speakers.push(Device {
                label: label_or(&info, t_now().speaker, number(speakers)),
                id: info.device_id(),
            }),
            _ => {}
        }
    }
    lists
}

/// Whether this browser can play sound on a chosen speaker (`setSinkId`).
pub fn can_choose_speaker() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    js_sys::Reflect::get(&window, &"HTMLMediaElement".into())
        .and_then(|class| js_sys::Reflect::get(&class, &"prototype".into()))
        .and_then(|prototype| js_sys::Reflect::has(&prototype, &"setSinkId".into()))
        .unwrap_or(false)
}

/// Plays `element`'s sound on the speaker `sink` (a device id), where the browser can.
pub fn play_on(element: &web_sys::HtmlMediaElement, sink: &str) {
    let set_sink = js_sys::Reflect::get(element, &"setSinkId".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(set_sink) = set_sink {
        // A promise; a speaker that went away keeps the sound where it was.
        let _ = set_sink.call1(element, &sink.into());
    }
}

fn label_or(info: &web_sys::MediaDeviceInfo, kind: &str, number: usize) -> String {
    let label = info.label();
    if label.is_empty() {
        format!("{kind} {number}")
    } else {
        label
    }
}

async fn add_single(stream: &MediaStream, kind: Kind, device: Option<&str>) -> Access {
    let (audio, video) = match kind {
        Kind::Audio => (true, false),
        Kind::Video => (false, true),
    };
    match get_user_media(device, device, audio, video, None).await {
        Ok(single) => {
            if let Some(track) = first_track(&single, kind) {
                stream.add_track(&track);
            }
            Access::Granted
        }
        Err(err) => Access::from_error(&err),
    }
}

fn is_secure_context() -> bool {
    web_sys::window().is_some_and(|window| window.is_secure_context())
}

/// What to do when the page is not a secure context, for the page at `host` and `path`.
pub fn insecure_advice(texts: &Texts, host: &str, path: &str) -> String {
    fill(texts.insecure_advice, &[("host", host), ("path", path)])
}

/// [`insecure_advice`] for this page.
pub fn insecure_advice_here() -> String {
    let location = web_sys::window().map(|w| w.location());
    let part = |get: fn(&web_sys::Location) -> Result<String, JsValue>| {
        location
            .as_ref()
            .and_then(|l| get(l).ok())
            .unwrap_or_default()
    };
    insecure_advice(
        t_now(),
        &part(web_sys::Location::host),
        &part(web_sys::Location::pathname),
    )
}

fn media_devices() -> Option<web_sys::MediaDevices> {
    web_sys::window()?.navigator().media_devices().ok()
}

/// `getUserMedia` for the kinds asked, each pinned to a device when one is given, the camera
/// at `camera_size` when one is given.
async fn get_user_media(
    audio_device: Option<&str>,
    video_device: Option<&str>,
    audio: bool,
    video: bool,
    camera_size: Option<(u32, u32)>,
) -> Result<MediaStream, JsValue> {
    let media = media_devices().ok_or_else(|| {
        JsValue::from(js_sys::Error::new(
            "this page cannot use a camera (it needs https or localhost)",
        ))
    })?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&kind_constraint(audio, audio_device, None));
    constraints.set_video(&kind_constraint(video, video_device, camera_size));
    let promise = media.get_user_media_with_constraints(&constraints)?;
    Ok(JsFuture::from(promise).await?.unchecked_into())
}

/// `{width: {<bound>: w}, height: {<bound>: h}, ...}`: limits on a video track, `bound`
/// being `max`, `ideal` and so on.
fn video_bounds(bound: &str, values: &[(&str, u32)]) -> js_sys::Object {
    let video = js_sys::Object::new();
    for (key, value) in values {
        let limit = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&limit, &bound.into(), &(*value).into());
        let _ = js_sys::Reflect::set(&video, &(*key).into(), &limit);
    }
    video
}

/// The camera size a mesh call asks for: each link encodes the camera once more, so the
/// browser's usual default is enough.
pub const MESH_CAMERA: (u32, u32) = (640, 480);
/// The camera size an SFU call asks for: the camera is encoded once, in three simulcast
/// layers, and Chromium sends the top one only from a 1280×720 capture.
pub const SFU_CAMERA: (u32, u32) = (1280, 720);

/// `false`, `true`, or `{deviceId: {exact: id}}` for a device, with `width` and `height`
/// ideals for a `size` (a camera that cannot give it gives the nearest size it can).
fn kind_constraint(wanted: bool, device: Option<&str>, size: Option<(u32, u32)>) -> JsValue {
    if !wanted {
        return JsValue::FALSE;
    }
    if device.is_none() && size.is_none() {
        return JsValue::TRUE;
    }
    let constraint = match size {
        Some((width, height)) => video_bounds("ideal", &[("width", width), ("height", height)]),
        None => js_sys::Object::new(),
    };
    if let Some(id) = device {
        let exact = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&exact, &"exact".into(), &id.into());
        let _ = js_sys::Reflect::set(&constraint, &"deviceId".into(), &exact);
    }
    constraint.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insecure_page_is_pointed_at_https() {
        let en = crate::i18n::Lang::En.texts();
        assert_eq!(
            insecure_advice(en, "192.168.1.20:8080", "/room/standup"),
            "Camera and microphone need HTTPS: open https://192.168.1.20:8080/room/standup \
             or start Noom with --tls-self-signed."
        );
        assert_eq!(
            Access::Insecure.explain(en, Kind::Video).as_deref(),
            Some("Camera needs HTTPS.")
        );
    }
}
