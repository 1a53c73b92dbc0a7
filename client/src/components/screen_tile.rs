use leptos::prelude::*;

use crate::i18n::{fill, t};

use crate::components::stream_video::StreamVideo;
use crate::session::Participant;

/// A shared screen: the whole picture (never cropped), and whose it is. Large while it is the
/// presentation everyone looks at.
#[component]
pub fn ScreenTile(
    participant: Participant,
    /// Shown large, as the presentation.
    #[prop(into)]
    featured: Signal<bool>,
) -> impl IntoView {
    let p = participant;
    let (nickname, screen, is_self) = (p.nickname(), p.screen(), p.is_self);
    let label = Signal::derive(move || {
        if is_self {
            t().you_are_presenting.to_owned()
        } else {
            fill(t().someones_screen, &[("name", &nickname.get())])
        }
    });
    view! {
        <article
            class="tile screen"
            class:featured=move || featured.get()
            data-testid="screen-tile"
            data-peer=p.id.to_string()
            data-self=p.is_self.to_string()
            aria-label=label
        >
            <StreamVideo stream=screen />
            <div class="tile-label">
                <span class="tile-name" data-testid="screen-name">{label}</span>
            </div>
        </article>
    }
}
