use leptos::prelude::*;

use crate::i18n::t;
use crate::shortcuts::SHORTCUTS;

/// A modal list of the keyboard shortcuts, closed by its button, Escape, or a click outside.
/// A native `<dialog>` opened with `showModal()`: the browser keeps focus inside it while it is
/// open, makes the rest of the page inert, and gives focus back to where it was on closing.
#[component]
pub fn HelpDialog(
    /// Whether the dialog is shown.
    open: RwSignal<bool>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        let shown = open.get();
        let Some(dialog) = dialog.get() else {
            return;
        };
        if shown && !dialog.open() {
            let _ = dialog.show_modal();
        } else if !shown && dialog.open() {
            dialog.close();
        }
    });
    view! {
        <dialog
            node_ref=dialog
            class="dialog"
            aria-labelledby="help-title"
            data-testid="help-dialog"
            on:close=move |_| open.set(false)
            // A click on the backdrop lands on the dialog itself, not on its content.
            on:click=move |ev| {
                if ev.target() == ev.current_target() {
                    open.set(false);
                }
            }
        >
            <div class="dialog-body">
                <h2 id="help-title">{move || t().keyboard_shortcuts}</h2>
                <dl class="shortcuts">
                    {SHORTCUTS
                        .iter()
                        .map(|shortcut| view! {
                            <dt><kbd>{shortcut.key}</kbd></dt>
                            <dd>{move || (shortcut.what)(t())}</dd>
                        })
                        .collect_view()}
                </dl>
                <button type="button" class="primary" autofocus on:click=move |_| open.set(false)>
                    {move || t().close}
                </button>
            </div>
        </dialog>
    }
}
