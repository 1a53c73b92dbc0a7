use leptos::prelude::*;

use crate::format::human_size;
use crate::i18n::{Texts, fill, t};
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
    let who = move || match &from {
        Some(nickname) => fill(t().file_from, &[("name", nickname)]),
        None => t().file_to_everyone.to_owned(),
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
        TransferState::Preparing => t().checksumming.into_any(),
        TransferState::Offered => t().waiting_accept.into_any(),
        TransferState::Asking => t().large_file_ask.into_any(),
        TransferState::Checking => t().checking.into_any(),
        TransferState::Sent(tally) => sent(t(), tally).into_any(),
        TransferState::Cancelled(by) => cancelled(t(), &by).into_any(),
        TransferState::Sending | TransferState::Receiving => {
            format!("{:.0}%", progress.get() * 100.0).into_any()
        }
        TransferState::Delivered(tally) => {
            view! { <span class="file-ok">{delivered(t(), tally)}</span> }.into_any()
        }
        TransferState::Verified(url) => view! {
            <span class="file-ok">{t().verified}</span>
            " "
            <a
                href=url
                download=download_name.clone()
                data-testid="file-download"
                data-size=size.to_string()
                data-type=mime.clone()
            >
                {t().save}
            </a>
        }
        .into_any(),
        TransferState::NotDelivered(tally) => view! {
            <span class="error" role="alert">
                {fill(t().not_delivered, &[("also", &also(t(), tally))])}
            </span>
        }
        .into_any(),
        TransferState::Failed(failure) => view! {
            <span class="error" role="alert">{failed(t(), &failure)}</span>
        }
        .into_any(),
    };
    view! {
        <div class="file-transfer" data-testid="file-transfer" data-state=move || state_name(&state.get()) data-name=data_name>
            <div class="chat-meta">
                <span class="chat-name">{name}</span>
                <span>{move || format!("{} {}", human_size(t().bytes, size), who())}</span>
            </div>
            <progress max="1" value=move || progress.get()></progress>
            <p class="file-status">
                {outcome}
                <Show when=travelling>
                    <RowButton label=|| t().cancel test_id="file-cancel" press=cancel key />
                </Show>
                <Show when=asking>
                    <RowButton label=|| t().accept test_id="file-accept" press=accept key />
                    <RowButton label=|| t().decline test_id="file-decline" press=cancel key />
                </Show>
            </p>
        </div>
    }
}

/// A button of a file row, after a space: runs `press` with the row's key.
#[component]
fn RowButton(
    /// The button's words, in the chosen language.
    label: fn() -> &'static str,
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

fn sent(texts: &Texts, tally: Tally) -> String {
    let n = (tally.sent + tally.confirmed).to_string();
    let confirmed = tally.confirmed.to_string();
    let also = also(texts, tally);
    fill(
        texts.sent_to,
        &[("n", &n), ("confirmed", &confirmed), ("also", &also)],
    )
}

fn cancelled(texts: &Texts, by: &Cancelled) -> String {
    match by {
        Cancelled::ByUs => texts.cancelled.to_owned(),
        Cancelled::BySender(nickname) => fill(texts.cancelled_by_sender, &[("name", nickname)]),
        Cancelled::Declined => texts.you_declined.to_owned(),
    }
}

fn delivered(texts: &Texts, tally: Tally) -> String {
    let n = tally.confirmed.to_string();
    fill(
        texts.delivered_to,
        &[("n", &n), ("also", &also(texts, tally))],
    )
}

/// ", 1 declined, 2 left", or nothing.
fn also(texts: &Texts, tally: Tally) -> String {
    let mut words = String::new();
    for (count, template) in [
        (tally.declined, texts.also_declined),
        (tally.lost, texts.also_left),
    ] {
        if count > 0 {
            words.push_str(&fill(template, &[("n", &count.to_string())]));
        }
    }
    words
}

fn failed(texts: &Texts, failure: &Failure) -> String {
    match failure {
        Failure::TooBig { max } => fill(
            texts.refused_over,
            &[("size", &human_size(texts.bytes, *max))],
        ),
        Failure::Busy { limit } => fill(texts.busy_declined, &[("limit", &limit.to_string())]),
        Failure::SenderLeft(nickname) => fill(texts.sender_left, &[("name", nickname)]),
        Failure::SenderClosed => texts.sender_closed.to_owned(),
        Failure::ConnectionReset => texts.connection_reset.to_owned(),
        Failure::File(FileProblem::Unreadable) => texts.cannot_read_file.to_owned(),
        Failure::File(FileProblem::NoChecksum) => texts.no_checksum.to_owned(),
        Failure::File(FileProblem::Unassembled) => texts.unassembled.to_owned(),
        Failure::File(FileProblem::Damaged) => texts.damaged.to_owned(),
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
        let en = crate::i18n::Lang::En.texts();
        assert_eq!(
            sent(en, tally),
            "Sent to 2, 1 confirmed, 1 declined, 2 left"
        );
        let ko = crate::i18n::Lang::Ko.texts();
        assert_eq!(
            sent(ko, tally),
            "2명에게 보냄, 1명 확인, 1명 거절, 2명 나감"
        );
        let two = Tally {
            confirmed: 2,
            ..Tally::default()
        };
        assert_eq!(delivered(en, two), "Delivered to 2");
        assert_eq!(
            state_name(&TransferState::NotDelivered(Tally::default())),
            "failed"
        );
    }
}
