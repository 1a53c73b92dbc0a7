use leptos::prelude::*;

use crate::i18n::t;

/// The server speaks another protocol version than this page (Noom was upgraded while the page
/// was open): reloading fetches the matching app.
#[component]
pub fn Outdated() -> impl IntoView {
    let reload = |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    };
    view! {
        <main class="page centered">
            <section class="card" role="alert" data-testid="outdated">
                <h1>{move || t().noom_updated}</h1>
                <p>{move || t().older_version}</p>
                <button type="button" class="primary" data-testid="reload" on:click=reload>
                    {move || t().reload}
                </button>
            </section>
        </main>
    }
}
