//! TURN REST credentials (the scheme of coturn's `use-auth-secret`): each connection gets a
//! username `<expiry unix time>:<peer id>` and, as its password, the base64 HMAC-SHA1 of that
//! username under the secret the TURN server shares. Nothing is stored, so every node of a
//! cluster mints alike, and a credential stops working at its expiry.

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use noom_shared::{IceServer, PeerId};
use sha1::Sha1;

use crate::config::{Config, Secret, SecretFileError};

/// What minting needs: the shared secret, the relay's URLs and how long a credential lasts.
#[derive(Debug, Clone)]
pub(crate) struct TurnMint {
    secret: Secret,
    urls: Vec<String>,
    ttl: Duration,
}

/// Why TURN credentials cannot be minted with the configuration given.
#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error("TURN: {0}")]
    SecretFile(#[from] SecretFileError),
    #[error("--turn-urls needs --turn-secret or --turn-secret-file")]
    NoSecret,
}

impl TurnMint {
    /// The mint the configuration asks for, if any; the secret file is read here, once.
    pub(crate) fn from_config(config: &Config) -> Result<Option<Self>, TurnError> {
        let secret = match (&config.turn_secret, &config.turn_secret_file) {
            (Some(secret), _) => secret.clone(),
            (None, Some(path)) => Secret::from_file(path)?,
            (None, None) if config.turn_urls.is_empty() => return Ok(None),
            (None, None) => return Err(TurnError::NoSecret),
        };
        Ok(Some(Self::new(
            secret,
            config.turn_urls.clone(),
            config.turn_ttl,
        )))
    }

    pub(crate) fn new(secret: Secret, urls: Vec<String>, ttl: Duration) -> Self {
        Self { secret, urls, ttl }
    }

    /// Credentials for `peer`, valid until `now_unix + ttl`.
    pub(crate) fn mint(&self, peer: &PeerId, now_unix: u64) -> IceServer {
        let username = format!("{}:{peer}", now_unix + self.ttl.as_secs());
        IceServer {
            urls: self.urls.clone(),
            credential: Some(password(self.secret.expose().as_bytes(), &username)),
            username: Some(username),
        }
    }
}

/// base64(HMAC-SHA1(secret, username)), as coturn checks it.
fn password(secret: &[u8], username: &str) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_vector() {
        // webrtc-rs's turn crate, `test_generate_auth_key`/long-term credentials.
        assert_eq!(
            password(b"foobar", "1599491771"),
            "Tpz/nKkyvX/vMSLKvL4sbtBt8Vs="
        );
    }

    #[test]
    fn usernames_expire_after_the_ttl_and_name_the_peer() {
        let mint = TurnMint::new(
            Secret::new("s3cret".into()),
            vec!["turn:turn.example.org:3478".into()],
            Duration::from_secs(3600),
        );
        let peer = PeerId::new("p-42").unwrap();
        let server = mint.mint(&peer, 1_700_000_000);
        assert_eq!(server.username.as_deref(), Some("1700003600:p-42"));
        assert_eq!(server.urls, vec!["turn:turn.example.org:3478".to_owned()]);
        assert_eq!(
            server.credential,
            Some(password(b"s3cret", "1700003600:p-42"))
        );
    }
}
