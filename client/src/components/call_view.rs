use std::time::Duration;

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::components::announcer::Announcer;
use crate::components::chat_panel::ChatPanel;
use crate::components::controls::Controls;
use crate::components::file_share::FileShare;
use crate::components::help_dialog::HelpDialog;
use crate::components::knock_toasts::KnockToasts;
use crate::components::people_panel::PeoplePanel;
use crate::components::room_settings::RoomSettings;
use crate::components::screen_tile::ScreenTile;
use crate::components::side_panel::{self, SidePanel};
use crate::components::stats_panel::StatsPanel;
use crate::components::stream_video::Speaker;
use crate::components::tile::Tile;
use crate::i18n::t;
use crate::session::{Participant, Session};
use crate::shortcuts::{self, Action};

/// How often the speaking highlight follows the audio levels.
const LEVEL_SAMPLING: Duration = Duration::from_millis(150);

/// How often each link's stats are read for the quality indicators.
const STATS_SAMPLING: Duration = Duration::from_secs(1);

/// How often, in an SFU room, the tiles are measured for the server (`sfu_view`): a change of
/// layout reaches it within this.
const VIEW_SAMPLING: Duration = Duration::from_millis(500);

/// Narrower than this, the chat starts closed so the video gets the screen.
const WIDE_SCREEN_PX: f64 = 900.0;

