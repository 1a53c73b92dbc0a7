//! A read-only window for tests and debugging: `window.__noom.peers` is a `Map` from remote
//! peer id to that peer's `RTCPeerConnection`, so `getStats()` can be read from the console or a
//! browser test; `window.__noom.sfu` is the connection to the SFU in a room that uses it. Links
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
            Reflect::set(&hook, &"peers".into(), &Map::new()).ok()?;
            Reflect::set(&window, &key, &hook).ok()?;
            hook.into()
        }
    };
    Some(hook)
}

fn peers() -> Option<Map> {
    Reflect::get(&hook()?, &"peers".into())
        .ok()?
        .dyn_into()
        .ok()
}

/// Shows `connection` as `window.__noom.sfu`, or removes it (`None`).
pub(super) fn set_sfu(connection: Option<&JsValue>) {
    if let Some(hook) = hook() {
        let connection = connection.cloned().unwrap_or(JsValue::UNDEFINED);
        let _ = Reflect::set(&hook, &"sfu".into(), &connection);
    }
}

pub(super) fn register(peer: &PeerId, connection: &JsValue) {
    if let Some(peers) = peers() {
        peers.set(&peer.as_str().into(), connection);
    }
}

pub(super) fn unregister(peer: &PeerId) {
    if let Some(peers) = peers() {
        peers.delete(&peer.as_str().into());
    }
}
