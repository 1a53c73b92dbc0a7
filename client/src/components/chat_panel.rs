use leptos::html::{Div, Input};
use leptos::prelude::*;

use noom_shared::InvalidValue;

use crate::format::clock_time;
use crate::i18n::{fill, language, t};
use crate::session::{ChatKind, ChatLine};

/// The room's chat: messages with name and time, join and leave lines, a box to write in. The
/// list follows new lines to the bottom. Text is always shown as text, never as HTML. Files are
/// sent from here too (the file share, passed as `children`).
#[component]
pub fn ChatPanel(
    /// The chat's lines, oldest first.
    lines: ReadSignal<Vec<ChatLine>>,
    /// Sends a message to the room.
    send: Callback<String, Result<(), InvalidValue>>,
    /// Whether the panel is shown.
    open: Signal<bool>,
    children: Children,
) -> impl IntoView {
    let list = NodeRef::<Div>::new();
    let input = NodeRef::<Input>::new();
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        lines.track();
        open.track();
        if let Some(list) = list.get() {
            list.set_scroll_top(list.scroll_height());
        }
    });
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match send.run(draft.get_untracked()) {
            Ok(()) => draft.set(String::new()),
            Err(invalid) => error.set(Some(fill(
                t().message_invalid,
                &[("reason", t().rule(invalid.reason))],
            ))),
        }
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    };
    view! {
        <aside id="panel-chat" class="side chat" hidden=move || !open.get() aria-label=move || t().chat data-testid="chat-panel">
            <h2>{move || t().chat}</h2>
            <div class="chat-lines" node_ref=list>
                <For each=move || lines.get() key=|line: &ChatLine| line.key let:line>
                    {line_view(line.kind)}
                </For>
            </div>
            <form class="chat-form" on:submit=send>
                <label for="chat-input" class="visually-hidden">{move || t().message}</label>
                <input
                    id="chat-input"
                    data-testid="chat-input"
                    node_ref=input
                    placeholder=move || t().write_message
                    maxlength="2000"
                    autocomplete="off"
                    prop:value=move || draft.get()
                    on:input=move |ev| {
                        draft.set(event_target_value(&ev));
                        error.set(None);
                    }
                />
                <button class="primary" type="submit" data-testid="chat-send">{move || t().send}</button>
            </form>
            <p class="error" role="alert">{move || error.get()}</p>
            {children()}
        </aside>
    }
}

fn line_view(kind: ChatKind) -> AnyView {
    match kind {
        ChatKind::Message {
            nickname,
            text,
            ts,
            mine,
        } => view! {
            <div class="chat-message" class:mine=mine data-testid="chat-message">
                <div class="chat-meta">
                    <span class="chat-name">{nickname}</span>
                    <time>{move || clock_time(language().get().tag(), ts)}</time>
                </div>
                <p class="chat-text" data-testid="chat-text">{text}</p>
            </div>
        }
        .into_any(),
        notice => view! {
            <p class="chat-notice" data-testid="chat-notice">{move || notice.spoken(t())}</p>
        }
        .into_any(),
    }
}
