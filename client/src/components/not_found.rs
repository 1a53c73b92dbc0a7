use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::t;

/// Any address that is not a route: says so and links to the lobby.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main class="page centered">
            <section class="card">
                <h1>{move || t().page_not_found}</h1>
                <p>{move || t().nothing_here}</p>
                <A href="/">{move || t().back_to_lobby}</A>
            </section>
        </main>
    }
}
