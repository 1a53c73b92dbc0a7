//! A read-only window for tests and debugging: `window.__noom.peers` is a `Map` from remote
//! peer id to that peer's `RTCPeerConnection`, so `getStats()` can be read from the console or a
//! browser test; `window.__noom.files` is the same for the links that carry only files (in an
//! SFU room); `window.__noom.sfu` is the connection to the SFU in a room that uses it. Links
//! add themselves when opened and remove themselves when closed.

use js_sys::{Map, Object, Reflect};
use noom_shared::PeerId;
use wasm_bindgen::{JsCast, JsValue};

fn hook() -> Option<JsValue> {
    let window: JsValue = web_sys::window()?.into();
    let key = JsValue::from_str("__noom");
    let hook = Reflect::get(&window, &key).ok().filter(JsValue::is_object);
    let hook = match hook {
        Some(hook) => hook,
        None => {
            let hook = Object::new();
            for links in [Links::Media, Links::Files] {
                Reflect::set(&hook, &links.name().into(), &Map::new()).ok()?;
            }
            Reflect::set(&window, &key, &hook).ok()?;
            hook.into()
        }
    };
    Some(hook)
}

/// Which map a peer link is listed in.
#[derive(Debug, Clone, Copy)]
pub(super) enum Links {
    /// Links that carry media (and files), in the mesh.
    Media,
    /// Links that carry only files, in an SFU room.
    Files,
}

impl Links {
    /// The map for a link that carries only files, or media too.
    pub(super) fn of(files_only: bool) -> Self {
        if files_only { Self::Files } else { Self::Media }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Media => "peers",
            Self::Files => "files",
        }
    }

    fn map(self) -> Option<Map> {
        Reflect::get(&hook()?, &self.name().into())
            .ok()?
            .dyn_into()
            .ok()
    }
}

/// Shows `connection` as `window.__noom.sfu`, or removes it (`None`).
pub(super) fn set_sfu(connection: Option<&JsValue>) {
    if let Some(hook) = hook() {
        let connection = connection.cloned().unwrap_or(JsValue::UNDEFINED);
        let _ = Reflect::set(&hook, &"sfu".into(), &connection);
    }
}

pub(super) fn register(links: Links, peer: &PeerId, connection: &JsValue) {
    if let Some(map) = links.map() {
        map.set(&peer.as_str().into(), connection);
    }
}

pub(super) fn unregister(links: Links, peer: &PeerId) {
    if let Some(map) = links.map() {
        map.delete(&peer.as_str().into());
    }
}
