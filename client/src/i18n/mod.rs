//! The app's words in each language: one table per language (`en.rs`, `ko.rs`), each a
//! [`Texts`] whose every field must be filled, so a missing translation fails the build. A
//! third language is one more table and one more [`Lang`].
//!
//! The choice is a saved preference, else the browser's language, else English; the app
//! provides it as a context signal ([`provide_language`]), components read [`t`] inside a
//! reactive closure so that a change of language redraws them, and `<html lang>` follows it.
//! Texts with values in them are templates: `{name}` is filled by [`fill`].

mod en;
mod ko;

use leptos::prelude::*;
use noom_shared::ErrorCode;

use crate::prefs;

macro_rules! texts {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Every text of the app, in one language.
        pub struct Texts {
            $($(#[$doc])* pub $name: &'static str,)*
        }

        impl Texts {
            /// Each text with its field's name, for the tests.
            #[cfg(test)]
            pub fn all(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($name), self.$name)),*]
            }
        }
    };
}

texts! {
    tagline,
    start_title,
    your_name,
    name_example,
    room_name,
    room_example,
    join_or_create,
    rooms_now,
    connecting,
    server_unreachable,
    updated_reload,
    /// `{reason}`: the rule the name broke (in English, from the protocol).
    your_name_invalid,
    room_name_invalid,
    no_rooms,
    /// `{name}`
    join_room_named,
    join,
    full,
    locked,
    locked_hint,
    one_person,
    /// `{n}`
    n_people,
    language,
    // Pre-join.
    /// `{room}`
    join_title,
    camera_preview,
    camera_is_off,
    no_one_here,
    one_in_room,
    /// `{n}`
    n_in_room,
    room_full_now,
    waiting_for_devices,
    microphone_level,
    meeting_password,
    join_now,
    joining,
    back_to_lobby,
    only_microphone,
    only_camera,
    watch_and_listen,
    // The room's other screens.
    connecting_to_noom,
    waiting_title,
    /// `{room}`
    waiting_told,
    cancel,
    room_full_title,
    /// `{room}`, `{size}`
    room_full_text,
    something_wrong,
    lost_connection,
    not_a_room,
    // The call.
    microphone,
    camera,
    present,
    raise_hand,
    chat,
    people,
    stats,
    more_options,
    speaker_view,
    grid_view,
    /// A tile's pin button: `{name}` is the participant's.
    pin,
    unpin,
    presentation_large,
    devices,
    copy_invite,
    invite_copied,
    /// `{link}`
    copy_this_link,
    keyboard_shortcuts,
    leave,
    call_controls,
    reconnecting,
    close,
    // People and access.
    /// `{n}`
    people_heading,
    you,
    hand_raised,
    host,
    muted,
    mute,
    stop_video,
    make_host,
    remove,
    host_actions,
    who_can_join,
    anyone_can_join,
    needs_password,
    lobby_only,
    password_then_lobby,
    password_field,
    lobby_field,
    save,
    /// `{name}`
    wants_to_join,
    waiting_to_join,
    admit,
    deny,
    host_muted_mic,
    host_stopped_camera,
    host_removed_you,
    // Chat.
    message,
    write_message,
    send,
    /// `{name}`
    joined_line,
    /// `{name}`
    left_line,
    /// `{name}`
    raised_hand_line,
    // The server's refusals, by code.
    error_bad_message,
    error_too_large,
    error_invalid_room,
    error_invalid_nickname,
    error_invalid_text,
    error_room_full,
    error_not_in_room,
    error_already_in_room,
    error_unknown_peer,
    error_rate_limited,
    error_invalid_token,
    error_too_many_rooms,
    error_not_host,
    error_wrong_password,
    error_denied,
    error_bad_sdp,
    /// `wrong_password` when no password was given.
    password_needed,
    participants,
    page_not_found,
    nothing_here,
    noom_updated,
    older_version,
    reload,
    state_muted,
    state_camera_off,
    state_camera_not_shown,
    state_pinned,
    state_hand_raised,
    state_speaking,
    microphone_off,
    tile_connecting,
    tile_reconnecting,
    password_invalid,
    nickname_invalid,
    message_invalid,
    file_from,
    file_to_everyone,
    checksumming,
    waiting_accept,
    large_file_ask,
    checking,
    verified,
    not_delivered,
    accept,
    decline,
    sent_to,
    cancelled,
    cancelled_by_sender,
    you_declined,
    delivered_to,
    also_declined,
    also_left,
    refused_over,
    busy_declined,
    sender_left,
    sender_closed,
    connection_reset,
    cannot_read_file,
    no_checksum,
    unassembled,
    damaged,
    send_file,
    file_cap,
    file_too_big,
    file_empty,
    nobody_here,
    device_blocked,
    device_missing,
    device_insecure,
    device_failed,
    insecure_advice,
    screen_needs_https,
    screen_unsupported,
    screen_nothing,
    screen_insecure,
    screen_failed,
    shortcut_mic,
    shortcut_camera,
    shortcut_screen,
    shortcut_hand,
    shortcut_chat,
    shortcut_help,
    shortcut_close,
    connection_stats,
    nobody_else_yet,
    stats_who,
    stats_rtt,
    stats_loss,
    stats_in,
    stats_out,
    measuring,
    you_are_presenting,
    someones_screen,
    unreachable_relay,
    unreachable_direct,
    bytes,
    speaker,
    // The protocol's rules for names and text, as `InvalidValue::reason` states them.
    rule_empty,
    rule_room_too_long,
    rule_nickname_too_long,
    rule_control,
    rule_hidden,
    rule_blank,
    rule_chat_too_long,
    rule_chat_control,
    rule_password,
    /// `{numbers}`: round trip, loss and bitrates, as `Quality::summary` writes them.
    quality_good,
    quality_fair,
    quality_poor,
}

