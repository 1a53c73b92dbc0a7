use leptos::prelude::*;

use crate::components::icons::{Icon, IconView};

/// An on/off icon button (`aria-pressed`), used for the mic and camera: struck through and
/// red while off. Its accessible name is its tooltip ("Microphone (M)"), the same words
/// whether on or off; the pressed state says which.
#[component]
pub fn ToggleButton(
    /// Whether the device is on.
    on: ReadSignal<bool>,
    icon: Icon,
    /// The device's name, as the tooltip and a screen reader say it.
    label: Signal<String>,
    testid: &'static str,
    /// False when the device is unavailable.
    enabled: Signal<bool>,
    toggle: Callback<()>,
) -> impl IntoView {
    let off = Signal::derive(move || !on.get());
    view! {
        <button
            type="button"
            class="toggle icon-button"
            class:off=off
            data-testid=testid
            aria-pressed=move || on.get().to_string()
            aria-label=label
            title=label
            disabled=move || !enabled.get()
            on:click=move |_| toggle.run(())
        >
            <IconView icon crossed=off />
        </button>
    }
}
