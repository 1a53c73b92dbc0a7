use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;
use noom_shared::RoomName;

use crate::components::call_view::CallView;
use crate::components::outdated::Outdated;
use crate::components::pre_join::PreJoin;
use crate::i18n::{fill, t};
use crate::session::{Phase, Session};

/// Which screen of the room is up; changes only when the screen does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Screen {
    Connecting,
    PreJoin,
    Waiting,
    Call,
    Full,
    Outdated,
    Lost,
}

/// `/room/<name>`: owns the room visit ([`Session`]) for as long as the page is open, and shows
/// pre-join, the call, or why neither is possible. Leaving the page shuts the visit down.
#[component]
pub fn RoomPage() -> impl IntoView {
    let location = use_location();
    // The router decodes only part of the path; take the raw segment and decode it whole.
    let raw_name = Memo::new(move |_| {
        location.pathname.track();
        room_from_path()
    });
    move || {
        match RoomName::new(&raw_name.get()) {
        Ok(room) => view! { <Room room /> }.into_any(),
        Err(err) => view! {
            <main class="page centered">
                <section class="card">
                    <h1>{move || t().not_a_room}</h1>
                    <p role="alert">{move || fill(t().room_name_invalid, &[("reason", t().rule(err.reason))])}</p>
                    <A href="/">{move || t().back_to_lobby}</A>
                </section>
            </main>
        }
        .into_any(),
    }
    }
}

/// One visit to one room.
#[component]
fn Room(room: RoomName) -> impl IntoView {
    let session = Session::start(room);
    on_cleanup(move || session.shutdown());
    let phase = session.phase();
    let screen = Memo::new(move |_| match phase.get() {
        Phase::Connecting => Screen::Connecting,
        Phase::PreJoin | Phase::Joining => Screen::PreJoin,
        Phase::Waiting => Screen::Waiting,
        Phase::InCall => Screen::Call,
        Phase::Full => Screen::Full,
        Phase::Outdated => Screen::Outdated,
        Phase::Lost => Screen::Lost,
    });
    let join = Callback::new(move |(nickname, password): (String, Option<String>)| {
        session.join(&nickname, password.as_deref())
    });
    move || {
        match screen.get() {
        Screen::Connecting => view! {
            <main class="page centered">
                <p class="hint" role="status">{move || t().connecting_to_noom}</p>
            </main>
        }
        .into_any(),
        Screen::PreJoin => view! {
            <PreJoin
                room=session.room()
                phase
                occupancy=session.occupancy()
                max_room_size=session.max_room_size()
                devices=session.devices()
                notice=session.notice()
                actions=session.actions()
                needs_password=session.needs_password()
                known_password=session.known_password()
                join
            />
        }
        .into_any(),
        Screen::Waiting => view! {
            <main class="page centered">
                <section class="card" data-testid="waiting" role="status">
                    <h1>{move || t().waiting_title}</h1>
                    <p>{move || fill(t().waiting_told, &[("room", session.room().as_str())])}</p>
                    <button type="button" data-testid="cancel-waiting" on:click=move |_| session.cancel_waiting()>
                        {move || t().cancel}
                    </button>
                </section>
            </main>
        }
        .into_any(),
        Screen::Call => view! { <CallView session /> }.into_any(),
        Screen::Full => {
            let size = session.max_room_size().get_untracked();
            view! {
                <main class="page centered">
                    <section class="card" data-testid="room-full" role="alert">
                        <h1>{move || t().room_full_title}</h1>
                        <p>
                            {move || fill(
                                t().room_full_text,
                                &[("room", session.room().as_str()), ("size", &size.to_string())],
                            )}
                        </p>
                        <A href="/">{move || t().back_to_lobby}</A>
                    </section>
                </main>
            }
            .into_any()
        }
        Screen::Outdated => view! { <Outdated /> }.into_any(),
        Screen::Lost => view! {
            <main class="page centered">
                <section class="card" role="alert" data-testid="room-error">
                    <h1>{move || t().something_wrong}</h1>
                    <p>{move || t().lost_connection}</p>
                    <A href="/">{move || t().back_to_lobby}</A>
                </section>
            </main>
        }
        .into_any(),
    }
    }
}

/// The room name in the address bar, decoded from `/room/<name>`.
fn room_from_path() -> String {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    let segment = path.strip_prefix("/room/").unwrap_or_default();
    js_sys::decode_uri_component(segment)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| segment.to_owned())
}
