//! The room's chat: messages, and a line when someone joins, leaves or raises a hand.

use leptos::prelude::*;
use noom_shared::{ChatMessage, ChatSend, ChatText, ClientMessage, InvalidValue};

use super::Session;

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
    /// The line in words, as a screen reader announces it; `None` for our own messages.
    pub fn spoken(&self) -> Option<String> {
        Some(match self {
            Self::Message { mine: true, .. } => return None,
            Self::Message { nickname, text, .. } => format!("{nickname}: {text}"),
            Self::Joined(nickname) => format!("{nickname} joined"),
            Self::Left(nickname) => format!("{nickname} left"),
            Self::RaisedHand(nickname) => format!("{nickname} raised a hand"),
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
        assert_eq!(message(false).spoken().as_deref(), Some("Ana: hi"));
        assert_eq!(message(true).spoken(), None);
        assert_eq!(
            ChatKind::RaisedHand("Ben".into()).spoken().as_deref(),
            Some("Ben raised a hand")
        );
    }
}
