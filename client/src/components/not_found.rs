use leptos::prelude::*;
use leptos_router::components::A;

/// Any address that is not a route: says so and links to the lobby.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main class="page centered">
            <section class="card">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address."</p>
                <A href="/">"Go to the lobby"</A>
            </section>
        </main>
    }
}
