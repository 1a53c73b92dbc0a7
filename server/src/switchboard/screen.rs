//! What the switchboard adds to the hub's decisions, per client address: a join that would
//! open a room is refused to an address that opened too many, and a password guess to one that
//! guessed wrong too often; and the password work itself, off the lock.

use noom_shared::{PeerId, RoomName, ServerMessage};

use super::{State, Switchboard};
use crate::hub::{Checked, Decision, Event, Outgoing, PasswordWork, refusals};

/// How long a room counts against the address that opened it before it exists: a cluster's
/// join takes a round trip through Redis.
const OPENING_MS: u64 = 10_000;

impl Switchboard {
    /// Hashes or checks a password off the lock and off the async threads, one at a time,
    /// then goes on with the request.
    pub(crate) async fn finish(&self, mut work: PasswordWork) {
        loop {
            let from = work.from().clone();
            let Ok(checked) = self.run_password_work(work).await else {
                return;
            };
            let decision = {
                let mut state = self.lock();
                if let Checked::Wrong { .. } = checked {
                    let ip = state.ip_of(&from);
                    state.guesses.wrong(ip, self.clock.now_ms());
                }
                let decision = state.hub.decide_checked(checked);
                match state.screen(decision, self.clock.now_ms()) {
                    Some(decision) => decision,
                    None => return,
                }
            };
            // Checked again only if the room's password changed meanwhile.
            match self.settle(decision) {
                Some(next) => work = next,
                None => return,
            }
        }
    }

    async fn run_password_work(&self, work: PasswordWork) -> Result<Checked, ()> {
        let _permit = self.password_work.acquire().await.map_err(|_| ())?;
        tokio::task::spawn_blocking(move || work.run())
            .await
            .map_err(|_| ())
    }
}

impl State {
    /// What the switchboard adds to the hub's decision: a join that would open a room is
    /// refused to an address that opened too many, and a password guess to one that guessed
    /// wrong too often. `None`: refused here, and answered.
    pub(super) fn screen(&mut self, decision: Decision, now_ms: u64) -> Option<Decision> {
        let refusal = match &decision {
            Decision::Apply(Event::Join {
                peer,
                room,
                request,
                ..
            }) if !self.may_open(peer, room, now_ms) => {
                Some((peer, *request, refusals::TOO_MANY_ROOMS_FROM_ADDRESS))
            }
            Decision::Verify(work)
                if work.is_guess() && !self.guesses.may_guess(self.ip_of(work.from()), now_ms) =>
            {
                Some((work.from(), work.id(), refusals::TOO_MANY_GUESSES))
            }
            _ => None,
        };
        let Some((to, id, (code, text))) = refusal else {
            return Some(decision);
        };
        let refused = Outgoing {
            to: vec![to.clone()],
            id,
            message: ServerMessage::error(code, text),
        };
        self.deliver(vec![refused]);
        None
    }

    /// The client address of the connection serving `peer`, if it is known.
    pub(super) fn ip_of(&self, peer: &PeerId) -> Option<std::net::IpAddr> {
        self.conns.get(peer).and_then(|conn| conn.ip)
    }

    /// Whether `peer`'s address may join `room`: always when the room exists; when the join
    /// opens it, only while the address has opened fewer than `--max-rooms-per-ip` rooms that
    /// are still open. A room it may open is counted for it.
    fn may_open(&mut self, peer: &PeerId, room: &RoomName, now_ms: u64) -> bool {
        if self.hub.room_size(room) > 0 {
            return true;
        }
        let ip = self.ip_of(peer);
        let Self {
            hub, rooms_opened, ..
        } = self;
        // A room counts while it is open, or for a while before it first is; once seen open
        // its time is dropped, so that its closing frees its place at once.
        let open = |room: &RoomName, counted: &mut Option<u64>| {
            if hub.room_size(room) > 0 {
                *counted = None;
                return true;
            }
            counted.is_some_and(|at| now_ms < at + OPENING_MS)
        };
        if !rooms_opened.has_room(ip, open) {
            return false;
        }
        rooms_opened.add(ip, room.clone(), Some(now_ms), open);
        true
    }
}
