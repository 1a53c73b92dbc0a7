//! What the browser remembers between visits (localStorage).

const NICKNAME_KEY: &str = "noom.nickname";

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
