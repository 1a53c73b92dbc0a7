use leptos::prelude::*;
use noom_shared::{InvalidValue, RoomAccess};

use crate::i18n::{Texts, fill, t};

/// What shuts the room, in `texts`' words.
fn access_text(texts: &'static Texts, access: RoomAccess) -> &'static str {
    match (access.has_password, access.lobby) {
        (false, false) => texts.anyone_can_join,
        (true, false) => texts.needs_password,
        (false, true) => texts.lobby_only,
        (true, true) => texts.password_then_lobby,
    }
}

/// How the room is shut, for everyone; for the host, a form to set a password (blank for
/// none) and turn the lobby on or off.
#[component]
pub fn RoomSettings(
    /// The room's access, as the server last said.
    access: ReadSignal<RoomAccess>,
    /// Whether we are the host.
    am_host: Signal<bool>,
    /// Sets the password (blank: none) and the lobby.
    save: Callback<(String, bool), Result<(), InvalidValue>>,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let lobby = RwSignal::new(access.get_untracked().lobby);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match save.run((password.get_untracked(), lobby.get_untracked())) {
            Ok(()) => error.set(None),
            Err(invalid) => error.set(Some(fill(
                t().password_invalid,
                &[("reason", t().rule(invalid.reason))],
            ))),
        }
    };
    view! {
        <section class="room-settings" aria-label=move || t().who_can_join>
            <p class="hint" data-testid="room-access-state">{move || access_text(t(), access.get())}</p>
            <Show when=move || am_host.get()>
                <form class="stack" on:submit=submit novalidate>
                    <label for="room-password">{move || t().password_field}</label>
                    <input
                        id="room-password"
                        data-testid="room-password"
                        type="password"
                        autocomplete="new-password"
                        maxlength="128"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                    <label class="check">
                        <input
                            type="checkbox"
                            data-testid="room-lobby"
                            prop:checked=move || lobby.get()
                            on:change=move |ev| lobby.set(event_target_checked(&ev))
                        />
                        {move || t().lobby_field}
                    </label>
                    <p class="error" role="alert">{move || error.get()}</p>
                    <button type="submit" data-testid="room-access-save">{move || t().save}</button>
                </form>
            </Show>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_access_is_said_in_words() {
        let texts: std::collections::HashSet<_> =
            [(false, false), (true, false), (false, true), (true, true)]
                .into_iter()
                .map(|(has_password, lobby)| {
                    access_text(
                        crate::i18n::Lang::En.texts(),
                        RoomAccess {
                            has_password,
                            lobby,
                        },
                    )
                })
                .collect();
        assert_eq!(texts.len(), 4);
    }
}
