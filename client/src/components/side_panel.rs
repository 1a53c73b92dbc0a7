use leptos::prelude::*;

use crate::components::icons::{Icon, IconView};
use crate::i18n::t;

/// The panels that share the call's side column; one is open at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidePanel {
    Chat,
    People,
    Stats,
}

impl SidePanel {
    /// The panel's name, as its button shows it, in the chosen language.
    pub fn title(self) -> &'static str {
        let texts = t();
        match self {
            Self::Chat => texts.chat,
            Self::People => texts.people,
            Self::Stats => texts.stats,
        }
    }

    /// The id of the panel's `<aside>`.
    fn panel_id(self) -> &'static str {
        match self {
            Self::Chat => "panel-chat",
            Self::People => "panel-people",
            Self::Stats => "panel-stats",
        }
    }

    fn testid(self) -> &'static str {
        match self {
            Self::Chat => "toggle-chat",
            Self::People => "toggle-people",
            Self::Stats => "toggle-stats",
        }
    }
}

/// Opens `which` in the side column, or closes it when it is already open.
pub fn toggle(open: RwSignal<Option<SidePanel>>, which: SidePanel) {
    open.update(|o| *o = if *o == Some(which) { None } else { Some(which) });
}

/// The control-bar button that opens or closes one side panel (`aria-pressed` while open).
#[component]
pub fn PanelButton(
    /// The side column's open panel.
    open: RwSignal<Option<SidePanel>>,
    /// The panel this button is for.
    which: SidePanel,
    /// How many items to show beside the name (raised hands, say); none when 0.
    #[prop(optional, into)]
    count: Option<Signal<usize>>,
    /// Shown instead of the name, which is then the tooltip and the accessible name.
    #[prop(optional)]
    icon: Option<Icon>,
) -> impl IntoView {
    let badge = move || {
        count
            .map(|c| c.get())
            .filter(|n| *n > 0)
            .map(|n| view! { <span class="count-badge">{n}</span> })
    };
    view! {
        <button
            type="button"
            class:icon-button=icon.is_some()
            aria-pressed=move || (open.get() == Some(which)).to_string()
            aria-controls=which.panel_id()
            aria-label=move || icon.map(|_| which.title())
            title=move || icon.map(|_| which.title())
            data-testid=which.testid()
            on:click=move |_| toggle(open, which)
        >
            {match icon {
                Some(icon) => view! { <IconView icon /> }.into_any(),
                None => (move || which.title()).into_any(),
            }}
            {badge}
        </button>
    }
}
