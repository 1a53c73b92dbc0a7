//! How links find a path to each other: the ICE servers from the server's `welcome`, whether
//! only the relay may carry media, and what to tell a user when no path works.

use noom_shared::{IceServer, Welcome};

use crate::i18n::{Texts, fill};

/// The ICE part of `welcome`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceSetup {
    pub servers: Vec<IceServer>,
    /// `iceTransportPolicy: "relay"`: media only through TURN.
    pub relay_only: bool,
}

impl IceSetup {
    pub fn from_welcome(welcome: &Welcome) -> Self {
        Self {
            servers: welcome.ice_servers.clone(),
            relay_only: welcome.ice_relay_only,
        }
    }

    /// Whether any server is a TURN relay (a `turn:` or `turns:` URL).
    pub fn has_relay(&self) -> bool {
        self.servers
            .iter()
            .flat_map(|server| &server.urls)
            .any(|url| url.starts_with("turn:") || url.starts_with("turns:"))
    }
}

/// What a tile says, in `texts`' words, when no path to `name` works.
pub fn unreachable_text(texts: &Texts, name: &str, has_relay: bool) -> String {
    let template = if has_relay {
        texts.unreachable_relay
    } else {
        texts.unreachable_direct
    };
    fill(template, &[("name", name)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> IceServer {
        IceServer {
            urls: vec![url.to_owned()],
            username: None,
            credential: None,
        }
    }

    #[test]
    fn only_turn_urls_are_a_relay() {
        let stun_only = IceSetup {
            servers: vec![server("stun:stun.example.org")],
            relay_only: false,
        };
        assert!(!stun_only.has_relay());
        assert!(!IceSetup::default().has_relay());
        for relay in [
            "turn:t.example.org:3478",
            "turns:t.example.org:443?transport=tcp",
        ] {
            let setup = IceSetup {
                servers: vec![server("stun:s.example.org"), server(relay)],
                relay_only: false,
            };
            assert!(setup.has_relay(), "{relay}");
        }
    }

    #[test]
    fn the_failure_names_the_person_and_the_missing_relay() {
        let en = crate::i18n::Lang::En.texts();
        assert_eq!(
            unreachable_text(en, "Ana", false),
            "Can't reach Ana directly; the server has no TURN relay configured."
        );
        assert!(unreachable_text(en, "Ana", true).contains("not even through the relay"));
    }
}
