//! Validated names and ids. Each type's constructor enforces the protocol's rules, and serde
//! deserializes through it (`try_from = "String"`), so an invalid value is rejected by the parser.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// Longest room name, in characters, after trimming.
pub const MAX_ROOM_NAME_CHARS: usize = 64;
/// Longest nickname, in characters, after trimming.
pub const MAX_NICKNAME_CHARS: usize = 32;
/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 2000;
/// Longest peer id, in characters.
pub const MAX_PEER_ID_CHARS: usize = 64;

/// Why a value was refused. Its `Display` starts with the wire code (`invalid_room: ...`): serde
/// keeps only the text of a custom error, and [`crate::DecodeError`] reads the code back from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {reason}")]
pub struct InvalidValue {
    pub code: ErrorCode,
    pub reason: &'static str,
}

/// Characters that change how text around them is shown without showing themselves: bidi
/// overrides and isolates (which can make `gpj.exe` read as `exe.jpg`), zero-width spaces and
/// joiners of words, the byte-order mark, tags, and the Hangul fillers used for blank names.
/// Zero-width (non-)joiners (U+200C, U+200D) and variation selectors are not here: scripts
/// and emoji need them.
fn is_hidden_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{180E}' | '\u{200B}' | '\u{200E}' | '\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}'
        | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}')
}

/// Characters that show nothing on their own: white space, the joiners and variation
/// selectors allowed inside a name, the Braille blank.
fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200C}' | '\u{200D}' | '\u{2800}' | '\u{FE00}'
                ..='\u{FE0F}' | '\u{034F}' | '\u{00AD}'
        )
}

/// `text` without the characters of [`is_hidden_format`] and control characters, for showing
/// a name that was not validated here (a file's name from another browser).
pub fn visible_text(text: &str) -> String {
    text.chars()
        .filter(|&c| !is_hidden_format(c) && !c.is_control())
        .collect()
}

/// `text` in Unicode NFC (with the `nfc` feature, which the server has; the client checks
/// the rest and leaves normalising to the server).
#[cfg(feature = "nfc")]
fn normal_form(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfc().collect()
}

#[cfg(not(feature = "nfc"))]
fn normal_form(text: &str) -> String {
    text.to_owned()
}

fn validate_label(
    raw: &str,
    max_chars: usize,
    code: ErrorCode,
    too_long: &'static str,
) -> Result<String, InvalidValue> {
    let normal = normal_form(raw.trim());
    let fail = |reason| Err(InvalidValue { code, reason });
    if normal.is_empty() {
        return fail("must not be empty");
    }
    if normal.chars().count() > max_chars {
        return fail(too_long);
    }
    if normal.chars().any(char::is_control) {
        return fail("must not contain control characters");
    }
    if normal.chars().any(is_hidden_format) {
        return fail("must not contain invisible formatting characters");
    }
    if normal.chars().all(is_blank) {
        return fail("must contain something visible");
    }
    Ok(normal)
}

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(raw: String) -> Result<Self, InvalidValue> {
                Self::new(&raw)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidValue;
            fn try_from(raw: &str) -> Result<Self, InvalidValue> {
                Self::new(raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_newtype!(
    /// A room's name: 1 to 64 characters after trimming, no control characters. Names are
    /// compared exactly (case matters), as they appear in `/room/<name>` links.
    RoomName
);

impl RoomName {
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        validate_label(
            raw,
            MAX_ROOM_NAME_CHARS,
            ErrorCode::InvalidRoom,
            "must be at most 64 characters",
        )
        .map(Self)
    }
}

string_newtype!(
    /// A participant's display name: 1 to 32 characters after trimming, no control characters.
    Nickname
);

impl Nickname {
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        validate_label(
            raw,
            MAX_NICKNAME_CHARS,
            ErrorCode::InvalidNickname,
            "must be at most 32 characters",
        )
        .map(Self)
    }
}

#[cfg(feature = "nfc")]
impl Nickname {
    /// Whether the two name the same person to a reader: equal ignoring case and width
    /// (`ＡＮＡ`, `Ana` and `ana` are one), by NFKC and lower case.
    pub fn same_as(&self, other: &Nickname) -> bool {
        use unicode_normalization::UnicodeNormalization;
        let folded =
            |name: &Nickname| -> String { name.nfkc().flat_map(char::to_lowercase).collect() };
        folded(self) == folded(other)
    }
}

string_newtype!(
    /// A chat message: 1 to 2000 characters, not only white space; line breaks and tabs are
    /// allowed, other control characters are not. Kept exactly as sent (not trimmed).
    ChatText
);

impl ChatText {
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        let fail = |reason| {
            Err(InvalidValue {
                code: ErrorCode::InvalidText,
                reason,
            })
        };
        if raw.trim().is_empty() {
            return fail("must not be empty");
        }
        if raw.chars().count() > MAX_CHAT_CHARS {
            return fail("must be at most 2000 characters");
        }
        if raw
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return fail("must not contain control characters other than line breaks and tabs");
        }
        Ok(Self(raw.to_owned()))
    }
}

string_newtype!(
    /// A connection's id, chosen by the server: 1 to 64 ASCII letters, digits, `-` or `_`.
    PeerId
);

impl PeerId {
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        let fail = |reason| {
            Err(InvalidValue {
                code: ErrorCode::UnknownPeer,
                reason,
            })
        };
        if raw.is_empty() || raw.len() > MAX_PEER_ID_CHARS {
            return fail("peer id must be 1 to 64 characters");
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return fail("peer id may only hold letters, digits, '-' and '_'");
        }
        Ok(Self(raw.to_owned()))
    }
}

