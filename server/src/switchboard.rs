//! The hub plus each connection's outgoing queue, behind one `std::sync::Mutex`.
//!
//! Every method is synchronous and short: the lock is never held across an `.await`. Each
//! outgoing message is encoded once and its bytes shared by all recipients; delivery is
//! `try_send`, and a connection whose queue is full is told to go (its `kick` token), never
//! waited for.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use noom_shared::{
    ClientMessage, Envelope, ErrorCode, IceServer, Nickname, PROTOCOL_VERSION, PeerId, RoomName,
    ServerMessage, Welcome,
};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::Config;
use crate::cluster::ClusterLink;
use crate::hub::{Decision, Event, Hub, Outgoing, ResumePolicy};

/// How the switchboard reaches one connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnHandle {
    pub(crate) queue: mpsc::Sender<Message>,
    /// Cancelled when the connection must be dropped for being too slow.
    pub(crate) kick: CancellationToken,
    /// Cancelled when a newer connection resumed this one's seat.
    pub(crate) replaced: CancellationToken,
}

pub(crate) struct Switchboard {
    state: Mutex<State>,
    ice_servers: Vec<IceServer>,
    max_room_size: u32,
    max_file_bytes: u64,
    /// Set in cluster mode: events then go through Redis instead of being applied here.
    cluster: OnceLock<ClusterLink>,
}

struct State {
    hub: Hub,
    conns: HashMap<PeerId, ConnHandle>,
    /// Messages for held seats, delivered when the seat is resumed (an offer from someone who
    /// joined meanwhile must not be lost); at most `parked_limit` each.
    parked: HashMap<PeerId, Vec<Message>>,
    parked_limit: usize,
    /// Connection id → the seat it took by `resume`.
    aliases: HashMap<PeerId, PeerId>,
}

