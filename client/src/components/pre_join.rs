use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::device_picker::DevicePicker;
use crate::components::media_toggles::MediaToggles;
use crate::components::mic_level::MicLevel;
use crate::components::stream_video::StreamVideo;
use crate::i18n::{fill, t};
use crate::prefs;
use crate::rtc::media::{self, Access, Kind};
use crate::session::{CallActions, LocalDevices, Phase};
use noom_shared::{ErrorCode, InvalidValue, RoomName};

/// Before joining: our camera preview and microphone meter, device choice, mic and camera
/// toggles, our name, and Join. A blocked or missing device is explained in words, and joining
/// still works with what is left (microphone only, or watch only).
#[component]
pub fn PreJoin(
    room: RoomName,
    phase: ReadSignal<Phase>,
    /// People in the room now, and the most it holds.
    occupancy: ReadSignal<u32>,
    max_room_size: ReadSignal<u32>,
    /// Our devices (read only).
    devices: LocalDevices,
    /// The server's refusal of our last join, in its words.
    notice: ReadSignal<Option<String>>,
    actions: CallActions,
    /// The server asked for the room's password: show a field for it.
    needs_password: ReadSignal<bool>,
    /// The password we have (from the invite link), to fill the field with.
    known_password: Option<String>,
    /// Joins under this nickname (with this password, when the field is shown), if the
    /// protocol accepts them.
    join: Callback<(String, Option<String>), Result<(), InvalidValue>>,
) -> impl IntoView {
    let d = devices;
    let nickname = RwSignal::new(prefs::nickname());
    let password = RwSignal::new(known_password.unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    let joining = Memo::new(move |_| phase.get() == Phase::Joining);
    let full = Memo::new(move |_| {
        let max = max_room_size.get();
        max > 0 && occupancy.get() >= max
    });
    let problems = move || {
        let mut lines = Vec::new();
        if d.audio().get() == Some(Access::Insecure) {
            lines.push(media::insecure_advice_here());
        } else {
            if let Some(access) = d.video().get() {
                lines.extend(access.explain(t(), Kind::Video));
            }
            if let Some(access) = d.audio().get() {
                lines.extend(access.explain(t(), Kind::Audio));
            }
        }
        lines.extend(d.problem().get());
        let camera = d.video().get() == Some(Access::Granted);
        let mic = d.audio().get() == Some(Access::Granted);
        match (d.audio().get().is_some(), mic, camera) {
            (true, true, false) => lines.push(t().only_microphone.into()),
            (true, false, true) => lines.push(t().only_camera.into()),
            (true, false, false) => lines.push(t().watch_and_listen.into()),
            _ => {}
        }
        lines
    };
    let join = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = nickname.get_untracked();
        let typed = needs_password
            .get_untracked()
            .then(|| password.get_untracked());
        match join.run((name.clone(), typed)) {
            Ok(()) => prefs::remember_nickname(name.trim()),
            Err(invalid) if invalid.code == ErrorCode::InvalidNickname => {
                error.set(Some(fill(
                    t().nickname_invalid,
                    &[("reason", t().rule(invalid.reason))],
                )));
            }
            Err(invalid) => {
                error.set(Some(fill(
                    t().password_invalid,
                    &[("reason", t().rule(invalid.reason))],
                )));
            }
        }
    };

    view! {
        <main class="page prejoin">
            <section class="preview" aria-label=move || t().camera_preview>
                <StreamVideo stream=d.stream() own=true />
                <Show when=move || !d.camera_on().get()>
                    <div class="preview-off">{move || t().camera_is_off}</div>
                </Show>
                <div class="preview-controls">
                    <MediaToggles devices actions testids=("prejoin-mic", "prejoin-camera") />
                </div>
            </section>
            <section class="card prejoin-side">
                <h1>{move || fill(t().join_title, &[("room", room.as_str())])}</h1>
                <p class="hint" data-testid="room-occupancy">
                    {move || match occupancy.get() {
                        0 => t().no_one_here.to_owned(),
                        1 => t().one_in_room.to_owned(),
                        n => fill(t().n_in_room, &[("n", &n.to_string())]),
                    }}
                </p>
                <Show when=move || full.get()>
                    <p class="warning" role="alert">{move || t().room_full_now}</p>
                </Show>
                <Show when=move || d.audio().with(Option::is_none)>
                    <p class="hint" role="status">
                        {move || t().waiting_for_devices}
                    </p>
                </Show>
                <ul class="problems" data-testid="media-problems">
                    {move || problems().into_iter().map(|line| view! { <li role="alert">{line}</li> }).collect_view()}
                </ul>
                <div class="field">
                    <span class="label">{move || t().microphone_level}</span>
                    <MicLevel stream=d.stream() active=d.mic_on() />
                </div>
                <DevicePicker devices kind=Kind::Video switch=actions.switch_device />
                <DevicePicker devices kind=Kind::Audio switch=actions.switch_device />
                <form class="stack" on:submit=join novalidate>
                    <label for="prejoin-nickname">{move || t().your_name}</label>
                    <input
                        id="prejoin-nickname"
                        data-testid="prejoin-nickname"
                        autocomplete="nickname"
                        maxlength="32"
                        prop:value=move || nickname.get()
                        on:input=move |ev| {
                            nickname.set(event_target_value(&ev));
                            error.set(None);
                        }
                    />
                    <Show when=move || needs_password.get()>
                        <label for="prejoin-password">{move || t().meeting_password}</label>
                        <input
                            id="prejoin-password"
                            data-testid="prejoin-password"
                            type="password"
                            autocomplete="off"
                            maxlength="128"
                            prop:value=move || password.get()
                            on:input=move |ev| {
                                password.set(event_target_value(&ev));
                                error.set(None);
                            }
                        />
                    </Show>
                    <p class="error" role="alert" data-testid="prejoin-error">{move || error.get().or_else(|| notice.get())}</p>
                    <button class="primary" type="submit" data-testid="join-button" disabled=move || joining.get() || d.audio().with(Option::is_none)>
                        {move || if joining.get() { t().joining } else { t().join_now }}
                    </button>
                </form>
                <A href="/">{move || t().back_to_lobby}</A>
            </section>
        </main>
    }
}
