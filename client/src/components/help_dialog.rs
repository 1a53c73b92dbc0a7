use leptos::prelude::*;

/// The call's keyboard shortcuts: key, and what it does.
pub const SHORTCUTS: [(&str, &str); 7] = [
    ("M", "Mute or unmute the microphone"),
    ("V", "Turn the camera off or on"),
    ("S", "Present your screen, or stop presenting"),
    ("H", "Raise or lower your hand"),
    ("C", "Open or close the chat"),
    ("?", "Show this list"),
    ("Esc", "Close this list"),
];

/// A modal list of the keyboard shortcuts, closed by its button, Escape, or a click outside.
#[component]
pub fn HelpDialog(
    /// Whether the dialog is shown.
    open: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <Show when=move || open.get()>
            <div class="backdrop" on:click=move |_| open.set(false)>
                <section
                    class="dialog"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="help-title"
                    data-testid="help-dialog"
                    on:click=|ev| ev.stop_propagation()
                >
                    <h2 id="help-title">"Keyboard shortcuts"</h2>
                    <dl class="shortcuts">
                        {SHORTCUTS
                            .iter()
                            .map(|(key, what)| view! {
                                <dt><kbd>{*key}</kbd></dt>
                                <dd>{*what}</dd>
                            })
                            .collect_view()}
                    </dl>
                    <button type="button" class="primary" autofocus on:click=move |_| open.set(false)>
                        "Close"
                    </button>
                </section>
            </div>
        </Show>
    }
}
