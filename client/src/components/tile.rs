use leptos::prelude::*;

use crate::components::quality_indicator::QualityIndicator;
use crate::components::stream_video::StreamVideo;
use crate::i18n::{Texts, fill, t};
use crate::rtc::ice::unreachable_text;
use crate::rtc::peer::LinkState;
use crate::session::Participant;

/// What a tile's accessible name says besides the name.
#[derive(Debug, Clone, Copy, Default)]
struct TileStates {
    is_self: bool,
    muted: bool,
    camera_off: bool,
    /// In a large SFU room: the server does not send us this camera now.
    camera_not_shown: bool,
    pinned: bool,
    hand: bool,
    speaking: bool,
}

/// A tile's accessible name: "Ana, muted, speaking" (the name first, then what is so).
fn tile_label(texts: &Texts, nickname: &str, states: TileStates) -> String {
    let mut label = nickname.to_owned();
    if states.is_self {
        label.push_str(texts.you);
    }
    for (on, word) in [
        (states.muted, texts.state_muted),
        (states.camera_off, texts.state_camera_off),
        (states.camera_not_shown, texts.state_camera_not_shown),
        (states.pinned, texts.state_pinned),
        (states.hand, texts.state_hand_raised),
        (states.speaking, texts.state_speaking),
    ] {
        if on {
            label.push_str(", ");
            label.push_str(word);
        }
    }
    label
}

/// One participant in the grid: their video (or their initial when the camera is off), name,
/// microphone state, a raised hand, connection state and quality, a highlight while they
/// speak, and (for the others) a button that pins them.
#[component]
pub fn Tile(
    participant: Participant,
    /// Shown large, as the speaker layout's main tile.
    #[prop(into)]
    featured: Signal<bool>,
    /// We pinned them.
    #[prop(into)]
    pinned: Signal<bool>,
    /// Pins them, or unpins them if pinned.
    toggle_pin: Callback<noom_shared::PeerId>,
    /// Whether the server offers a TURN relay, to explain a link that fails.
    has_relay: ReadSignal<bool>,
    /// The room's host.
    host: ReadSignal<Option<noom_shared::PeerId>>,
) -> impl IntoView {
    let p = participant;
    let id = p.id.clone();
    let pin_id = p.id.clone();
    let is_host = move || host.with(|host| host.as_ref() == Some(&id));
    let (status, stream, nickname) = (p.status(), p.stream(), p.nickname());
    let (link, speaking, quality) = (p.link(), p.speaking(), p.quality());
    let muted = move || status.with(|s| s.muted);
    let hand = move || status.with(|s| s.hand_raised);
    let camera_sent = p.camera_sent();
    let camera_not_shown = move || !camera_sent.get() && !status.with(|s| s.camera_off);
    let camera_off = move || status.with(|s| s.camera_off) || stream.with(Option::is_none);
    let no_picture = move || camera_off() || camera_not_shown();
    let initial = move || {
        nickname
            .with(|n| n.chars().next().map(|c| c.to_uppercase().to_string()))
            .unwrap_or_default()
    };
    let connection = move || match link.get() {
        LinkState::Connected => None,
        LinkState::Connecting => Some(("connecting", t().tile_connecting.to_owned())),
        LinkState::Interrupted => Some(("connecting", t().tile_reconnecting.to_owned())),
        LinkState::Failed => Some((
            "failed",
            nickname.with(|name| unreachable_text(t(), name, has_relay.get())),
        )),
    };
    view! {
        <article
            class="tile"
            class:speaking=move || speaking.get()
            class:featured=move || featured.get()
            class:camera-off=no_picture
            data-testid="tile"
            data-peer=p.id.to_string()
            data-self=p.is_self.to_string()
            data-muted=move || muted().to_string()
            data-hand=move || hand().to_string()
            data-camera-off=move || camera_off().to_string()
            data-camera-shown=move || (!no_picture()).to_string()
            data-pinned=move || pinned.get().to_string()
            data-link=move || connection().map_or("connected", |(state, _)| state)
            aria-label=move || {
                let states = TileStates {
                    is_self: p.is_self,
                    muted: muted(),
                    camera_off: camera_off(),
                    camera_not_shown: camera_not_shown(),
                    pinned: pinned.get(),
                    hand: hand(),
                    speaking: speaking.get(),
                };
                nickname.with(|name| tile_label(t(), name, states))
            }
        >
            <StreamVideo stream=stream own=p.is_self />
            <div class="avatar" aria-hidden="true">{initial}</div>
            <Show when=hand>
                <span class="tile-hand" data-testid="tile-hand">{move || t().hand_raised}</span>
            </Show>
            <div class="tile-label">
                <span class="tile-name" data-testid="tile-name">
                    {move || nickname.get()}
                    {p.is_self.then_some(" (you)")}
                </span>
                <QualityIndicator quality=quality />
                <Show when=is_host.clone()>
                    <span class="badge badge-host" data-testid="tile-host" title=move || t().host>
                        "👑 "
                        {move || t().host}
                    </span>
                </Show>
                <Show when=muted>
                    <span class="badge" data-testid="tile-muted" title=move || t().microphone_off>
                        {move || t().muted}
                    </span>
                </Show>
                {(!p.is_self).then(|| {
                    let label = move || {
                        let template = if pinned.get() { t().unpin } else { t().pin };
                        nickname.with(|name| fill(template, &[("name", name)]))
                    };
                    view! {
                        <button
                            class="tile-pin"
                            class:on=move || pinned.get()
                            data-testid="tile-pin"
                            aria-pressed=move || pinned.get().to_string()
                            aria-label=label
                            title=label
                            on:click=move |_| toggle_pin.run(pin_id.clone())
                        >
                            "📌"
                        </button>
                    }
                })}
            </div>
            {move || {
                connection()
                    .map(|(state, text)| {
                        view! {
                            <span class=format!("link-state {state}") data-testid="tile-connection" role="status">
                                {text}
                            </span>
                        }
                    })
            }}
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tile_is_named_with_what_is_so() {
        let en = crate::i18n::Lang::En.texts();
        assert_eq!(tile_label(en, "Ana", TileStates::default()), "Ana");
        let states = TileStates {
            muted: true,
            speaking: true,
            ..TileStates::default()
        };
        assert_eq!(tile_label(en, "Ana", states), "Ana, muted, speaking");
        let me = TileStates {
            is_self: true,
            camera_off: true,
            hand: true,
            ..TileStates::default()
        };
        assert_eq!(
            tile_label(en, "Ben", me),
            "Ben (you), camera off, hand raised"
        );
    }
}
