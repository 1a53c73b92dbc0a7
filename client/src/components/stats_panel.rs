use leptos::prelude::*;

use crate::i18n::t;

use crate::session::Participant;

/// The numbers behind each tile's connection indicator: per remote participant, round-trip
/// time, packet loss, and the bitrates received from them and sent to them.
#[component]
pub fn StatsPanel(
    /// Everyone in the call.
    participants: ReadSignal<Vec<Participant>>,
    /// Whether the panel is shown.
    open: Signal<bool>,
) -> impl IntoView {
    let remotes = move || {
        participants
            .get()
            .into_iter()
            .filter(|p| !p.is_self)
            .collect::<Vec<_>>()
    };
    view! {
        <aside id="panel-stats" class="side" hidden=move || !open.get() aria-label=move || t().stats data-testid="stats-panel">
            <h2>{move || t().connection_stats}</h2>
            <Show
                when=move || participants.with(|l| l.iter().any(|p| !p.is_self))
                fallback=|| view! { <p class="hint">{move || t().nobody_else_yet}</p> }
            >
                <table class="stats">
                    <thead>
                        <tr>
                            <th scope="col">{move || t().stats_who}</th>
                            <th scope="col">{move || t().stats_rtt}</th>
                            <th scope="col">{move || t().stats_loss}</th>
                            <th scope="col">{move || t().stats_in}</th>
                            <th scope="col">{move || t().stats_out}</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=remotes key=|p: &Participant| p.id.clone() let:p>
                            {
                            let (nickname, quality) = (p.nickname(), p.quality());
                            view! {
                            <tr data-testid="stats-row" data-peer=p.id.to_string()>
                                <th scope="row">{move || nickname.get()}</th>
                                {move || match quality.get() {
                                    Some(q) => view! {
                                        <td>{q.rtt_ms.map_or_else(|| "–".to_owned(), |ms| format!("{ms:.0} ms"))}</td>
                                        <td>{format!("{:.1}%", q.loss_percent)}</td>
                                        <td data-testid="stats-in" data-kbps=format!("{:.0}", q.in_kbps)>
                                            {format!("{:.0} kb/s", q.in_kbps)}
                                        </td>
                                        <td>{format!("{:.0} kb/s", q.out_kbps)}</td>
                                    }
                                    .into_any(),
                                    None => view! { <td colspan="4" class="hint">{move || t().measuring}</td> }.into_any(),
                                }}
                            </tr>
                            }
                            }
                        </For>
                    </tbody>
                </table>
            </Show>
        </aside>
    }
}
