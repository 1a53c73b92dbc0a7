//! The routes, in one place.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::lobby::Lobby;
use crate::components::not_found::NotFound;
use crate::components::room_page::RoomPage;

/// The whole app: `/` is the lobby, `/room/<name>` a room (deep links work: the server
/// answers every client route with `index.html`).
#[component]
pub fn App() -> impl IntoView {
    crate::i18n::provide_language();
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=Lobby />
                <Route path=path!("/room/:name") view=RoomPage />
            </Routes>
        </Router>
    }
}

/// The address of a room's page, with the name escaped as one path segment.
pub fn room_path(room: &str) -> String {
    format!("/room/{}", js_sys::encode_uri_component(room))
}
