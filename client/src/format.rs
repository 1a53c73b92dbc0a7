//! Numbers and times put in words for people.

/// `bytes` for people: "100 MB", "5.0 MB", "16 KB", "12 bytes" (`bytes_word`: "바이트" in
/// Korean).
pub fn human_size(bytes_word: &str, bytes: u64) -> String {
    // Sizes are shown rounded; precision loss above 2^52 bytes does not matter.
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    match bytes {
        0..1_000 => format!("{bytes} {bytes_word}"),
        1_000..1_000_000 => format!("{:.0} KB", b / 1e3),
        1_000_000..10_000_000 => format!("{:.1} MB", b / 1e6),
        10_000_000..1_000_000_000 => format!("{:.0} MB", b / 1e6),
        _ => format!("{:.2} GB", b / 1e9),
    }
}

/// `ts` (ms since the epoch) as the local time of day, hours and minutes, the way `lang`
/// (a BCP 47 tag) writes it (`Intl`): "15:04" or "03:04 PM", "오후 03:04".
pub fn clock_time(lang: &str, ts: u64) -> String {
    // Millisecond timestamps fit an f64 exactly until the year 287396.
    #[allow(clippy::cast_precision_loss)]
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ts as f64));
    let options = js_sys::Object::new();
    for key in ["hour", "minute"] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &"2-digit".into());
    }
    date.to_locale_time_string_with_options(lang, &options)
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_rounded_to_their_unit() {
        assert_eq!(human_size("bytes", 0), "0 bytes");
        assert_eq!(human_size("bytes", 999), "999 bytes");
        assert_eq!(human_size("bytes", 16_384), "16 KB");
        assert_eq!(human_size("bytes", 5_000_000), "5.0 MB");
        assert_eq!(human_size("bytes", 100_000_000), "100 MB");
        assert_eq!(human_size("bytes", 2_500_000_000), "2.50 GB");
    }
}
