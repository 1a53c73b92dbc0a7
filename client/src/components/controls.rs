use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use crate::components::device_picker::{DevicePicker, SpeakerPicker};
use crate::components::icons::{Icon, IconView};
use crate::components::language_picker::LanguagePicker;
use crate::components::media_toggles::MediaToggles;
use crate::components::side_panel::{PanelButton, SidePanel};
use crate::i18n::{fill, t};
use crate::rtc::media::{self, Kind};
use crate::session::{CallActions, LocalDevices, Participant};
use crate::shortcuts::{self, Action};
use noom_shared::PeerInfo;

/// The call's control bar, compact enough for a phone: icon buttons for microphone, camera,
/// present a screen and raise hand; chat and people; a More menu (speaker or grid layout,
/// devices, stats, copy invite link, shortcuts); and leave. Each icon button is named by its
/// tooltip, and an on/off one says its state with `aria-pressed` too.
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
                t().invite_copied.to_owned()
            }
            None => fill(t().copy_this_link, &[("link", &link)]),
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
    let more_open = RwSignal::new(false);
    let more_button = NodeRef::<leptos::html::Button>::new();
    // A menu item that opens a dialog hands the focus to the More button first, so that the
    // dialog gives it back there (the item itself goes with the menu).
    let show_shortcuts = move |_| {
        more_open.set(false);
        if let Some(button) = more_button.get() {
            let _ = button.focus();
        }
        help_open.set(true);
    };
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            more_open.set(false);
        }
    });
    on_cleanup(move || keys.remove());
    let screen_label = move || {
        format!(
            "{} ({})",
            t().present,
            shortcuts::key_for(Action::ToggleScreen)
        )
    };
    let hand_label = move || {
        format!(
            "{} ({})",
            t().raise_hand,
            shortcuts::key_for(Action::ToggleHand)
        )
    };
    view! {
        <nav class="controls" aria-label=move || t().call_controls>
            <div class="control-group">
                <MediaToggles devices actions testids=("toggle-mic", "toggle-camera") />
                <button
                    type="button"
                    class="icon-button"
                    class:active=presenting
                    aria-pressed=move || presenting().to_string()
                    aria-label=screen_label
                    title=screen_label
                    disabled=!media::can_share_screen()
                    data-testid="toggle-screen"
                    on:click=move |_| actions.toggle_screen.run(())
                >
                    <IconView icon=Icon::Screen />
                </button>
                <button
                    type="button"
                    class="icon-button hand-button"
                    class:raised=move || hand_raised.get()
                    aria-pressed=move || hand_raised.get().to_string()
                    aria-label=hand_label
                    title=hand_label
                    data-testid="toggle-hand"
                    on:click=move |_| actions.toggle_hand.run(())
                >
                    <IconView icon=Icon::Hand />
                </button>
            </div>
            <div class="control-group">
                <PanelButton open=panel which=SidePanel::Chat icon=Icon::Chat />
                <PanelButton open=panel which=SidePanel::People icon=Icon::People count=needs_attention />
                <div class="menu">
                    <button
                        type="button"
                        class="icon-button"
                        node_ref=more_button
                        aria-expanded=move || more_open.get().to_string()
                        aria-controls="more-menu"
                        aria-label=move || t().more_options
                        title=move || t().more_options
                        data-testid="toggle-more"
                        on:click=move |_| more_open.update(|o| *o = !*o)
                    >
                        <IconView icon=Icon::More />
                    </button>
                    <div id="more-menu" class="popover more-menu" hidden=move || !more_open.get()>
                        <button
                            type="button"
                            aria-pressed=move || speaker_layout.get().to_string()
                            disabled=someone_presents
                            title=move || someone_presents().then(|| t().presentation_large)
                            data-testid="toggle-layout"
                            on:click=move |_| {
                                speaker_layout.update(|s| *s = !*s);
                                more_open.set(false);
                            }
                        >
                            {move || if speaker_layout.get() { t().grid_view } else { t().speaker_view }}
                        </button>
                        <button
                            type="button"
                            aria-expanded=move || settings_open.get().to_string()
                            aria-controls="device-settings"
                            data-testid="toggle-settings"
                            on:click=move |_| settings_open.update(|o| *o = !*o)
                        >
                            {move || t().devices}
                        </button>
                        <div id="device-settings" hidden=move || !settings_open.get()>
                            <DevicePicker devices kind=Kind::Video switch=actions.switch_device />
                            <DevicePicker devices kind=Kind::Audio switch=actions.switch_device />
                            <SpeakerPicker devices choose=actions.choose_speaker />
                            <p class="error" role="alert">{move || d.problem().get()}</p>
                        </div>
                        <PanelButton open=panel which=SidePanel::Stats />
                        <LanguagePicker />
                        <button type="button" data-testid="copy-invite" on:click=copy_invite>
                            {move || t().copy_invite}
                        </button>
                        <button
                            type="button"
                            title=move || format!("{} ({})", t().keyboard_shortcuts, shortcuts::key_for(Action::ShowHelp))
                            data-testid="show-shortcuts"
                            on:click=show_shortcuts
                        >
                            {move || t().keyboard_shortcuts}
                        </button>
                    </div>
                </div>
            </div>
            <span class="toast" role="status">{move || copied.get()}</span>
            <button
                type="button"
                class="icon-button danger"
                aria-label=move || t().leave
                title=move || t().leave
                data-testid="leave"
                on:click=move |_| navigate("/", Default::default())
            >
                <IconView icon=Icon::Leave />
            </button>
        </nav>
    }
}
