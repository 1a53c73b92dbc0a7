use leptos::html::Input;
use leptos::prelude::*;

use crate::components::transfer_row::TransferRow;
use crate::format::human_size;
use crate::i18n::{Texts, fill, t};
use crate::session::{SendProblem, Transfer};

/// Sends files to everyone in the call, peer to peer, and lists the files sent and received.
/// The size cap is stated beside the button; a file over it is refused in words.
#[component]
pub fn FileShare(
    /// Files sent and received, oldest first.
    transfers: ReadSignal<Vec<Transfer>>,
    /// The largest file that may be sent.
    max_file_bytes: ReadSignal<u64>,
    /// Sends a picked file to everyone.
    send: Callback<web_sys::File, Result<(), SendProblem>>,
    /// Stops the file with this row key.
    cancel: Callback<usize>,
    /// Accepts the large file with this row key.
    accept: Callback<usize>,
) -> impl IntoView {
    let input = NodeRef::<Input>::new();
    let error = RwSignal::new(None::<String>);
    let picked = move |_| {
        let Some(input) = input.get() else { return };
        let file = input.files().and_then(|files| files.get(0));
        // Cleared, so picking the same file again sends it again.
        input.set_value("");
        if let Some(file) = file {
            error.set(send.run(file).err().map(|problem| refusal(t(), &problem)));
        }
    };
    view! {
        <div class="file-share">
            <div class="file-list">
                <For each=move || transfers.get() key=|t: &Transfer| t.key let:transfer>
                    <TransferRow transfer cancel accept />
                </For>
            </div>
            <label class="button file-pick">
                {move || t().send_file}
                <input
                    type="file"
                    class="visually-hidden"
                    data-testid="file-input"
                    node_ref=input
                    on:change=picked
                />
            </label>
            <span class="file-cap" data-testid="file-cap">
                {move || fill(t().file_cap, &[("size", &human_size(t().bytes, max_file_bytes.get()))])}
            </span>
            <p class="error" role="alert" data-testid="file-error">{move || error.get()}</p>
        </div>
    }
}

fn refusal(texts: &Texts, problem: &SendProblem) -> String {
    match problem {
        SendProblem::TooBig { name, size, max } => fill(
            texts.file_too_big,
            &[
                ("name", name),
                ("size", &human_size(texts.bytes, *size)),
                ("max", &human_size(texts.bytes, *max)),
            ],
        ),
        SendProblem::Empty { name } => fill(texts.file_empty, &[("name", name)]),
        SendProblem::NobodyHere => texts.nobody_here.to_owned(),
    }
}
