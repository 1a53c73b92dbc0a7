use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use crate::components::device_picker::DevicePicker;
use crate::components::media_toggles::MediaToggles;
use crate::components::side_panel::{PanelButton, SidePanel};
use crate::rtc::media::{self, Kind};
use crate::session::{CallActions, LocalDevices, Participant};
use crate::shortcuts::{self, Action};
use noom_shared::PeerInfo;

/// The call's control bar: microphone, camera, present a screen, raise hand, speaker or grid
/// layout, device settings (switch camera or microphone mid-call), the side panels (chat, people,
/// stats), copy invite link, shortcuts, leave. Every control is a labelled button.
#[component]
pub fn Controls(
    /// Our devices (read only).
    devices: LocalDevices,
    /// Everyone in the call.
    participants: ReadSignal<Vec<Participant>>,
    /// Whether our hand is up.
    hand_raised: ReadSignal<bool>,
    actions: CallActions,
    /// The side column's open panel.
    panel: RwSignal<Option<SidePanel>>,
    /// Whether the keyboard shortcuts dialog is open.
    help_open: RwSignal<bool>,
    /// Speaker layout (one large tile) rather than the grid.
    speaker_layout: RwSignal<bool>,
    /// Who waits in the lobby (counted on the People button with the raised hands).
    waiting: ReadSignal<Vec<PeerInfo>>,
    /// The room's invite link (with the password, when we know it).
    invite_link: Callback<(), String>,
) -> impl IntoView {
    let d = devices;
    let presenting = move || d.screen().with(Option::is_some);
    let someone_presents =
        move || participants.with(|list| list.iter().any(|p| p.screen().with(Option::is_some)));
    let settings_open = RwSignal::new(false);
    let navigate = use_navigate();
    let copied = RwSignal::new(None::<String>);
    let copy_invite = move |_| {
        let Some(window) = web_sys::window() else {
            return;
        };
        let link = invite_link.run(());
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
    let needs_attention = Signal::derive(move || {
        participants.with(|list| {
            list.iter()
                .filter(|p| p.status().with(|s| s.hand_raised))
                .count()
        }) + waiting.with(Vec::len)
    });
    view! {
        <nav class="controls" aria-label="Call controls">
            <MediaToggles devices actions testids=("toggle-mic", "toggle-camera") />
            <button
                type="button"
                class:active=presenting
                aria-pressed=move || presenting().to_string()
                title=format!("Present your screen ({})", shortcuts::key_for(Action::ToggleScreen))
                disabled=!media::can_share_screen()
                data-testid="toggle-screen"
                on:click=move |_| actions.toggle_screen.run(())
            >
                {move || if presenting() { "Stop presenting" } else { "Present" }}
            </button>
            <button
                type="button"
                class="hand-button"
                class:raised=move || hand_raised.get()
                aria-pressed=move || hand_raised.get().to_string()
                data-testid="toggle-hand"
                on:click=move |_| actions.toggle_hand.run(())
            >
                {move || if hand_raised.get() { "Lower hand" } else { "Raise hand" }}
            </button>
            <button
                type="button"
                aria-pressed=move || speaker_layout.get().to_string()
                disabled=someone_presents
                title=move || someone_presents().then_some("A presentation is shown large")
                data-testid="toggle-layout"
                on:click=move |_| speaker_layout.update(|s| *s = !*s)
            >
                {move || if speaker_layout.get() { "Grid view" } else { "Speaker view" }}
            </button>
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
                    <DevicePicker devices kind=Kind::Video switch=actions.switch_device />
                    <DevicePicker devices kind=Kind::Audio switch=actions.switch_device />
                    <p class="error" role="alert">{move || d.problem().get()}</p>
                </div>
            </div>
            <PanelButton open=panel which=SidePanel::Chat />
            <PanelButton open=panel which=SidePanel::People count=needs_attention />
            <PanelButton open=panel which=SidePanel::Stats />
            <button type="button" data-testid="copy-invite" on:click=copy_invite>
                "Copy invite link"
            </button>
            <button
                type="button"
                aria-label="Keyboard shortcuts"
                title=format!("Keyboard shortcuts ({})", shortcuts::key_for(Action::ShowHelp))
                data-testid="show-shortcuts"
                on:click=move |_| help_open.set(true)
            >
                "?"
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
