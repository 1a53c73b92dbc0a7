use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use noom_shared::{
    ClientMessage, Nickname, PROTOCOL_VERSION, RoomInfo, RoomName, Rooms, ServerMessage,
};

use crate::app::room_path;
use crate::components::language_picker::LanguagePicker;
use crate::components::room_list::RoomList;
use crate::i18n::{fill, t};
use crate::prefs;
use crate::reconnect::{Down, ReconnectingSocket};

/// Whether the lobby's socket is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Connecting,
    Open,
    /// Out of reach for so long that we stopped trying.
    Lost,
    /// The server speaks another protocol version: this page must be reloaded.
    Outdated,
}

/// The lobby's socket and what it feeds: the room list. The socket reopens itself after a drop
/// ([`ReconnectingSocket`]), so the list comes back after a server restart.
#[derive(Clone, Copy)]
struct RoomFeed {
    socket: StoredValue<Option<ReconnectingSocket>, LocalStorage>,
    link: RwSignal<Link>,
    rooms: RwSignal<Vec<RoomInfo>>,
    max_room_size: RwSignal<u32>,
}

impl RoomFeed {
    fn connect(self) {
        let socket = ReconnectingSocket::open(
            move |message| self.handle(message),
            move |down| {
                self.link.try_set(match down {
                    Down::Retrying => Link::Connecting,
                    Down::GaveUp => Link::Lost,
                });
            },
        );
        self.socket.try_set_value(Some(socket));
    }

    fn handle(self, message: ServerMessage) {
        match message {
            ServerMessage::Welcome(welcome) if welcome.protocol != PROTOCOL_VERSION => {
                self.link.try_set(Link::Outdated);
                self.close();
            }
            ServerMessage::Welcome(welcome) => {
                self.max_room_size.try_set(welcome.max_room_size);
                self.link.try_set(Link::Open);
                self.socket.try_with_value(|socket| {
                    if let Some(socket) = socket {
                        socket.answered();
                        socket.send(ClientMessage::ListRooms(Default::default()));
                    }
                });
            }
            ServerMessage::Rooms(list) => {
                self.rooms.try_set(list.rooms);
            }
            ServerMessage::RoomsChanged(changes) => {
                self.rooms.try_update(|rooms| {
                    let mut list = Rooms {
                        rooms: std::mem::take(rooms),
                    };
                    list.apply(&changes);
                    *rooms = list.rooms;
                });
            }
            _ => {}
        }
    }

    fn close(self) {
        if let Some(Some(socket)) = self.socket.try_update_value(Option::take) {
            socket.close();
        }
    }
}

/// The start page: your nickname (remembered), the live list of rooms, and a form to join or
/// create a room by name. Names are checked with the protocol's own rules before anything is
/// sent. The lobby keeps its own socket, which receives the server's room-list pushes, reopens
/// it when it drops, and closes it when the page goes.
#[component]
pub fn Lobby() -> impl IntoView {
    let nickname = RwSignal::new(prefs::nickname());
    let room = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let feed = RoomFeed {
        socket: StoredValue::new_local(None),
        link: RwSignal::new(Link::Connecting),
        rooms: RwSignal::new(Vec::new()),
        max_room_size: RwSignal::new(0),
    };
    feed.connect();
    on_cleanup(move || feed.close());
    let RoomFeed {
        link,
        rooms,
        max_room_size,
        ..
    } = feed;

    let navigate = use_navigate();
    let enter = move |name: String| {
        let checked = Nickname::new(&nickname.get_untracked())
            .map_err(|e| fill(t().your_name_invalid, &[("reason", t().rule(e.reason))]))
            .and_then(|nick| {
                RoomName::new(&name)
                    .map(|room| (nick, room))
                    .map_err(|e| fill(t().room_name_invalid, &[("reason", t().rule(e.reason))]))
            });
        match checked {
            Ok((nick, room)) => {
                prefs::remember_nickname(&nick);
                navigate(&room_path(&room), Default::default());
            }
            Err(message) => error.set(Some(message)),
        }
    };
    let submit = {
        let enter = enter.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            enter(room.get_untracked());
        }
    };

    view! {
        <main class="page lobby">
            <header class="brand">
                <h1>"Noom"</h1>
                <p>{move || t().tagline}</p>
                <LanguagePicker />
            </header>
            <section class="card" aria-labelledby="start-title">
                <h2 id="start-title">{move || t().start_title}</h2>
                <form class="stack" on:submit=submit novalidate>
                    <label for="nickname">{move || t().your_name}</label>
                    <input
                        id="nickname"
                        data-testid="nickname"
                        autocomplete="nickname"
                        maxlength="32"
                        placeholder=move || t().name_example
                        prop:value=move || nickname.get()
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            prefs::remember_nickname(value.trim());
                            nickname.set(value);
                            error.set(None);
                        }
                    />
                    <label for="room">{move || t().room_name}</label>
                    <input
                        id="room"
                        data-testid="room-name"
                        maxlength="64"
                        placeholder=move || t().room_example
                        prop:value=move || room.get()
                        on:input=move |ev| {
                            room.set(event_target_value(&ev));
                            error.set(None);
                        }
                    />
                    <button class="primary" type="submit" data-testid="enter-room">
                        {move || t().join_or_create}
                    </button>
                    <p class="error" role="alert" data-testid="lobby-error">
                        {move || error.get()}
                    </p>
                </form>
            </section>
            <section class="card" aria-labelledby="rooms-title">
                <h2 id="rooms-title">{move || t().rooms_now}</h2>
                {move || match link.get() {
                    Link::Connecting => view! { <p class="hint">{t().connecting}</p> }.into_any(),
                    Link::Lost => {
                        view! {
                            <p class="error" role="alert">
                                {t().server_unreachable}
                            </p>
                        }
                            .into_any()
                    }
                    Link::Outdated => {
                        view! {
                            <p class="error" role="alert" data-testid="outdated">
                                {t().updated_reload}
                            </p>
                        }
                            .into_any()
                    }
                    Link::Open => view! { <RoomList rooms=rooms.read_only() max_room_size=max_room_size.read_only() on_pick=enter.clone() /> }.into_any(),
                }}
            </section>
        </main>
    }
}
