//! What a visit does when the server greets it, and when the socket drops: plain functions of
//! the visit's state, natively tested.

use noom_shared::{PROTOCOL_VERSION, ResumeToken, Session as Lease};

/// Where the visit is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Opening the socket.
    Connecting,
    /// Connected, choosing devices before joining.
    PreJoin,
    /// `join` sent, waiting for `joined`.
    Joining,
    /// In the room's lobby, until the host lets us in (or not).
    Waiting,
    InCall,
    /// The server refused the join: the room is at its size limit.
    Full,
    /// The server speaks another protocol version: this page is older (or newer) than it.
    Outdated,
    /// The server has been out of reach for too long, or refused us.
    Lost,
}

/// What to do on `welcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnWelcome {
    /// Not our protocol: say so and send nothing.
    Outdated,
    /// Back after a drop with a seat held: take it back.
    Resume(ResumeToken),
    /// Back after a drop with no seat to take (the server restarted): join again.
    Rejoin,
    /// A first greeting: list the rooms and show pre-join.
    PreJoin,
}

/// `welcome` said `protocol`; we were `reconnecting` holding `lease`, if any.
pub fn on_welcome(protocol: u32, reconnecting: bool, lease: Option<Lease>) -> OnWelcome {
    if protocol != PROTOCOL_VERSION {
        return OnWelcome::Outdated;
    }
    match (reconnecting, lease) {
        (true, Some(lease)) => OnWelcome::Resume(lease.resume_token),
        (true, None) => OnWelcome::Rejoin,
        (false, _) => OnWelcome::PreJoin,
    }
}

/// What the screen does while the socket is down and being reopened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhileDown {
    /// In a call: the peer connections carry on; show "reconnecting" over the call.
    Reconnecting,
    /// Before the call: back to "connecting".
    Connecting,
    /// Nothing on screen needs the server: stop trying.
    GiveUp,
}

pub fn while_down(phase: &Phase) -> WhileDown {
    match phase {
        Phase::InCall => WhileDown::Reconnecting,
        // A waiter's knock goes with its socket: it asks again from pre-join.
        Phase::Connecting | Phase::PreJoin | Phase::Joining | Phase::Waiting => {
            WhileDown::Connecting
        }
        Phase::Full | Phase::Outdated | Phase::Lost => WhileDown::GiveUp,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn lease(token: &str) -> Lease {
        Lease {
            resume_token: ResumeToken::new(token).unwrap(),
            grace_ms: 30_000,
        }
    }

    #[test]
    fn a_first_welcome_leads_to_pre_join_even_with_a_stale_lease() {
        assert_eq!(
            on_welcome(PROTOCOL_VERSION, false, None),
            OnWelcome::PreJoin
        );
        let stale = Some(lease("token1token1token1"));
        assert_eq!(
            on_welcome(PROTOCOL_VERSION, false, stale),
            OnWelcome::PreJoin
        );
    }

    #[test]
    fn back_after_a_drop_resumes_with_the_lease_or_rejoins_without() {
        let resumed = on_welcome(PROTOCOL_VERSION, true, Some(lease("token1token1token1")));
        assert_eq!(
            resumed,
            OnWelcome::Resume(ResumeToken::new("token1token1token1").unwrap())
        );
        assert_eq!(on_welcome(PROTOCOL_VERSION, true, None), OnWelcome::Rejoin);
    }

    #[test]
    fn another_protocol_version_is_outdated_whatever_else_holds() {
        for reconnecting in [false, true] {
            let outcome = on_welcome(
                PROTOCOL_VERSION + 1,
                reconnecting,
                Some(lease("token2token2token2")),
            );
            assert_eq!(outcome, OnWelcome::Outdated);
        }
        assert_eq!(on_welcome(0, false, None), OnWelcome::Outdated);
    }

    #[test]
    fn only_screens_that_need_the_server_keep_trying() {
        assert_eq!(while_down(&Phase::InCall), WhileDown::Reconnecting);
        for phase in [Phase::Connecting, Phase::PreJoin, Phase::Joining] {
            assert_eq!(while_down(&phase), WhileDown::Connecting);
        }
        for phase in [Phase::Full, Phase::Outdated, Phase::Lost] {
            assert_eq!(while_down(&phase), WhileDown::GiveUp);
        }
    }
}
