use std::time::Duration;

use leptos::prelude::*;
use web_sys::MediaStream;

use crate::i18n::t;
use crate::rtc::level::LevelMeter;

/// How often the meter redraws.
const REFRESH: Duration = Duration::from_millis(80);

/// A bar that follows the microphone's loudness, so people can check their mic before joining.
#[component]
pub fn MicLevel(
    /// The local stream; the meter follows its audio track.
    stream: ReadSignal<Option<MediaStream>, LocalStorage>,
    /// Off shows an empty bar.
    active: ReadSignal<bool>,
) -> impl IntoView {
    let level = RwSignal::new(0.0_f64);
    let meter = StoredValue::new_local(None::<LevelMeter>);
    Effect::new(move |_| {
        let next = stream.with(|s| s.as_ref().and_then(LevelMeter::new));
        meter.set_value(next);
    });
    if let Ok(handle) = set_interval_with_handle(
        move || {
            let now = meter
                .try_with_value(|m| m.as_ref().map_or(0.0, LevelMeter::level))
                .unwrap_or(0.0);
            level.try_set(if active.get_untracked() { now } else { 0.0 });
        },
        REFRESH,
    ) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <div class="meter" role="meter" aria-label=move || t().microphone_level aria-valuemin="0" aria-valuemax="100"
            aria-valuenow=move || format!("{:.0}", level.get() * 100.0)
            data-testid="mic-level"
        >
            <div class="meter-fill" style:width=move || format!("{:.0}%", level.get() * 100.0)></div>
        </div>
    }
}
