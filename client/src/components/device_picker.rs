use leptos::prelude::*;

use crate::i18n::t;
use crate::rtc::media::{Device, Kind};
use crate::session::LocalDevices;

/// A labelled drop-down of cameras or microphones; picking one switches to it at once (in a
/// call, without renegotiating).
#[component]
pub fn DevicePicker(
    /// The devices there are and the ones in use (read only).
    devices: LocalDevices,
    kind: Kind,
    /// Switches to the picked device.
    switch: Callback<(Kind, String)>,
) -> impl IntoView {
    let (choices, selected) = devices.choice(kind);
    let id = match kind {
        Kind::Video => "camera-select",
        Kind::Audio => "microphone-select",
    };
    let label = move || match kind {
        Kind::Video => t().camera,
        Kind::Audio => t().microphone,
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select
                id=id
                data-testid=id
                disabled=move || choices.with(Vec::is_empty)
                on:change=move |ev| switch.run((kind, event_target_value(&ev)))
            >
                <For
                    each=move || choices.get()
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
