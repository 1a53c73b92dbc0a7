//! Held seats and resume tokens: a connection that is lost (not closed) keeps its seat for a
//! grace period, and its token lets a new connection, on any node, take the seat back unseen.
//! Deadlines are on the caller's monotonic clock (ms since the server started).

use noom_shared::{Joined, PeerId, ResumeToken, ServerMessage, Session};

use super::{Event, Hub, Outgoing, Refusal, refusals};

/// How seats are held for connections that are lost rather than closed.
#[derive(Debug, Clone, Copy)]
pub struct ResumePolicy {
    /// How long a lost connection's seat is kept for a `resume`.
    pub grace_ms: u64,
    /// Makes a fresh secret token (random in the server, predictable in tests).
    pub new_token: fn() -> ResumeToken,
}

impl Hub {
    /// A local connection ended. A peer in the lobby is forgotten at once; one waiting to be
    /// let in becomes a `Gone` event (its knock withdrawn). One in a room
    /// becomes a `Gone` event for the room to hear of, unless the connection was `lost` (not
    /// closed): then its seat is held for a `resume`, and the room hears nothing yet.
    pub fn disconnect(&mut self, peer: &PeerId, lost: bool, now_ms: u64) -> Option<Event> {
        let grace_ms = self.resume.grace_ms;
        let state = self.peers.get_mut(peer)?;
        if state.knocking.is_some() {
            // Its knock is withdrawn wherever the host is.
            Some(Event::Gone { peer: peer.clone() })
        } else if state.membership.is_none() {
            self.peers.remove(peer);
            None
        } else if lost && grace_ms > 0 && state.token.is_some() {
            let until = now_ms + grace_ms;
            state.held_until = Some(until);
            self.held.insert((until, peer.clone()));
            None
        } else {
            Some(Event::Gone { peer: peer.clone() })
        }
    }

    /// How many seats are held now.
    pub fn held_seats(&self) -> usize {
        self.held.len()
    }

    /// The held seats with the time (ms, the caller's clock) each is given up.
    pub fn held(&self) -> impl Iterator<Item = (&PeerId, u64)> {
        self.held.iter().map(|(deadline, peer)| (peer, *deadline))
    }

    /// Whether `peer`'s seat is held for a `resume`.
    pub fn is_held(&self, peer: &PeerId) -> bool {
        self.peers.get(peer).is_some_and(|p| p.held_until.is_some())
    }

    /// The seats held past their time: `Gone` events for their rooms.
    pub fn expire_held_seats(&mut self, now_ms: u64) -> Vec<Event> {
        let mut expired = Vec::new();
        while let Some((until, _)) = self.held.first()
            && *until <= now_ms
        {
            let Some((_, peer)) = self.held.pop_first() else {
                break;
            };
            if let Some(state) = self.peers.get_mut(&peer) {
                state.held_until = None;
            }
            expired.push(Event::Gone { peer });
        }
        expired
    }

    /// The seat of `peer` is no longer held (taken back, or given up).
    pub(super) fn release_hold(&mut self, peer: &PeerId) {
        if let Some(until) = self.peers.get_mut(peer).and_then(|p| p.held_until.take()) {
            self.held.remove(&(until, peer.clone()));
        }
    }

    /// Gives `peer` a new resume token, forgetting its old one.
    pub(super) fn set_token(&mut self, peer: &PeerId, token: ResumeToken) {
        let Some(state) = self.peers.get_mut(peer) else {
            return;
        };
        if let Some(old) = state.token.replace(token.clone()) {
            self.tokens.remove(&old);
        }
        self.tokens.insert(token, peer.clone());
    }

    /// Tells a local member its resume token.
    pub(super) fn announce_session(&self, peer: &PeerId, out: &mut Vec<Outgoing>) {
        if let Some(token) = self.peers.get(peer).and_then(|p| p.token.clone()) {
            out.push(Outgoing {
                to: vec![peer.clone()],
                id: None,
                message: ServerMessage::Session(Session {
                    resume_token: token,
                    grace_ms: self.resume.grace_ms,
                }),
            });
        }
    }

