use leptos::prelude::*;
use noom_shared::PeerId;

use crate::i18n::{fill, t};
use crate::session::Participant;
use crate::session::host::HostAction;

/// Everyone in the call, raised hands first (in the order they are listed), each with their
/// hand and microphone state and who is host; the host gets, beside each other person, Mute,
/// Stop video, Make host and Remove. Its children (who can join) come first.
#[component]
pub fn PeoplePanel(
    /// Everyone in the call.
    participants: ReadSignal<Vec<Participant>>,
    /// Whether the panel is shown.
    open: Signal<bool>,
    /// The room's host.
    host: ReadSignal<Option<PeerId>>,
    /// Whether we are the host.
    am_host: Signal<bool>,
    /// Does a host's action to a person.
    act: Callback<(PeerId, HostAction)>,
    /// Who can join, and the host's form to change it.
    children: Children,
) -> impl IntoView {
    let people = move || {
        let mut list = participants.get();
        // A stable sort keeps join order within each group.
        list.sort_by_key(|p| !p.status().with(|s| s.hand_raised));
        list
    };
    view! {
        <aside id="panel-people" class="side" hidden=move || !open.get() aria-label=move || t().people data-testid="people-panel">
            <h2>{move || fill(t().people_heading, &[("n", &participants.with(Vec::len).to_string())])}</h2>
            {children()}
            <ul class="people">
                <For each=people key=|p: &Participant| p.id.clone() let:p>
                    {
                        let (status, nickname) = (p.status(), p.nickname());
                        let id = p.id.clone();
                        let is_host = {
                            let id = id.clone();
                            move || host.with(|host| host.as_ref() == Some(&id))
                        };
                        let menu = (!p.is_self).then(|| view! { <HostMenu peer=id.clone() shown=am_host act /> });
                        view! {
                            <li
                                class="person"
                                data-testid="person"
                                data-peer=p.id.to_string()
                                data-hand=move || status.with(|s| s.hand_raised).to_string()
                            >
                                <span class="person-name">
                                    {move || nickname.get()}
                                    {p.is_self.then_some(move || t().you)}
                                </span>
                                <Show when=move || status.with(|s| s.hand_raised)>
                                    <span class="hand">{move || t().hand_raised}</span>
                                </Show>
                                <Show when=is_host.clone()>
                                    <span class="person-host" data-testid="person-host">{move || t().host}</span>
                                </Show>
                                <Show when=move || status.with(|s| s.muted)>
                                    <span class="person-muted">{move || t().muted}</span>
                                </Show>
                                {menu}
                            </li>
                        }
                    }
                </For>
            </ul>
        </aside>
    }
}

/// The host's buttons for one other person.
#[component]
fn HostMenu(
    peer: PeerId,
    shown: Signal<bool>,
    act: Callback<(PeerId, HostAction)>,
) -> impl IntoView {
    let buttons = [
        (
            HostAction::MuteAudio,
            (|| t().mute) as fn() -> &'static str,
            "host-mute",
        ),
        (HostAction::MuteVideo, || t().stop_video, "host-stop-video"),
        (HostAction::MakeHost, || t().make_host, "host-make-host"),
        (HostAction::Remove, || t().remove, "host-remove"),
    ];
    view! {
        <Show when=move || shown.get()>
            <span class="host-menu" role="group" aria-label=move || t().host_actions>
                {buttons
                    .into_iter()
                    .map(|(action, label, test_id)| {
                        let peer = peer.clone();
                        view! {
                            <button
                                type="button"
                                class="link-button"
                                data-testid=test_id
                                on:click=move |_| act.run((peer.clone(), action))
                            >
                                {label}
                            </button>
                        }
                    })
                    .collect_view()}
            </span>
        </Show>
    }
}
