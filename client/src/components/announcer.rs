use leptos::prelude::*;

use crate::i18n::t;
use crate::session::ChatLine;

/// Says to screen readers, politely, what happens in the call: joins, leaves, raised hands and
/// others' chat messages, whether or not the chat panel is open (knocks are announced by their
/// toasts). Not shown.
#[component]
pub fn Announcer(
    /// The chat's lines, oldest first: the newest is said.
    lines: ReadSignal<Vec<ChatLine>>,
) -> impl IntoView {
    let newest =
        Memo::new(move |_| lines.with(|l| l.last().and_then(|line| line.kind.spoken(t()))));
    view! {
        <div class="visually-hidden" role="status" aria-live="polite" data-testid="announcer">
            {move || newest.get()}
        </div>
    }
}
