use leptos::prelude::*;

use crate::rtc::media::{Device, Kind};
use crate::session::Session;

/// A labelled drop-down of cameras or microphones; picking one switches to it at once (in a
/// call, without renegotiating).
#[component]
pub fn DevicePicker(session: Session, kind: Kind) -> impl IntoView {
    let d = session.devices;
    let (devices, selected, label, id) = match kind {
        Kind::Video => (d.cameras, d.camera_id, "Camera", "camera-select"),
        Kind::Audio => (
            d.microphones,
            d.microphone_id,
            "Microphone",
            "microphone-select",
        ),
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select
                id=id
                data-testid=id
                disabled=move || devices.with(Vec::is_empty)
                on:change=move |ev| session.switch_device(kind, event_target_value(&ev))
            >
                <For
                    each=move || devices.get()
                    key=|device: &Device| device.id.clone()
                    children=move |device: Device| {
                        let value = device.id.clone();
                        view! {
                            <option
                                value=device.id
                                selected=move || selected.get().as_deref() == Some(value.as_str())
                            >
                                {device.label}
                            </option>
                        }
                    }
                />
            </select>
        </div>
    }
}
