//! Noom's web app: mounts [`app::App`]; everything else lives in the modules below.

mod app;
mod backoff;
mod components;
mod format;
mod i18n;
mod prefs;
mod reconnect;
mod rtc;
mod session;
mod shortcuts;
mod signaling;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