    /// A `resume` from the lobby connection `from`: the seat its token names, if any. The seat
    /// may be held here, or still look alive (the client noticed the network change first),
    /// or be on another node of a cluster.
    pub(super) fn check_resume(
        &self,
        from: &PeerId,
        token: ResumeToken,
        request: Option<u32>,
    ) -> Result<Event, Refusal> {
        if self.membership(from).is_some() {
            return Err(refusals::ALREADY_IN_ROOM_TO_RESUME);
        }
        let seat = self.tokens.get(&token).ok_or(refusals::INVALID_TOKEN)?;
        let (room, _) = self.membership(seat).ok_or(refusals::INVALID_TOKEN)?;
        Ok(Event::Resume {
            seat: seat.clone(),
            conn: from.clone(),
            room: room.clone(),
            old_token: token,
            token: (self.resume.new_token)(),
            request,
            node: None,
        })
    }

    /// Whether a resume of `seat` with `old_token` still fits (tokens work once).
    pub fn resume_fits(&self, seat: &PeerId, old_token: &ResumeToken) -> bool {
        self.peers
            .get(seat)
            .is_some_and(|p| p.membership.is_some() && p.token.as_ref() == Some(old_token))
    }

    /// The local lobby connection `conn` becomes the member `seat`: same id, same room, and
    /// nobody in the room is told.
    fn adopt_seat(
        &mut self,
        seat: &PeerId,
        conn: &PeerId,
        token: ResumeToken,
        request: Option<u32>,
        out: &mut Vec<Outgoing>,
    ) {
        self.peers.remove(conn);
        self.set_token(seat, token);
        self.release_hold(seat);
        let Some(state) = self.peers.get_mut(seat) else {
            return;
        };
        state.local = true;
        let Some((room, _)) = state.membership.clone() else {
            return;
        };
        let others: Vec<PeerId> = self
            .members(&room)
            .into_iter()
            .filter(|p| p != seat)
            .collect();
        out.push(Outgoing {
            to: vec![seat.clone()],
            id: request,
            message: ServerMessage::Resumed(Joined {
                host: self.host_of(&room).cloned().unwrap_or_else(|| seat.clone()),
                room: room.clone(),
                peer_id: seat.clone(),
                peers: self.peer_infos(&others),
                media: self.room_media(&room),
            }),
        });
        self.tell_statuses(seat, &others, out);
        self.tell_access(seat, &room, out);
        if self.host_of(&room) == Some(seat) {
            self.pass_knocks_on(&room, seat, out);
        }
        self.announce_session(seat, out);
    }

    /// A resume event: the connection `conn` takes the seat, if the token still fits.
    pub(super) fn apply_resume(
        &mut self,
        seat: &PeerId,
        conn: &PeerId,
        resume: Resuming,
        out: &mut Vec<Outgoing>,
    ) {
        let Resuming {
            old_token,
            token,
            request,
            node,
        } = resume;
        if !self.resume_fits(seat, &old_token) {
            if self.is_local(conn) {
                let (code, text) = refusals::INVALID_TOKEN;
                out.push(Outgoing {
                    to: vec![conn.clone()],
                    id: request,
                    message: ServerMessage::error(code, text),
                });
            }
            return;
        }
        if self.is_local(conn) {
            self.adopt_seat(seat, conn, token, request, out);
        } else {
            // Resumed through another node: the seat lives there now.
            self.set_token(seat, token);
            self.release_hold(seat);
            if let Some(state) = self.peers.get_mut(seat) {
                state.local = false;
                state.node = node;
            }
        }
        if let Some((room, _)) = self.membership(seat).cloned() {
            self.keep_media_with_members(&room, out);
        }
    }
}

/// What a resume event brings besides who resumes which seat.
pub(super) struct Resuming {
    pub old_token: ResumeToken,
    pub token: ResumeToken,
    pub request: Option<u32>,
    pub node: Option<String>,
}