impl Switchboard {
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            state: Mutex::new(State {
                hub: Hub::new(
                    config
                        .redis_url
                        .is_none()
                        .then_some(config.max_room_size as usize),
                    ResumePolicy {
                        grace_ms: config.resume_grace.as_millis() as u64,
                        new_token: crate::ids::new_resume_token,
                    },
                ),
                conns: HashMap::new(),
                parked: HashMap::new(),
                aliases: HashMap::new(),
                parked_limit: config.send_queue,
            }),
            ice_servers: config.ice_servers.0.clone(),
            max_room_size: config.max_room_size,
            max_file_bytes: config.max_file_bytes,
            cluster: OnceLock::new(),
        }
    }

    /// Registers a new connection and queues its `welcome`.
    pub(crate) fn connect(&self, peer: PeerId, conn: ConnHandle) {
        let welcome = ServerMessage::Welcome(Welcome {
            peer_id: peer.clone(),
            ice_servers: self.ice_servers.clone(),
            max_room_size: self.max_room_size,
            max_file_bytes: self.max_file_bytes,
            protocol: PROTOCOL_VERSION,
        });
        let mut state = self.lock();
        state.hub.connect(peer.clone());
        state.conns.insert(peer.clone(), conn);
        state.deliver(vec![Outgoing {
            to: vec![peer],
            id: None,
            message: welcome,
        }]);
    }

    pub(crate) fn attach_cluster(&self, link: ClusterLink) {
        let _ = self.cluster.set(link);
    }

    /// False while a cluster node is out of step with Redis (it serves its own peers alone).
    pub(crate) fn in_step(&self) -> bool {
        self.cluster.get().is_none_or(ClusterLink::is_online)
    }

    /// Removes the connection that started as `conn`. A closed one leaves its room; a `lost`
    /// one keeps its seat for a while, for a `resume`.
    pub(crate) fn disconnect(&self, conn: &PeerId, lost: bool) {
        let gone = {
            let mut state = self.lock();
            let peer = &state.identity(conn);
            state.aliases.remove(conn);
            state.conns.remove(peer);
            let gone = state.hub.disconnect(peer, lost, now_ms());
            if state.hub.is_held(peer) {
                state.parked.insert(peer.clone(), Vec::new());
            }
            gone
        };
        if let Some(gone) = gone {
            self.commit(gone);
        }
    }

    /// Handles one message from the connection that started as `conn`.
    pub(crate) fn handle(&self, conn: &PeerId, envelope: Envelope<ClientMessage>) {
        let event = {
            let mut state = self.lock();
            let from = state.identity(conn);
            match state.hub.decide(&from, envelope, now_ms()) {
                Decision::Reply(reply) => {
                    state.deliver(vec![reply]);
                    return;
                }
                Decision::Apply(event) => event,
            }
        };
        self.commit(event);
    }

    /// The periodic chores: seats held too long are given up, and the lobby gets the room
    /// list if it changed.
    pub(crate) fn tick(&self) {
        let expired = {
            let mut state = self.lock();
            let expired = state.hub.expire_held_seats(now_ms());
            let State { hub, parked, .. } = &mut *state;
            parked.retain(|peer, _| hub.is_held(peer));
            expired
        };
        for gone in expired {
            self.commit(gone);
        }
        self.push_room_list();
    }

    /// Applies an event here, or hands it to the cluster to be applied everywhere.
    fn commit(&self, event: Event) {
        let event = match self.cluster.get() {
            Some(cluster) => match cluster.submit(event) {
                Ok(()) => return,
                Err(event) => *event,
            },
            None => event,
        };
        self.apply_event(event);
    }

    /// Applies an event (from the cluster, or one this node could not hand to it).
    pub(crate) fn apply_event(&self, event: Event) {
        let mut state = self.lock();
        // Only another node's reaper says a peer still connected here is gone (it took this
        // node for dead); the node registers its peers again instead.
        if let Event::Gone { peer } = &event
            && state.conns.contains_key(peer)
        {
            return;
        }
        let resumed = match &event {
            Event::Resume {
                seat,
                conn,
                old_token,
                ..
            } if state.hub.resume_fits(seat, old_token) => state.move_seat(seat, conn),
            _ => None,
        };
        let out = state.hub.apply(event);
        state.deliver(out);
        if let Some(seat) = resumed {
            state.deliver_missed(&seat);
        }
    }

    /// Forgets a connection whose seat a newer connection took.
    pub(crate) fn replaced(&self, conn: &PeerId) {
        self.lock().aliases.remove(conn);
    }

    /// A join event for each of this node's peers that are in rooms.
    pub(crate) fn local_member_joins(&self) -> Vec<Event> {
        self.lock().hub.local_member_joins()
    }

    /// Brings the other nodes' peers in line with the cluster's truth.
    pub(crate) fn reconcile(&self, truth: &[(RoomName, Vec<(PeerId, Nickname)>)]) {
        let mut state = self.lock();
        let out = state.hub.reconcile(truth);
        state.deliver(out);
    }

    /// Sends `error` to one connection.
    pub(crate) fn reply_error(&self, to: &PeerId, id: Option<u32>, code: ErrorCode, text: &str) {
        self.lock().deliver(vec![Outgoing {
            to: vec![to.clone()],
            id,
            message: ServerMessage::error(code, text),
        }]);
    }

    /// Pushes the room list to every lobby connection if it changed since the last push.
    /// Called on a timer, so a burst of joins costs one frame per lobby connection per tick.
    fn push_room_list(&self) {
        let mut state = self.lock();
        let Some(rooms) = state.hub.take_room_list_change() else {
            return;
        };
        let lobby = state.hub.lobby().cloned().collect();
        state.deliver(vec![Outgoing {
            to: lobby,
            id: None,
            message: ServerMessage::Rooms(rooms),
        }]);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the hub half-updated in a way that
        // matters more than stopping every room would, so keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    /// The peer id the connection that started as `conn` has now (another after a resume).
    fn identity(&self, conn: &PeerId) -> PeerId {
        self.aliases.get(conn).unwrap_or(conn).clone()
    }

    /// A resume of `seat` by `conn` is about to be applied. If `conn` is connected here, its
    /// connection now serves the seat (returns the seat); a connection that still served the
    /// seat here is told it was replaced. Parked messages stay only for a seat that stays here.
    fn move_seat(&mut self, seat: &PeerId, conn: &PeerId) -> Option<PeerId> {
        if let Some(previous) = self.conns.remove(seat) {
            previous.replaced.cancel();
        }
        match self.conns.remove(conn) {
            Some(handle) => {
                self.conns.insert(seat.clone(), handle);
                self.aliases.insert(conn.clone(), seat.clone());
                Some(seat.clone())
            }
            None => {
                self.parked.remove(seat);
                None
            }
        }
    }

    /// Delivers what a held seat missed to its new connection.
    fn deliver_missed(&mut self, seat: &PeerId) {
        if let (Some(missed), Some(conn)) = (self.parked.remove(seat), self.conns.get(seat)) {
            for frame in missed {
                let _ = conn.queue.try_send(frame);
            }
        }
    }

    fn deliver(&mut self, out: Vec<Outgoing>) {
        for Outgoing { to, id, message } in out {
            let frame = Message::text(Envelope::with_id(message, id).encode());
            for peer in &to {
                let Some(conn) = self.conns.get(peer) else {
                    if let Some(missed) = self.parked.get_mut(peer)
                        && missed.len() < self.parked_limit
                    {
                        missed.push(frame.clone());
                    }
                    continue;
                };
                match conn.queue.try_send(frame.clone()) {
                    Ok(()) | Err(TrySendError::Closed(_)) => {}
                    Err(TrySendError::Full(_)) => {
                        if !conn.kick.is_cancelled() {
                            warn!(peer = %peer, "send queue full, dropping slow connection");
                            conn.kick.cancel();
                        }
                    }
                }
            }
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
