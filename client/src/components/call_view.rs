use std::time::Duration;

use leptos::prelude::*;

use crate::components::chat_panel::ChatPanel;
use crate::components::controls::Controls;
use crate::components::tile::Tile;
use crate::session::{Participant, Session};

/// How often the speaking highlight follows the audio levels.
const LEVEL_SAMPLING: Duration = Duration::from_millis(150);

/// Narrower than this, the chat starts closed so the video gets the screen.
const WIDE_SCREEN_PX: f64 = 900.0;

/// The call: a header with the room and the participant count, the grid of tiles (self
/// included), the chat panel and the control bar.
#[component]
pub fn CallView(session: Session) -> impl IntoView {
    let wide = web_sys::window()
        .and_then(|w| w.inner_width().ok()?.as_f64())
        .is_some_and(|width| width >= WIDE_SCREEN_PX);
    let chat_open = RwSignal::new(wide);
    if let Ok(handle) = set_interval_with_handle(move || session.sample_levels(), LEVEL_SAMPLING) {
        on_cleanup(move || handle.clear());
    }
    let count = move || session.participants.with(Vec::len);
    view! {
        <div class="call" class:chat-open=move || chat_open.get()>
            <header class="call-header">
                <h1 class="call-room">{session.room.get_value().to_string()}</h1>
                <Show when=move || session.reconnecting.get()>
                    <span class="reconnecting" role="status" data-testid="reconnecting">
                        "Connection lost, reconnecting…"
                    </span>
                </Show>
                <span class="count" data-testid="participant-count" data-count=count>
                    {move || match count() {
                        1 => "1 person".to_owned(),
                        n => format!("{n} people"),
                    }}
                </span>
            </header>
            <main class="grid" data-tiles=count aria-label="Participants">
                <For each=move || session.participants.get() key=|p: &Participant| p.id.clone() let:participant>
                    <Tile participant />
                </For>
            </main>
            <ChatPanel session open=chat_open />
            <Controls session chat_open />
        </div>
    }
}
