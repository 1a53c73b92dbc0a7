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
    let label = Signal::derive(move || match kind {
        Kind::Video => t().camera,
        Kind::Audio => t().microphone,
    });
    let pick = Callback::new(move |device| switch.run((kind, device)));
    view! { <DeviceSelect id label choices selected pick /> }
}

/// The speaker everyone else is heard on, where the browser can choose (`setSinkId`); nothing
/// otherwise.
#[component]
pub fn SpeakerPicker(
    /// The speakers there are and the one chosen (read only).
    devices: LocalDevices,
    /// Plays the others on the picked speaker.
    choose: Callback<String>,
) -> impl IntoView {
    let (choices, selected) = devices.speakers();
    let label = Signal::derive(move || t().speaker);
    view! {
        <Show when=move || choices.with(|c| !c.is_empty())>
            <DeviceSelect id="speaker-select" label choices selected pick=choose />
        </Show>
    }
}

/// One labelled `<select>` of devices, the one in use selected; disabled while there are none.
#[component]
fn DeviceSelect(
    /// The element's id and test id.
    id: &'static str,
    label: Signal<&'static str>,
    choices: ReadSignal<Vec<Device>>,
    selected: ReadSignal<Option<String>>,
    /// Called with the picked device's id.
    pick: Callback<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select
                id=id
                data-testid=id
                disabled=move || choices.with(Vec::is_empty)
                on:change=move |ev| pick.run(event_target_value(&ev))
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