impl Texts {
    /// What the server's refusal `code` means, in these words.
    pub fn error(&self, code: ErrorCode) -> &'static str {
        match code {
            ErrorCode::BadMessage => self.error_bad_message,
            ErrorCode::TooLarge => self.error_too_large,
            ErrorCode::InvalidRoom => self.error_invalid_room,
            ErrorCode::InvalidNickname => self.error_invalid_nickname,
            ErrorCode::InvalidText => self.error_invalid_text,
            ErrorCode::RoomFull => self.error_room_full,
            ErrorCode::NotInRoom => self.error_not_in_room,
            ErrorCode::AlreadyInRoom => self.error_already_in_room,
            ErrorCode::UnknownPeer => self.error_unknown_peer,
            ErrorCode::RateLimited => self.error_rate_limited,
            ErrorCode::InvalidToken => self.error_invalid_token,
            ErrorCode::TooManyRooms => self.error_too_many_rooms,
            ErrorCode::NotHost => self.error_not_host,
            ErrorCode::WrongPassword => self.error_wrong_password,
            ErrorCode::Denied => self.error_denied,
            ErrorCode::BadSdp => self.error_bad_sdp,
        }
    }

    /// The protocol's rule `reason` (English, from `InvalidValue`) in these words; a rule
    /// this table does not know stays as it is.
    pub fn rule(&self, reason: &'static str) -> &'static str {
        let en = &en::EN;
        [
            (en.rule_empty, self.rule_empty),
            (en.rule_room_too_long, self.rule_room_too_long),
            (en.rule_nickname_too_long, self.rule_nickname_too_long),
            (en.rule_control, self.rule_control),
            (en.rule_hidden, self.rule_hidden),
            (en.rule_blank, self.rule_blank),
            (en.rule_chat_too_long, self.rule_chat_too_long),
            (en.rule_chat_control, self.rule_chat_control),
            (en.rule_password, self.rule_password),
        ]
        .into_iter()
        .find_map(|(english, ours)| (english == reason).then_some(ours))
        .unwrap_or(reason)
    }

    /// "1 person" or "3 people".
    pub fn people_count(&self, n: usize) -> String {
        match n {
            1 => self.one_person.to_owned(),
            n => fill(self.n_people, &[("n", &n.to_string())]),
        }
    }
}

