use leptos::prelude::*;

use crate::i18n::{self, Lang, t};

/// Chooses the app's language (remembered for the next visit); each language is listed in its
/// own words.
#[component]
pub fn LanguagePicker() -> impl IntoView {
    let lang = i18n::language();
    let choose = move |ev: leptos::ev::Event| {
        let tag = event_target_value(&ev);
        if let Some(chosen) = Lang::from_tag(&tag) {
            i18n::choose(chosen);
        }
    };
    view! {
        <label class="language-picker">
            <span>{move || t().language}</span>
            <select data-testid="language" on:change=choose prop:value=move || lang.get().tag()>
                {Lang::ALL
                    .into_iter()
                    .map(|option| view! {
                        <option value=option.tag() lang=option.tag()>{option.own_name()}</option>
                    })
                    .collect_view()}
            </select>
        </label>
    }
}
