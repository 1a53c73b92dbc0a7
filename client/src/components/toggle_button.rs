use leptos::prelude::*;

/// An on/off button (`aria-pressed`), used for the mic and camera. Its accessible name is its
/// visible text ("Mic", "Mic off"), so what a screen reader says matches what is shown; what a
/// click does is its tooltip.
#[component]
pub fn ToggleButton(
    /// Whether the device is on.
    on: ReadSignal<bool>,
    /// What a click does, while on and while off (the tooltip).
    label_on: &'static str,
    label_off: &'static str,
    /// The short visible text.
    text: &'static str,
    testid: &'static str,
    /// False when the device is unavailable.
    enabled: Signal<bool>,
    toggle: Callback<()>,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class="toggle"
            class:off=move || !on.get()
            data-testid=testid
            aria-pressed=move || on.get().to_string()
            title=move || if on.get() { label_on } else { label_off }
            disabled=move || !enabled.get()
            on:click=move |_| toggle.run(())
        >
            {move || if on.get() { text.to_owned() } else { format!("{text} off") }}
        </button>
    }
}
