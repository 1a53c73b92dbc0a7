//! The room's chat: messages, and a line when someone joins, leaves or raises a hand.

use leptos::prelude::*;
use noom_shared::{ChatMessage, ChatSend, ChatText, ClientMessage, InvalidValue};

use super::Session;
use crate::i18n::{Texts, fill};

/// One line of the chat panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// Unique within the session, for keyed lists.
    pub key: usize,
    pub kind: ChatKind,
}

/// What a chat line says, as data; the chat panel puts it in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatKind {
    Message {
        nickname: String,
        text: String,
        /// Server time, ms since the epoch.
        ts: u64,
        mine: bool,
    },
    Joined(String),
    Left(String),
    RaisedHand(String),
}

impl ChatKind {
    /// The line in `texts`' words, as a screen reader announces it; `None` for our own
    /// messages.
    pub fn spoken(&self, texts: &Texts) -> Option<String> {
        let about = |template, nickname: &str| fill(template, &[("name", nickname)]);
        Some(match self {
            Self::Message { mine: true, .. } => return None,
            Self::Message { nickname, text, .. } => format!("{nickname}: {text}"),
            Self::Joined(nickname) => about(texts.joined_line, nickname),
            Self::Left(nickname) => about(texts.left_line, nickname),
            Self::RaisedHand(nickname) => about(texts.raised_hand_line, nickname),
        })
    }
}

impl Session {
    /// Sends a chat message, after checking it as the server would.
    pub fn send_chat(self, text: &str) -> Result<(), InvalidValue> {
        let text = ChatText::new(text)?;
        self.send(ClientMessage::Chat(ChatSend { text }));
        Ok(())
    }

    pub(super) fn on_chat(self, chat: ChatMessage) {
        let mine = self
            .inner
            .with_value(|i| i.self_id.as_ref() == Some(&chat.from));
        self.push_line(ChatKind::Message {
            nickname: chat.nickname.to_string(),
            text: chat.text.to_string(),
            ts: chat.ts,
            mine,
        });
    }

    pub(super) fn push_line(self, kind: ChatKind) {
        let Some(key) = self.next_key() else { return };
        self.chat
            .try_update(|lines| lines.push(ChatLine { key, kind }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_spoken_but_our_own_messages() {
        let message = |mine| ChatKind::Message {
            nickname: "Ana".into(),
            text: "hi".into(),
            ts: 0,
            mine,
        };
        let en = crate::i18n::Lang::En.texts();
        assert_eq!(message(false).spoken(en).as_deref(), Some("Ana: hi"));
        assert_eq!(message(true).spoken(en), None);
        assert_eq!(
            ChatKind::RaisedHand("Ben".into()).spoken(en).as_deref(),
            Some("Ben raised a hand")
        );
    }
}
