//! Room passwords: kept only as Argon2id hashes (PHC strings, salted), and checked against
//! them. Both take tens of milliseconds on purpose, so the switchboard runs them off its lock
//! and off the async threads (`switchboard/passwords.rs`).

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash as Phc};
use noom_shared::RoomPassword;
use serde::{Deserialize, Serialize};

/// A room password's hash, as the hub, Redis and every node keep it. Its `Debug` does not show
/// it: a hash is not the password, but it has no business in a log either.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

impl PasswordHash {
    /// Hashes `password` with a fresh random salt (Argon2id, 19 MiB, 2 passes: OWASP's
    /// minimum). `None` only if the OS has no randomness to give.
    pub fn of(password: &RoomPassword) -> Option<Self> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).ok()?;
        let salt = SaltString::encode_b64(&salt).ok()?;
        let hash = Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .ok()?;
        Some(Self(hash.to_string()))
    }

    /// A hash as stored (read back from Redis).
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    /// The PHC string, to store.
    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// Whether `password` is the one this hash was made of.
    pub fn matches(&self, password: &RoomPassword) -> bool {
        Phc::new(&self.0).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_hash_matches_its_password_only_and_is_salted() {
        let password = RoomPassword::new("sesame").unwrap();
        let hash = PasswordHash::of(&password).unwrap();
        assert!(
            hash.as_stored().starts_with("$argon2id$"),
            "{}",
            hash.as_stored()
        );
        assert!(!hash.as_stored().contains("sesame"));
        assert!(hash.matches(&password));
        assert!(!hash.matches(&RoomPassword::new("Sesame").unwrap()));
        assert_ne!(
            PasswordHash::of(&password).unwrap(),
            hash,
            "a fresh salt each time"
        );
        assert!(!PasswordHash::from_stored("garbage".into()).matches(&password));
        assert_eq!(format!("{hash:?}"), "PasswordHash(…)");
    }
}
