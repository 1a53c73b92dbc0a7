use leptos::prelude::*;

use crate::format::human_size;
use crate::rtc::files::FileProblem;
use crate::session::Transfer;
use crate::session::ledger::{Cancelled, Failure, Tally, TransferState};

/// One file in the chat panel: name, size, who sent it, a progress bar, a Cancel button while
/// it travels (Accept and Decline while a large one waits for an answer), and how it ended — a
/// download link once its checksum is verified, the receivers' confirmations, or the failure in
/// words. `data-state` carries `preparing`, `offered`, `sending`, `asking`, `receiving`,
/// `checking`, `sent`, `delivered`, `verified`, `cancelled` or `failed` for tests.
#[component]
pub fn TransferRow(
    /// The file and its live progress.
    transfer: Transfer,
    /// Stops (or declines) the file with this row key.
    cancel: Callback<usize>,
    /// Accepts the large file with this row key.
    accept: Callback<usize>,
) -> impl IntoView {
    let key = transfer.key;
    let (progress, state) = (transfer.progress(), transfer.state());
    let Transfer {
        name,
        size,
        mime,
        from,
        ..
    } = transfer;
    let who = match from {
        Some(nickname) => format!("from {nickname}"),
        None => "to everyone".to_owned(),
    };
    let travelling = move || {
        matches!(
            state.get(),
            TransferState::Offered | TransferState::Sending | TransferState::Receiving
        )
    };
    let asking = move || state.get() == TransferState::Asking;
    let download_name = name.clone();
    let data_name = name.clone();
    let outcome = move || match state.get() {
        TransferState::Preparing => "Checksumming…".into_any(),
        TransferState::Offered => "Waiting for them to accept…".into_any(),
        TransferState::Asking => "Large file: accept it?".into_any(),
        TransferState::Checking => "Checking…".into_any(),
        TransferState::Sent(tally) => sent(tally).into_any(),
        TransferState::Cancelled(by) => cancelled(&by).into_any(),
        TransferState::Sending | TransferState::Receiving => {
            format!("{:.0}%", progress.get() * 100.0).into_any()
        }
        TransferState::Delivered(tally) => {
            view! { <span class="file-ok">{delivered(tally)}</span> }.into_any()
        }
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
        TransferState::NotDelivered(tally) => view! {
            <span class="error" role="alert">{format!("Not delivered{}", also(tally))}</span>
        }
        .into_any(),
        TransferState::Failed(failure) => view! {
            <span class="error" role="alert">{failed(&failure)}</span>
        }
        .into_any(),
    };
    view! {
        <div class="file-transfer" data-testid="file-transfer" data-state=move || state_name(&state.get()) data-name=data_name>
            <div class="chat-meta">
                <span class="chat-name">{name}</span>
                <span>{format!("{} {who}", human_size(size))}</span>
            </div>
            <progress max="1" value=move || progress.get()></progress>
            <p class="file-status">
                {outcome}
                <Show when=travelling>
                    <RowButton label="Cancel" test_id="file-cancel" press=cancel key />
                </Show>
                <Show when=asking>
                    <RowButton label="Accept" test_id="file-accept" press=accept key />
                    <RowButton label="Decline" test_id="file-decline" press=cancel key />
                </Show>
            </p>
        </div>
    }
}

/// A button of a file row, after a space: runs `press` with the row's key.
#[component]
fn RowButton(
    label: &'static str,
    test_id: &'static str,
    press: Callback<usize>,
    key: usize,
) -> impl IntoView {
    view! {
        " "
        <button
            type="button"
            class="link-button"
            data-testid=test_id
            on:click=move |_| press.run(key)
        >
            {label}
        </button>
    }
}

/// The state's name for `data-state`.
fn state_name(state: &TransferState) -> &'static str {
    match state {
        TransferState::Preparing => "preparing",
        TransferState::Offered => "offered",
        TransferState::Sending => "sending",
        TransferState::Asking => "asking",
        TransferState::Receiving => "receiving",
        TransferState::Checking => "checking",
        TransferState::Sent(_) => "sent",
        TransferState::Delivered(_) => "delivered",
        TransferState::Verified(_) => "verified",
        TransferState::Cancelled(_) => "cancelled",
        TransferState::NotDelivered(_) | TransferState::Failed(_) => "failed",
    }
}

fn sent(tally: Tally) -> String {
    format!(
        "Sent to {}, {} confirmed{}",
        tally.sent + tally.confirmed,
        tally.confirmed,
        also(tally)
    )
}

fn cancelled(by: &Cancelled) -> String {
    match by {
        Cancelled::ByUs => "Cancelled".to_owned(),
        Cancelled::BySender(nickname) => format!("{nickname} cancelled it"),
        Cancelled::Declined => "You declined it".to_owned(),
    }
}

fn delivered(tally: Tally) -> String {
    format!("Delivered to {}{}", tally.confirmed, also(tally))
}

/// ", 1 declined, 2 left", or nothing.
fn also(tally: Tally) -> String {
    let mut words = String::new();
    if tally.declined > 0 {
        words.push_str(&format!(", {} declined", tally.declined));
    }
    if tally.lost > 0 {
        words.push_str(&format!(", {} left", tally.lost));
    }
    words
}

fn failed(failure: &Failure) -> String {
    match failure {
        Failure::TooBig { max } => format!("Refused: over {}", human_size(*max)),
        Failure::Busy { limit } => {
            format!("Declined: {limit} files were already on their way; ask for it again")
        }
        Failure::SenderLeft(nickname) => format!("{nickname} left before it arrived"),
        Failure::SenderClosed => "The sender's connection closed".to_owned(),
        Failure::ConnectionReset => "The connection to the sender was reset".to_owned(),
        Failure::File(FileProblem::Unreadable) => "Cannot read the file".to_owned(),
        Failure::File(FileProblem::NoChecksum) => {
            "This browser cannot checksum files here (it needs HTTPS)".to_owned()
        }
        Failure::File(FileProblem::Unassembled) => "Cannot put the file together".to_owned(),
        Failure::File(FileProblem::Damaged) => {
            "Damaged on the way: the checksum does not match".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_read_as_before() {
        let tally = Tally {
            confirmed: 1,
            sent: 1,
            declined: 1,
            lost: 2,
        };
        assert_eq!(sent(tally), "Sent to 2, 1 confirmed, 1 declined, 2 left");
        let two = Tally {
            confirmed: 2,
            ..Tally::default()
        };
        assert_eq!(delivered(two), "Delivered to 2");
        assert_eq!(
            state_name(&TransferState::NotDelivered(Tally::default())),
            "failed"
        );
    }
}
