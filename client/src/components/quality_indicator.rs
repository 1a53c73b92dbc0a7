use leptos::prelude::*;

use crate::i18n::{fill, t};
use crate::rtc::stats::{Grade, Quality};

/// Three signal bars for a link's quality (good, fair, poor), with the numbers in the tooltip
/// and for screen readers.
#[component]
pub fn QualityIndicator(
    /// The link's last stats sample; nothing is shown before the first.
    quality: ReadSignal<Option<Quality>>,
) -> impl IntoView {
    move || {
        quality.get().map(|q| {
            let texts = t();
            let (grade, bars, words) = match q.grade() {
                Grade::Good => ("good", 3, texts.quality_good),
                Grade::Fair => ("fair", 2, texts.quality_fair),
                Grade::Poor => ("poor", 1, texts.quality_poor),
            };
            let summary = fill(words, &[("numbers", &q.summary(texts))]);
            view! {
                <span
                    class=format!("quality {grade}")
                    data-testid="tile-quality"
                    data-grade=grade
                    title=summary.clone()
                    role="img"
                    aria-label=summary
                >
                    {(1..=3)
                        .map(|i| view! { <span class="bar" class:lit=i <= bars></span> })
                        .collect_view()}
                </span>
            }
        })
    }
}
