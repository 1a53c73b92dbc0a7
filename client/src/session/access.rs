//! Who gets into the room: our password (from the invite link's `#pw=`, or typed when the
//! server asks), waiting in the lobby for the host, and, as host, the room's password and
//! lobby and the knocks of those waiting.

use leptos::prelude::*;
use noom_shared::{
    ClientMessage, Empty, InvalidValue, PeerId, PeerInfo, PeerTarget, RoomAccess, RoomName,
    RoomPassword, SetRoomAccess,
};

use super::Session;
use super::welcome::Phase;
use crate::i18n::t_now;

/// The invite link's fragment key for the password: `/room/x#pw=...`. A fragment never leaves
/// the browser in a request, so the password reaches the server only inside `join`.
const PASSWORD_KEY: &str = "pw=";

/// The password an address's fragment (`#pw=...`, percent-encoded) carries, if any.
pub fn password_in_fragment(fragment: &str) -> Option<String> {
    let encoded = fragment
        .trim_start_matches('#')
        .strip_prefix(PASSWORD_KEY)?;
    percent_decode(encoded).filter(|p| !p.is_empty())
}

/// The link that invites to `room` at `origin`, carrying `password` if there is one.
pub fn invite_link(origin: &str, room: &RoomName, password: Option<&str>) -> String {
    let mut link = format!("{origin}/room/{}", percent_encode(room.as_str()));
    if let Some(password) = password {
        link.push('#');
        link.push_str(PASSWORD_KEY);
        link.push_str(&percent_encode(password));
    }
    link
}

/// `text` with every byte but ASCII letters, digits and `-._~` as `%XX`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// The knocks still waiting, after `peer` stopped waiting (let in, turned away, or gone).
fn without(knocks: &mut Vec<PeerInfo>, peer: &PeerId) {
    knocks.retain(|k| k.peer_id != *peer);
}

impl Session {
    /// The room's password and lobby, as the server last said.
    pub fn access(self) -> ReadSignal<RoomAccess> {
        self.access.read_only()
    }

    /// As host: who waits to be let in, in the order they knocked.
    pub fn knocks(self) -> ReadSignal<Vec<PeerInfo>> {
        self.knocks.read_only()
    }

    /// The server asked for the room's password (none given, or a wrong one).
    pub fn needs_password(self) -> ReadSignal<bool> {
        self.needs_password.read_only()
    }

    /// The password we have for this room, to fill in.
    pub fn known_password(self) -> Option<String> {
        self.inner
            .with_value(|i| i.password.as_ref().map(|p| p.expose().to_owned()))
    }

    /// The link to this room, with the password in its fragment when we know it.
    pub fn invite_link(self) -> String {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        invite_link(&origin, &self.room(), self.known_password().as_deref())
    }

    /// Takes the password from the address's `#pw=`, if the link carried one.
    pub(super) fn read_invite_password(self) {
        let fragment = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default();
        let password = password_in_fragment(&fragment).and_then(|p| RoomPassword::new(&p).ok());
        self.inner.update_value(|i| i.password = password);
    }

    /// Remembers `typed` (blank: none) as the password to join with.
    pub(super) fn use_password(self, typed: &str) -> Result<(), InvalidValue> {
        let password = match typed {
            "" => None,
            typed => Some(RoomPassword::new(typed)?),
        };
        self.inner.update_value(|i| i.password = password);
        Ok(())
    }

    pub(super) fn password(self) -> Option<RoomPassword> {
        self.inner.with_value(|i| i.password.clone())
    }

    /// As host: sets the room's password (blank: none) and turns its lobby on or off.
    pub fn set_room_access(self, password: &str, lobby: bool) -> Result<(), InvalidValue> {
        let password = match password {
            "" => None,
            typed => Some(RoomPassword::new(typed)?),
        };
        self.inner.update_value(|i| i.password = password.clone());
        self.send(ClientMessage::SetRoomAccess(SetRoomAccess {
            password,
            lobby,
        }));
        Ok(())
    }

    /// As host: lets `peer` in, or turns it away.
    pub fn answer_knock(self, peer: PeerId, admit: bool) {
        self.knocks.update(|k| without(k, &peer));
        let target = PeerTarget { peer_id: peer };
        self.send(match admit {
            true => ClientMessage::Admit(target),
            false => ClientMessage::Deny(target),
        });
    }

    /// Stops waiting for the host: back to pre-join.
    pub fn cancel_waiting(self) {
        self.send(ClientMessage::Leave(Empty {}));
        self.phase.set(Phase::PreJoin);
    }

    pub(super) fn on_room_access(self, access: RoomAccess) {
        self.access.set(access);
    }

    pub(super) fn on_knock(self, knock: PeerInfo) {
        self.knocks.update(|k| {
            without(k, &knock.peer_id);
            k.push(knock);
        });
    }

    pub(super) fn knock_withdrawn(self, peer: &PeerId) {
        self.knocks.update(|k| without(k, peer));
    }

    /// The host's role is no longer ours: its knocks go to the new host.
    pub(super) fn forget_knocks(self) {
        self.knocks.set(Vec::new());
    }

    /// The server wants the room's password: ask for it on pre-join, saying whether the one
    /// given was wrong or there was none.
    pub(super) fn password_refused(self) {
        let texts = t_now();
        let words = match self.password() {
            Some(_) => texts.error_wrong_password,
            None => texts.password_needed,
        };
        self.needs_password.set(true);
        self.phase.set(Phase::PreJoin);
        self.notice.set(Some(words.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_invite_link_carries_the_password_in_its_fragment_and_back() {
        let room = RoomName::new("Board room").unwrap();
        let link = invite_link("https://meet.example", &room, Some("s3cret & more#"));
        assert_eq!(
            link,
            "https://meet.example/room/Board%20room#pw=s3cret%20%26%20more%23"
        );
        let fragment = link.split_once('#').unwrap().1;
        assert_eq!(
            password_in_fragment(fragment).as_deref(),
            Some("s3cret & more#")
        );
        assert_eq!(
            password_in_fragment(&format!("#pw={}", percent_encode("잠금"))).as_deref(),
            Some("잠금")
        );
        assert_eq!(
            invite_link("http://h", &room, None),
            "http://h/room/Board%20room"
        );
    }

    #[test]
    fn other_fragments_carry_no_password() {
        for fragment in ["", "#", "#pw=", "#x=1", "#pw=%ZZ", "#pw=%C3"] {
            assert_eq!(password_in_fragment(fragment), None, "{fragment:?}");
        }
    }

    #[test]
    fn a_knock_answered_or_withdrawn_leaves_the_others() {
        let knock = |id: &str| PeerInfo {
            peer_id: PeerId::new(id).unwrap(),
            nickname: noom_shared::Nickname::new(id).unwrap(),
        };
        let mut knocks = vec![knock("a"), knock("b"), knock("c")];
        without(&mut knocks, &PeerId::new("b").unwrap());
        assert_eq!(knocks, vec![knock("a"), knock("c")]);
    }
}
