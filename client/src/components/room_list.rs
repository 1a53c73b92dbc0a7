use leptos::prelude::*;
use noom_shared::RoomInfo;

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
            fallback=|| view! { <p class="hint" data-testid="no-rooms">"No one is in a room yet. Create one above."</p> }
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
                            let people = if room.participants == 1 { "person" } else { "people" };
                            let picked = name.clone();
                            let full = move || room.participants >= max_room_size.get();
                            view! {
                                <li data-testid="room-item" data-room=name.clone()>
                                    <span class="room-name">{name.clone()}</span>
                                    {room.locked.then(|| view! {
                                        <span class="room-locked" data-testid="room-locked" title="A password or the host's approval is needed">
                                            "Locked"
                                        </span>
                                    })}
                                    <span class="room-count">
                                        <span data-testid="room-count">{room.participants}</span>
                                        " "
                                        {people}
                                    </span>
                                    <button
                                        class="secondary"
                                        aria-label=format!("Join {name}")
                                        disabled=full
                                        on:click=move |_| on_pick(picked.clone())
                                    >
                                        {move || if full() { "Full" } else { "Join" }}
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