/// The call: a header with the room and the participant count, the tiles (self included) as a
/// grid or, in the speaker layout, the active speaker large above a strip of the others, a side
/// column (chat, people or stats) and the control bar. While someone presents, their screen is
/// the large tile and everyone's camera goes to the strip. Keyboard shortcuts (listed by `?`)
/// work anywhere but in a text field. The call's root: it hands each child the signals and
/// callbacks of the session it needs, and no more.
#[component]
pub fn CallView(
    /// The visit, owned by the room page.
    session: Session,
) -> impl IntoView {
    let participants = session.participants();
    provide_context(Speaker(session.devices().speakers().1));
    let actions = session.actions();
    let wide = web_sys::window()
        .and_then(|w| w.inner_width().ok()?.as_f64())
        .is_some_and(|width| width >= WIDE_SCREEN_PX);
    let panel = RwSignal::new(wide.then_some(SidePanel::Chat));
    let help_open = RwSignal::new(false);
    let speaker_layout = RwSignal::new(false);
    // In the speaker layout: whom we pinned, else the active speaker, else the first other
    // person.
    let pinned = Memo::new(move |_| {
        session
            .pinned()
            .get()
            .filter(|id| participants.with(|l| l.iter().any(|p| p.id == *id)))
    });
    let featured = Memo::new(move |_| {
        pinned
            .get()
            .or_else(|| session.active_speaker().get())
            .or_else(|| participants.with(|l| l.iter().find(|p| !p.is_self).map(|p| p.id.clone())))
    });
    // Pinning someone shows them large.
    let toggle_pin = Callback::new(move |peer| {
        if session.toggle_pin(peer) {
            speaker_layout.set(true);
        }
    });
    // A new layout reaches the SFU as soon as it is drawn.
    Effect::new(move |_| {
        speaker_layout.track();
        session.report_view_soon();
    });
    // Everyone presenting, in the order they joined; the first one's screen is the large tile.
    let presenters = Memo::new(move |_| {
        participants.with(|list| {
            list.iter()
                .filter(|p| p.screen().with(Option::is_some))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let presenting = move || presenters.with(|p| !p.is_empty());
    let presentation = Memo::new(move |_| presenters.with(|p| p.first().map(|p| p.id.clone())));
    if let Ok(handle) = set_interval_with_handle(move || session.sample_levels(), LEVEL_SAMPLING) {
        on_cleanup(move || handle.clear());
    }
    if let Ok(handle) = set_interval_with_handle(move || session.sample_stats(), STATS_SAMPLING) {
        on_cleanup(move || handle.clear());
    }
    if let Ok(handle) = set_interval_with_handle(move || session.report_view(), VIEW_SAMPLING) {
        on_cleanup(move || handle.clear());
    }
    let keys = window_event_listener(leptos::ev::keydown, move |ev: KeyboardEvent| {
        let action = shortcuts::action_for(&ev.key());
        if action == Some(Action::CloseDialog) {
            help_open.set(false);
            return;
        }
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || in_text_field(&ev) {
            return;
        }
        match action {
            Some(Action::ToggleMic) => actions.toggle_mic.run(()),
            Some(Action::ToggleCamera) => actions.toggle_camera.run(()),
            Some(Action::ToggleScreen) => actions.toggle_screen.run(()),
            Some(Action::ToggleHand) => actions.toggle_hand.run(()),
            Some(Action::ToggleChat) => side_panel::toggle(panel, SidePanel::Chat),
            Some(Action::ShowHelp) => help_open.update(|o| *o = !*o),
            Some(Action::CloseDialog) | None => return,
        }
        ev.prevent_default();
    });
    on_cleanup(move || keys.remove());
    let visibility = window_event_listener(
        leptos::ev::Custom::<web_sys::Event>::new("visibilitychange"),
        move |_| session.page_visibility_changed(),
    );
    on_cleanup(move || visibility.remove());
    let count = move || participants.with(Vec::len);
    let tiles = move || count() + presenters.with(Vec::len);
    let shown = move |which| Signal::derive(move || panel.get() == Some(which));
    let send_chat = Callback::new(move |text: String| session.send_chat(&text));
    let send_file = Callback::new(move |file| session.send_file(file));
    let cancel_file = Callback::new(move |key| session.cancel_transfer(key));
    let accept_file = Callback::new(move |key| session.accept_transfer(key));
    let host_act = Callback::new(move |(peer, action)| session.host_action(peer, action));
    let answer_knock = Callback::new(move |(peer, admit)| session.answer_knock(peer, admit));
    let save_access = Callback::new(move |(password, lobby): (String, bool)| {
        session.set_room_access(&password, lobby)
    });
    let invite_link = Callback::new(move |()| session.invite_link());
    view! {
        <div class="call" class:side-open=move || panel.get().is_some()>
            <header class="call-header">
                <h1 class="call-room">{session.room().to_string()}</h1>
                {move || {
                    session
                        .notice()
                        .get()
                        .map(|text| view! { <span class="notice" role="alert" data-testid="call-notice">{text}</span> })
                }}
                <Show when=move || session.reconnecting().get()>
                    <span class="reconnecting" role="status" data-testid="reconnecting">
                        {move || t().reconnecting}
                    </span>
                </Show>
                <span class="count" data-testid="participant-count" data-count=count>
                    {move || t().people_count(count())}
                </span>
            </header>
            <main
                class="grid"
                class:speaker=move || speaker_layout.get() || presenting()
                class:presenting=presenting
                data-tiles=tiles
                data-testid="tiles"
                aria-label=move || t().participants
            >
                <For each=move || presenters.get() key=|p: &Participant| p.id.clone() let:participant>
                    {
                        let id = participant.id.clone();
                        let featured = Signal::derive(move || presentation.with(|f| f.as_ref() == Some(&id)));
                        view! { <ScreenTile participant featured /> }
                    }
                </For>
                <For each=move || participants.get() key=|p: &Participant| p.id.clone() let:participant>
                    {
                        let id = participant.id.clone();
                        let is_pinned = {
                            let id = id.clone();
                            Signal::derive(move || pinned.with(|p| p.as_ref() == Some(&id)))
                        };
                        let featured = Signal::derive(move || {
                            speaker_layout.get() && !presenting()
                                && featured.with(|f| f.as_ref() == Some(&id))
                        });
                        view! {
                            <Tile
                                participant
                                featured
                                pinned=is_pinned
                                toggle_pin
                                has_relay=session.has_relay()
                                host=session.host()
                            />
                        }
                    }
                </For>
            </main>
            <ChatPanel lines=session.chat() send=send_chat open=shown(SidePanel::Chat)>
                <FileShare
                    transfers=session.transfers()
                    max_file_bytes=session.max_file_bytes()
                    send=send_file
                    cancel=cancel_file
                    accept=accept_file
                />
            </ChatPanel>
            <PeoplePanel
                participants
                open=shown(SidePanel::People)
                host=session.host()
                am_host=session.am_host()
                act=host_act
            >
                <RoomSettings access=session.access() am_host=session.am_host() save=save_access />
            </PeoplePanel>
            <KnockToasts knocks=session.knocks() answer=answer_knock />
            <StatsPanel participants open=shown(SidePanel::Stats) />
            <Controls
                devices=session.devices()
                participants
                hand_raised=session.hand_raised()
                actions
                panel
                help_open
                speaker_layout
                waiting=session.knocks()
                invite_link
            />
            <HelpDialog open=help_open />
            <Announcer lines=session.chat() />
        </div>
    }
}

/// Whether a key press is typing (in an input, a select or a text area), not a shortcut.
fn in_text_field(ev: &KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}