string_newtype!(
    /// A secret that lets a connection take back a seat its previous connection lost: 16 to
    /// 64 ASCII letters and digits, chosen by the server.
    ResumeToken
);

impl ResumeToken {
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        if (16..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue {
                code: ErrorCode::InvalidToken,
                reason: "not a resume token",
            })
        }
    }
}

/// Longest room password, in characters.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A room's password as a person typed it: 1 to 128 characters, no control characters. Its
/// `Debug` does not show it, so that it cannot reach a log by accident; the server keeps only
/// a hash of it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomPassword(String);

impl RoomPassword {
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        let fine = (1..=MAX_PASSWORD_CHARS).contains(&raw.chars().count())
            && !raw.chars().any(char::is_control);
        if fine {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue {
                code: ErrorCode::BadMessage,
                reason: "must be 1 to 128 characters, without control characters",
            })
        }
    }

    /// The password itself, to hash or to check.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RoomPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoomPassword(…)")
    }
}

impl TryFrom<String> for RoomPassword {
    type Error = InvalidValue;
    fn try_from(raw: String) -> Result<Self, InvalidValue> {
        Self::new(&raw)
    }
}

impl From<RoomPassword> for String {
    fn from(value: RoomPassword) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "nfc")]
    #[test]
    fn nicknames_are_the_same_ignoring_case_and_width() {
        let nick = |raw| Nickname::new(raw).unwrap();
        assert!(nick("Ana").same_as(&nick("ana")));
        assert!(
            nick("Ana").same_as(&nick("\u{FF21}\u{FF4E}\u{FF41}")),
            "fullwidth"
        );
        assert!(!nick("Ana").same_as(&nick("Anna")));
    }

    #[test]
    fn names_are_normalised_and_invisible_tricks_refused() {
        // "é" composed and decomposed are one name (where names are normalised).
        #[cfg(feature = "nfc")]
        assert_eq!(
            RoomName::new("caf\u{0065}\u{0301}").unwrap(),
            RoomName::new("caf\u{00E9}").unwrap()
        );
        for (raw, why) in [
            (
                "standup\u{200B}",
                "a zero-width space makes a look-alike room",
            ),
            ("gpj\u{202E}exe", "a bidi override reverses what follows"),
            ("\u{2066}Ana\u{2069}", "bidi isolates"),
            ("\u{3164}", "a Hangul filler shows nothing"),
            ("\u{200D}\u{FE0F}", "joiners alone show nothing"),
            ("\u{2800}\u{2800}", "Braille blanks"),
        ] {
            assert!(Nickname::new(raw).is_err(), "{why}: {raw:?}");
            assert!(RoomName::new(raw).is_err(), "{why}: {raw:?}");
        }
        for fine in [
            "김민지",
            "Zoë",
            "👨\u{200D}👩\u{200D}👧",
            "❤\u{FE0F}",
            "می\u{200C}خواهم",
        ] {
            assert!(Nickname::new(fine).is_ok(), "{fine:?}");
        }
        assert_eq!(visible_text("photo\u{202E}gpj.exe"), "photogpj.exe");
    }

    #[test]
    fn room_names_are_trimmed_and_bounded() {
        assert_eq!(RoomName::new("  standup ").unwrap().as_str(), "standup");
        assert_eq!(RoomName::new(&"é".repeat(64)).unwrap().chars().count(), 64);
        assert_eq!(
            RoomName::new(&"é".repeat(65)).unwrap_err().code,
            ErrorCode::InvalidRoom
        );
        assert!(RoomName::new("   ").is_err());
        assert!(RoomName::new("a\u{0}b").is_err());
        assert!(RoomName::new("Café ☕").is_ok());
    }

    #[test]
    fn nicknames_are_bounded() {
        assert!(Nickname::new(&"n".repeat(32)).is_ok());
        let err = Nickname::new(&"n".repeat(33)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidNickname);
        assert_eq!(
            err.to_string(),
            "invalid_nickname: must be at most 32 characters"
        );
    }

    #[test]
    fn chat_text_keeps_line_breaks_and_refuses_blank() {
        assert_eq!(
            ChatText::new(" hi\nthere ").unwrap().as_str(),
            " hi\nthere "
        );
        assert!(ChatText::new(" \n ").is_err());
        assert!(ChatText::new(&"x".repeat(2000)).is_ok());
        assert!(ChatText::new(&"x".repeat(2001)).is_err());
        assert!(ChatText::new("bell\u{7}").is_err());
    }

    #[test]
    fn peer_ids_are_plain_ascii() {
        assert!(PeerId::new("a-B_9").is_ok());
        assert!(PeerId::new("").is_err());
        assert!(PeerId::new("a b").is_err());
        assert!(PeerId::new(&"a".repeat(65)).is_err());
    }

    #[test]
    fn passwords_are_bounded_and_never_shown() {
        let password = RoomPassword::new("sesame 42").unwrap();
        assert_eq!(password.expose(), "sesame 42");
        assert_eq!(format!("{password:?}"), "RoomPassword(…)");
        assert!(RoomPassword::new("").is_err());
        assert!(RoomPassword::new(&"p".repeat(129)).is_err());
        assert!(RoomPassword::new("tab\t").is_err());
    }

    #[test]
    fn deserializing_validates() {
        let err = serde_json::from_str::<RoomName>("\"\"").unwrap_err();
        assert!(err.to_string().starts_with("invalid_room:"), "{err}");
    }
}
