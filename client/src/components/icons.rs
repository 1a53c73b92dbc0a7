use leptos::prelude::*;

/// The control bar's pictures, drawn inline (no icon font to download), in the text colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    Mic,
    Camera,
    Screen,
    Hand,
    Chat,
    People,
    More,
    Leave,
}

impl Icon {
    /// The SVG path data, on a 24 x 24 grid, drawn with a 2-pixel stroke.
    fn path(self) -> &'static str {
        match self {
            Self::Mic => {
                "M12 3a3 3 0 0 1 3 3v5a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z M5 11a7 7 0 0 0 14 0 M12 18v3"
            }
            Self::Camera => {
                "M4 7h10a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1z M15 11l6-3v8l-6-3"
            }
            Self::Screen => {
                "M4 4h16a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1z M8 20h8 M12 16v4 M12 13V7 M9 10l3-3 3 3"
            }
            Self::Hand => {
                "M8 13V6.5a1.5 1.5 0 0 1 3 0V11 M11 11V4.5a1.5 1.5 0 0 1 3 0V11 M14 11V6.5a1.5 1.5 0 0 1 3 0V14a6 6 0 0 1-6 6h-.5a6 6 0 0 1-5-2.7L4 14.5a1.5 1.5 0 0 1 2.6-1.5L8 15"
            }
            Self::Chat => "M4 5h16v11H9l-5 4z",
            Self::People => {
                "M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M3 20a6 6 0 0 1 12 0 M16 11a2.5 2.5 0 1 0 0-5 M17 14a5 5 0 0 1 4 6"
            }
            Self::More => "M5 12h.01 M12 12h.01 M19 12h.01",
            Self::Leave => {
                "M3 14.5c5-4.7 13-4.7 18 0l-2.2 2.6-3.3-1.4V13a10 10 0 0 0-7 0v2.7l-3.3 1.4z"
            }
        }
    }
}

/// `icon`, hidden from screen readers (its button carries the name); `crossed`, it is struck
/// through, for a device that is off.
#[component]
pub fn IconView(icon: Icon, #[prop(optional, into)] crossed: Signal<bool>) -> impl IntoView {
    let round = if icon == Icon::More { "4" } else { "2" };
    view! {
        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <path d=icon.path() fill="none" stroke="currentColor" stroke-width=round stroke-linecap="round" stroke-linejoin="round" />
            <Show when=move || crossed.get()>
                <path d="M4 4l16 16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
            </Show>
        </svg>
    }
}
