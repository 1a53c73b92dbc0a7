use leptos::html::Input;
use leptos::prelude::*;

use crate::components::transfer_row::TransferRow;
use crate::rtc::files::human_size;
use crate::session::{Session, Transfer};

/// Sends files to everyone in the call, peer to peer, and lists the files sent and received.
/// The size cap is stated beside the button; a file over it is refused in words.
#[component]
pub fn FileShare(session: Session) -> impl IntoView {
    let input = NodeRef::<Input>::new();
    let error = RwSignal::new(None::<String>);
    let picked = move |_| {
        let Some(input) = input.get() else { return };
        let file = input.files().and_then(|files| files.get(0));
        // Cleared, so picking the same file again sends it again.
        input.set_value("");
        if let Some(file) = file {
            error.set(session.send_file(file).err());
        }
    };
    view! {
        <div class="file-share">
            <div class="file-list">
                <For each=move || session.transfers.get() key=|t: &Transfer| t.key let:transfer>
                    <TransferRow session transfer />
                </For>
            </div>
            <label class="button file-pick">
                "Send file"
                <input
                    type="file"
                    class="visually-hidden"
                    data-testid="file-input"
                    node_ref=input
                    on:change=picked
                />
            </label>
            <span class="file-cap" data-testid="file-cap">
                {move || format!("Up to {}, sent directly to each person", human_size(session.max_file_bytes.get()))}
            </span>
            <p class="error" role="alert" data-testid="file-error">{move || error.get()}</p>
        </div>
    }
}
