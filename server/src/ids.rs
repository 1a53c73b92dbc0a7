use noom_shared::{PeerId, ResumeToken};

/// A fresh resume token: 128 random bits as 32 hex digits.
pub(crate) fn new_resume_token() -> ResumeToken {
    let hex = format!("{}{}", new_peer_id(), new_peer_id());
    ResumeToken::new(&hex).unwrap_or_else(|_| unreachable!("hex digits are a valid token"))
}

/// A fresh random peer id: 16 hex digits (64 bits), so ids are unique across nodes too.
pub(crate) fn new_peer_id() -> PeerId {
    let mut bytes = [0u8; 8];
    // The OS random source does not fail on the systems Noom runs on; should it, a time-based
    // value still keeps ids distinct within this process.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        bytes = nanos.to_le_bytes();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    PeerId::new(&hex).unwrap_or_else(|_| unreachable!("hex digits are a valid peer id"))
}
