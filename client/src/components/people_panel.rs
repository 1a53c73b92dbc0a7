use leptos::prelude::*;

use crate::session::Participant;

/// Everyone in the call, raised hands first (in the order they are listed), each with their
/// hand and microphone state.
#[component]
pub fn PeoplePanel(
    /// Everyone in the call.
    participants: ReadSignal<Vec<Participant>>,
    /// Whether the panel is shown.
    open: Signal<bool>,
) -> impl IntoView {
    let people = move || {
        let mut list = participants.get();
        // A stable sort keeps join order within each group.
        list.sort_by_key(|p| !p.status().with(|s| s.hand_raised));
        list
    };
    view! {
        <aside id="panel-people" class="side" hidden=move || !open.get() aria-label="People" data-testid="people-panel">
            <h2>{move || format!("People ({})", participants.with(Vec::len))}</h2>
            <ul class="people">
                <For each=people key=|p: &Participant| p.id.clone() let:p>
                    {
                        let (status, nickname) = (p.status(), p.nickname());
                        view! {
                            <li
                                class="person"
                                data-testid="person"
                                data-peer=p.id.to_string()
                                data-hand=move || status.with(|s| s.hand_raised).to_string()
                            >
                                <span class="person-name">
                                    {move || nickname.get()}
                                    {p.is_self.then_some(" (you)")}
                                </span>
                                <Show when=move || status.with(|s| s.hand_raised)>
                                    <span class="hand">"Hand raised"</span>
                                </Show>
                                <Show when=move || status.with(|s| s.muted)>
                                    <span class="person-muted">"Muted"</span>
                                </Show>
                            </li>
                        }
                    }
                </For>
            </ul>
        </aside>
    }
}
