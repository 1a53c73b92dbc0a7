use leptos::prelude::*;
use noom_shared::{PeerId, PeerInfo};

use crate::i18n::{fill, t};

/// For the host: each person waiting in the lobby, as a toast with Admit and Deny, oldest
/// first. Announced politely to screen readers as they come.
#[component]
pub fn KnockToasts(
    /// Who waits, in the order they knocked (empty unless we are the host).
    knocks: ReadSignal<Vec<PeerInfo>>,
    /// Lets the person in (`true`) or turns them away.
    answer: Callback<(PeerId, bool)>,
) -> impl IntoView {
    view! {
        <section class="knocks" aria-label=move || t().waiting_to_join aria-live="polite">
            <For each=move || knocks.get() key=|k: &PeerInfo| k.peer_id.clone() let:knock>
                {
                    let (admit, deny) = (knock.peer_id.clone(), knock.peer_id.clone());
                    view! {
                        <div class="knock" role="group" data-testid="knock" data-peer=knock.peer_id.to_string()>
                            <span>{move || fill(t().wants_to_join, &[("name", knock.nickname.as_str())])}</span>
                            <button type="button" class="primary" data-testid="knock-admit" on:click=move |_| answer.run((admit.clone(), true))>
                                {move || t().admit}
                            </button>
                            <button type="button" data-testid="knock-deny" on:click=move |_| answer.run((deny.clone(), false))>
                                {move || t().deny}
                            </button>
                        </div>
                    }
                }
            </For>
        </section>
    }
}
