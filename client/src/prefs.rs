//! What the browser remembers between visits (localStorage).

const NICKNAME_KEY: &str = "noom.nickname";
const LANGUAGE_KEY: &str = "noom.language";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The nickname used last time, or an empty string.
pub fn nickname() -> String {
    storage()
        .and_then(|s| s.get_item(NICKNAME_KEY).ok().flatten())
        .unwrap_or_default()
}

/// Remembers the nickname for the next visit (private windows may refuse; that is fine).
pub fn remember_nickname(nickname: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(NICKNAME_KEY, nickname);
    }
}

/// The language chosen last time (a tag such as `ko`), if any.
pub fn language() -> Option<String> {
    storage().and_then(|s| s.get_item(LANGUAGE_KEY).ok().flatten())
}

/// Remembers the chosen language for the next visit.
pub fn remember_language(tag: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(LANGUAGE_KEY, tag);
    }
}
