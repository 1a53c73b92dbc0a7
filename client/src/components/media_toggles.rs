use leptos::prelude::*;

use crate::components::icons::Icon;
use crate::components::toggle_button::ToggleButton;
use crate::i18n::t;
use crate::rtc::media::Access;
use crate::session::{CallActions, LocalDevices};
use crate::shortcuts::{self, Action};

/// The microphone and camera on/off buttons, as pre-join and the call's control bar show them;
/// a device the browser did not allow is disabled.
#[component]
pub fn MediaToggles(
    /// Our devices (read only).
    devices: LocalDevices,
    actions: CallActions,
    /// Test ids of the microphone and camera buttons.
    testids: (&'static str, &'static str),
) -> impl IntoView {
    let d = devices;
    let allowed = move |access: ReadSignal<Option<Access>>| {
        Signal::derive(move || access.get() == Some(Access::Granted))
    };
    view! {
        <ToggleButton
            on=d.mic_on()
            icon=Icon::Mic
            label=Signal::derive(move || format!("{} ({})", t().microphone, shortcuts::key_for(Action::ToggleMic)))
            testid=testids.0
            enabled=allowed(d.audio())
            toggle=actions.toggle_mic
        />
        <ToggleButton
            on=d.camera_on()
            icon=Icon::Camera
            label=Signal::derive(move || format!("{} ({})", t().camera, shortcuts::key_for(Action::ToggleCamera)))
            testid=testids.1
            enabled=allowed(d.video())
            toggle=actions.toggle_camera
        />
    }
}
