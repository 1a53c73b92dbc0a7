use leptos::prelude::*;
use noom_shared::RoomInfo;

use crate::i18n::{fill, t};

/// The rooms that have people in them, with their counts and whether they are locked (a
/// password or a lobby), live: the list follows the server's `rooms` pushes.
#[component]
pub fn RoomList(
    /// The latest room list from the server.
    rooms: ReadSignal<Vec<RoomInfo>>,
    /// The server's room size limit, to mark full rooms.
    max_room_size: ReadSignal<u32>,
    /// Called with a room's name when the user picks it.
    on_pick: impl Fn(String) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <Show
            when=move || rooms.with(|r| !r.is_empty())
            fallback=|| view! { <p class="hint" data-testid="no-rooms">{move || t().no_rooms}</p> }
        >
            <ul class="room-list" data-testid="room-list">
                <For
                    each=move || rooms.get()
                    key=|room| (room.name.clone(), room.participants, room.locked)
                    children={
                        let on_pick = on_pick.clone();
                        move |room| {
                            let on_pick = on_pick.clone();
                            let name = room.name.to_string();
                            let picked = name.clone();
                            let label_name = name.clone();
                            let full = move || room.participants >= max_room_size.get();
                            view! {
                                <li data-testid="room-item" data-room=name.clone()>
                                    <span class="room-name">{name.clone()}</span>
                                    {room.locked.then(|| view! {
                                        <span class="room-locked" data-testid="room-locked" title=move || t().locked_hint>
                                            {move || t().locked}
                                        </span>
                                    })}
                                    <span class="room-count" data-testid="room-count" data-count=room.participants>
                                        {move || t().people_count(room.participants as usize)}
                                    </span>
                                    <button
                                        class="secondary"
                                        aria-label=move || fill(t().join_room_named, &[("name", &label_name)])
                                        disabled=full
                                        on:click=move |_| on_pick(picked.clone())
                                    >
                                        {move || if full() { t().full } else { t().join }}
                                    </button>
                                </li>
                            }
                        }
                    }
                />
            </ul>
        </Show>
    }
}
