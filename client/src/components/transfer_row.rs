use leptos::prelude::*;

use crate::rtc::files::human_size;
use crate::session::{Session, Transfer, TransferState};

/// One file in the chat panel: name, size, who sent it, a progress bar, a Cancel button while
/// it travels, and how it ended — a download link once its checksum is verified, the receivers'
/// confirmations, or the failure in words. `data-state` carries `preparing`, `sending`,
/// `receiving`, `checking`, `sent`, `delivered`, `verified`, `cancelled` or `failed` for tests.
#[component]
pub fn TransferRow(
    session: Session,
    /// The file and its live progress.
    transfer: Transfer,
) -> impl IntoView {
    let key = transfer.key;
    let Transfer {
        name,
        size,
        mime,
        from,
        progress,
        state,
        ..
    } = transfer;
    let who = match from {
        Some(nickname) => format!("from {nickname}"),
        None => "to everyone".to_owned(),
    };
    let state_name = move || match state.get() {
        TransferState::Preparing => "preparing",
        TransferState::Sending => "sending",
        TransferState::Receiving => "receiving",
        TransferState::Checking => "checking",
        TransferState::Sent(_) => "sent",
        TransferState::Delivered(_) => "delivered",
        TransferState::Verified(_) => "verified",
        TransferState::Cancelled(_) => "cancelled",
        TransferState::Failed(_) => "failed",
    };
    let travelling = move || {
        matches!(
            state.get(),
            TransferState::Sending | TransferState::Receiving
        )
    };
    let download_name = name.clone();
    let data_name = name.clone();
    let outcome = move || match state.get() {
        TransferState::Preparing => "Checksumming…".to_owned().into_any(),
        TransferState::Sending | TransferState::Receiving => {
            format!("{:.0}%", progress.get() * 100.0).into_any()
        }
        TransferState::Checking => "Checking…".to_owned().into_any(),
        TransferState::Sent(text) | TransferState::Cancelled(text) => text.into_any(),
        TransferState::Delivered(text) => view! { <span class="file-ok">{text}</span> }.into_any(),
        TransferState::Verified(url) => view! {
            <span class="file-ok">"Verified"</span>
            " "
            <a
                href=url
                download=download_name.clone()
                data-testid="file-download"
                data-size=size.to_string()
                data-type=mime.clone()
            >
                "Save"
            </a>
        }
        .into_any(),
        TransferState::Failed(reason) => view! {
            <span class="error" role="alert">{reason}</span>
        }
        .into_any(),
    };
    view! {
        <div class="file-transfer" data-testid="file-transfer" data-state=state_name data-name=data_name>
            <div class="chat-meta">
                <span class="chat-name">{name}</span>
                <span>{format!("{} {who}", human_size(size))}</span>
            </div>
            <progress max="1" value=move || progress.get()></progress>
            <p class="file-status">
                {outcome}
                <Show when=travelling>
                    " "
                    <button
                        type="button"
                        class="link-button"
                        data-testid="file-cancel"
                        on:click=move |_| session.cancel_transfer(key)
                    >
                        "Cancel"
                    </button>
                </Show>
            </p>
        </div>
    }
}
