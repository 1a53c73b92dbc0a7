use leptos::prelude::*;

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
                <h1>"Noom was updated"</h1>
                <p>"This page is from an older version of Noom. Reload it to carry on."</p>
                <button type="button" class="primary" data-testid="reload" on:click=reload>
                    "Reload"
                </button>
            </section>
        </main>
    }
}
