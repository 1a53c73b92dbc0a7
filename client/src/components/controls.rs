use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use crate::components::device_picker::DevicePicker;
use crate::components::toggle_button::ToggleButton;
use crate::rtc::media::{Access, Kind};
use crate::session::Session;

/// The call's control bar: microphone, camera, device settings (switch camera or microphone
/// mid-call), chat, copy invite link, leave. Every control is a labelled button.
#[component]
pub fn Controls(
    session: Session,
    /// Whether the chat panel is open.
    chat_open: RwSignal<bool>,
) -> impl IntoView {
    let d = session.devices;
    let settings_open = RwSignal::new(false);
    let navigate = use_navigate();
    let copied = RwSignal::new(None::<String>);
    let copy_invite = move |_| {
        let Some(window) = web_sys::window() else {
            return;
        };
        let link = window.location().href().unwrap_or_default();
        // `navigator.clipboard` exists only on https and localhost pages.
        let clipboard = js_sys::Reflect::get(&window.navigator(), &"clipboard".into())
            .ok()
            .filter(|c| c.is_object());
        let message = match clipboard {
            Some(clipboard) => {
                let clipboard: web_sys::Clipboard = clipboard.unchecked_into();
                let _ = clipboard.write_text(&link);
                "Invite link copied".to_owned()
            }
            None => format!("Copy this link to invite: {link}"),
        };
        copied.set(Some(message));
        set_timeout(
            move || {
                copied.try_set(None);
            },
            Duration::from_secs(5),
        );
    };
    view! {
        <nav class="controls" aria-label="Call controls">
            <ToggleButton
                on=d.mic_on
                label_on="Mute microphone"
                label_off="Unmute microphone"
                text="Mic"
                testid="toggle-mic"
                enabled=Signal::derive(move || d.audio.get() == Some(Access::Granted))
                toggle=move || session.toggle_mic()
            />
            <ToggleButton
                on=d.camera_on
                label_on="Turn camera off"
                label_off="Turn camera on"
                text="Camera"
                testid="toggle-camera"
                enabled=Signal::derive(move || d.video.get() == Some(Access::Granted))
                toggle=move || session.toggle_camera()
            />
            <div class="menu">
                <button
                    type="button"
                    aria-expanded=move || settings_open.get().to_string()
                    aria-controls="device-settings"
                    data-testid="toggle-settings"
                    on:click=move |_| settings_open.update(|o| *o = !*o)
                >
                    "Devices"
                </button>
                <div id="device-settings" class="popover" hidden=move || !settings_open.get()>
                    <DevicePicker session kind=Kind::Video />
                    <DevicePicker session kind=Kind::Audio />
                    <p class="error" role="alert">{move || d.problem.get()}</p>
                </div>
            </div>
            <button
                type="button"
                aria-pressed=move || chat_open.get().to_string()
                data-testid="toggle-chat"
                on:click=move |_| chat_open.update(|o| *o = !*o)
            >
                "Chat"
            </button>
            <button type="button" data-testid="copy-invite" on:click=copy_invite>
                "Copy invite link"
            </button>
            <span class="toast" role="status">{move || copied.get()}</span>
            <button
                type="button"
                class="danger"
                data-testid="leave"
                on:click=move |_| navigate("/", Default::default())
            >
                "Leave"
            </button>
        </nav>
    }
}