/// A language the app speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ko,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ko];

    pub fn texts(self) -> &'static Texts {
        match self {
            Self::En => &en::EN,
            Self::Ko => &ko::KO,
        }
    }

    /// The BCP 47 tag, for `<html lang>` and the saved preference.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ko => "ko",
        }
    }

    /// The language's own name for itself, for the picker.
    pub fn own_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Ko => "한국어",
        }
    }

    /// The language of a tag such as `ko-KR` or `en`, if the app speaks it.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        Self::ALL.into_iter().find(|lang| lang.tag() == primary)
    }
}

/// `template` with each `{key}` replaced by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (key, value)| {
            text.replace(&format!("{{{key}}}"), value)
        })
}

/// The language at start: the saved choice, else the browser's, else English.
fn initial_language() -> Lang {
    prefs::language()
        .and_then(|tag| Lang::from_tag(&tag))
        .or_else(|| {
            let browser = web_sys::window()?.navigator().language()?;
            Lang::from_tag(&browser)
        })
        .unwrap_or(Lang::En)
}

/// Makes the language a context for the whole app; `<html lang>` follows it.
pub fn provide_language() {
    let lang = RwSignal::new(initial_language());
    Effect::new(move |_| {
        let tag = lang.get().tag();
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("lang", tag);
        }
    });
    provide_context(lang);
}

/// The language chosen now (tracked where it is read reactively).
pub fn language() -> RwSignal<Lang> {
    use_context::<RwSignal<Lang>>().unwrap_or_else(|| RwSignal::new(Lang::En))
}

/// Chooses `lang` and remembers it for the next visit.
pub fn choose(lang: Lang) {
    prefs::remember_language(lang.tag());
    language().set(lang);
}

/// The texts of the language chosen now.
pub fn t() -> &'static Texts {
    use_context::<RwSignal<Lang>>()
        .map_or(Lang::En, |lang| lang.get())
        .texts()
}

/// Like [`t`], without subscribing: for text fixed when something happens (a notice).
pub fn t_now() -> &'static Texts {
    use_context::<RwSignal<Lang>>()
        .map_or(Lang::En, |lang| lang.get_untracked())
        .texts()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts that are the same in every language.
    const SAME_EVERYWHERE: &[&str] = &["Noom"];

    fn placeholders(text: &str) -> Vec<&str> {
        let mut found: Vec<&str> = text
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(key, _)| key))
            .collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn every_korean_text_exists_differs_and_keeps_the_placeholders() {
        for ((field, en), (_, ko)) in en::EN.all().into_iter().zip(ko::KO.all()) {
            assert!(!ko.trim().is_empty(), "{field} is empty in Korean");
            assert!(
                ko != en || SAME_EVERYWHERE.contains(&en),
                "{field} is not translated: {en:?}"
            );
            assert_eq!(placeholders(en), placeholders(ko), "{field}'s placeholders");
        }
    }

    #[test]
    fn every_rule_of_the_protocol_is_said_in_korean() {
        use noom_shared::{ChatText, Nickname, RoomName, RoomPassword};
        let reasons = [
            Nickname::new("").unwrap_err().reason,
            Nickname::new(&"n".repeat(33)).unwrap_err().reason,
            Nickname::new("a\u{7}").unwrap_err().reason,
            Nickname::new("a\u{200B}").unwrap_err().reason,
            Nickname::new("\u{2800}").unwrap_err().reason,
            RoomName::new(&"r".repeat(65)).unwrap_err().reason,
            ChatText::new(&"x".repeat(2001)).unwrap_err().reason,
            ChatText::new("bell\u{7}").unwrap_err().reason,
            RoomPassword::new("").unwrap_err().reason,
        ];
        for reason in reasons {
            let said = ko::KO.rule(reason);
            assert_ne!(said, reason, "{reason:?} has no Korean words");
            assert_eq!(en::EN.rule(reason), reason);
        }
    }

    #[test]
    fn languages_come_from_tags_and_templates_are_filled() {
        assert_eq!(Lang::from_tag("ko-KR"), Some(Lang::Ko));
        assert_eq!(Lang::from_tag("en_US"), Some(Lang::En));
        assert_eq!(Lang::from_tag("fr-FR"), None);
        assert_eq!(fill("{n} people", &[("n", "3")]), "3 people");
        assert_eq!(en::EN.people_count(1), "1 person");
        assert_eq!(ko::KO.people_count(4), "4명");
    }
}
