//! The call's keyboard shortcuts, in one table: the key handler, the help dialog and the
//! buttons' tooltips all read it.

use crate::i18n::Texts;

/// What a shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ToggleMic,
    ToggleCamera,
    ToggleScreen,
    ToggleHand,
    ToggleChat,
    ShowHelp,
    CloseDialog,
}

pub struct Shortcut {
    /// The key as shown (`"M"`) and as `KeyboardEvent.key` names it, either case.
    pub key: &'static str,
    pub action: Action,
    /// What it does, for the help dialog, in the given language's words.
    pub what: fn(&Texts) -> &'static str,
}

pub const SHORTCUTS: [Shortcut; 7] = [
    shortcut("M", Action::ToggleMic, |t| t.shortcut_mic),
    shortcut("V", Action::ToggleCamera, |t| t.shortcut_camera),
    shortcut("S", Action::ToggleScreen, |t| t.shortcut_screen),
    shortcut("H", Action::ToggleHand, |t| t.shortcut_hand),
    shortcut("C", Action::ToggleChat, |t| t.shortcut_chat),
    shortcut("?", Action::ShowHelp, |t| t.shortcut_help),
    shortcut("Esc", Action::CloseDialog, |t| t.shortcut_close),
];

const fn shortcut(key: &'static str, action: Action, what: fn(&Texts) -> &'static str) -> Shortcut {
    Shortcut { key, action, what }
}

/// The action of a pressed key (`KeyboardEvent.key`), if it has one.
pub fn action_for(key: &str) -> Option<Action> {
    let key = if key == "Escape" { "Esc" } else { key };
    SHORTCUTS
        .iter()
        .find(|s| s.key.eq_ignore_ascii_case(key))
        .map(|s| s.action)
}

/// The key shown for `action`, for a tooltip such as "Present your screen (S)".
pub fn key_for(action: Action) -> &'static str {
    SHORTCUTS
        .iter()
        .find(|s| s.action == action)
        .map_or("", |s| s.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_in_either_case_and_escape_closes() {
        assert_eq!(action_for("m"), Some(Action::ToggleMic));
        assert_eq!(action_for("M"), Some(Action::ToggleMic));
        assert_eq!(action_for("s"), Some(Action::ToggleScreen));
        assert_eq!(action_for("?"), Some(Action::ShowHelp));
        assert_eq!(action_for("Escape"), Some(Action::CloseDialog));
        assert_eq!(action_for("x"), None);
        assert_eq!(action_for("Enter"), None);
    }

    #[test]
    fn every_action_has_exactly_one_key() {
        for shortcut in &SHORTCUTS {
            let same = SHORTCUTS
                .iter()
                .filter(|s| s.action == shortcut.action)
                .count();
            let keys = SHORTCUTS.iter().filter(|s| s.key == shortcut.key).count();
            assert_eq!((same, keys), (1, 1), "{}", shortcut.key);
            assert_eq!(key_for(shortcut.action), shortcut.key);
        }
    }
}
