use leptos::prelude::*;

use crate::shortcuts::SHORTCUTS;

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
                            .map(|shortcut| view! {
                                <dt><kbd>{shortcut.key}</kbd></dt>
                                <dd>{shortcut.what}</dd>
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
