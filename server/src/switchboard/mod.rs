//! The hub plus each connection's outgoing queue, behind one `std::sync::Mutex`.
//!
//! Every method is synchronous and short: the lock is never held across an `.await`. Each
//! outgoing message is encoded once and its bytes shared by all recipients; delivery is
//! `try_send`, and a connection whose queue is full is told to go (its end token), never
//! waited for.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use noom_shared::{
    ClientMessage, Envelope, ErrorCode, IceServer, PROTOCOL_VERSION, PeerId, RoomName,
    ServerMessage, Welcome,
};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use tracing::warn;

use crate::admin::AdminEvent;
use crate::clock::{Clock, Monotonic, wall_ms};
use crate::cluster::ClusterLink;
use crate::config::{Config, RoomList};
use crate::hub::{
    Decision, Event, Hub, Outgoing, PasswordWork, ResumePolicy, RoomTruth, Routes, refusals,
};
use crate::metrics::{Gauges, Metrics, ResumeResult};
use crate::send_queue::Enqueued;
use crate::sfu::{Command, Sfu};
use crate::turn::TurnMint;
use guesses::Guesses;
pub(crate) use handle::{ConnHandle, EndedBy};
use noom_shared::Message as _;
use per_address::AddressTally;
use room_list::ToldRooms;

/// Events kept for an admin view that falls behind.
const ADMIN_EVENTS_BUFFERED: usize = 256;

pub(crate) struct Switchboard {
    state: Mutex<State>,
    ice_servers: Vec<IceServer>,
    /// Mints each connection its own TURN credentials, after the static `ice_servers`.
    turn: Option<TurnMint>,
    ice_relay_only: bool,
    /// What happens, for the admin view's event stream (lagging listeners miss events).
    events: broadcast::Sender<AdminEvent>,
    started: Instant,
    max_room_size: u32,
    max_file_bytes: u64,
    /// Set in cluster mode: events then go through Redis instead of being applied here.
    cluster: OnceLock<ClusterLink>,
    /// Held seats' deadlines are on this clock.
    clock: Arc<dyn Clock>,
    /// A connection heard nothing from this long is ended (`--idle-timeout`).
    idle_timeout: std::time::Duration,
    /// Password hashes made or checked at once: each takes a core for tens of milliseconds.
    password_work: tokio::sync::Semaphore,
    /// The media task, when the SFU is on.
    sfu: OnceLock<Sfu>,
}

struct State {
    hub: Hub,
    /// The connections of this node, by the seat they serve.
    conns: HashMap<PeerId, ConnHandle>,
    /// Aliases after a resume, and messages for held seats (an offer from someone who joined
    /// meanwhile must not be lost), at most `--send-queue` each.
    routes: Routes<Message>,
    metrics: Arc<Metrics>,
    events: broadcast::Sender<AdminEvent>,
    /// When each room appeared (within a chores tick), for the admin view.
    room_since: HashMap<RoomName, Instant>,
    /// The room list as the lobby was last told it.
    told: ToldRooms,
    /// The rooms each address opened, while they are open (or their join is on its way).
    rooms_opened: AddressTally<RoomName>,
    /// The seats held for each address's lost connections.
    seats_held: AddressTally<PeerId>,
    /// Wrong room passwords by address.
    guesses: Guesses,
    /// `--room-list off`: the lobby is never told the rooms.
    room_list: RoomList,
}

impl Switchboard {
    pub(crate) fn new(config: &Config) -> Self {
        Self::with_clock(config, Arc::new(Monotonic::start()))
    }

    /// A switchboard whose held seats expire on `clock`.
    pub(crate) fn with_clock(config: &Config, clock: Arc<dyn Clock>) -> Self {
        let events = broadcast::channel(ADMIN_EVENTS_BUFFERED).0;
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
                )
                .with_max_rooms(config.max_rooms)
                .with_sfu_if(sfu_mesh_max(config)),
                conns: HashMap::new(),
                routes: Routes::new(config.send_queue, config.send_queue_bytes, Message::len),
                metrics: Arc::default(),
                events: events.clone(),
                room_since: HashMap::new(),
                told: ToldRooms::none(0),
                rooms_opened: AddressTally::new(config.max_rooms_per_ip),
                seats_held: AddressTally::new(config.max_connections_per_ip),
                guesses: Guesses::default(),
                room_list: config.room_list,
            }),
            ice_servers: config.ice_servers.0.clone(),
            turn: None,
            ice_relay_only: config.ice_relay_only,
            events,
            started: Instant::now(),
            max_room_size: config.max_room_size,
            max_file_bytes: config.max_file_bytes,
            cluster: OnceLock::new(),
            clock,
            idle_timeout: config.idle_timeout,
            password_work: tokio::sync::Semaphore::new(1),
            sfu: OnceLock::new(),
        }
    }

    /// Gives every new connection TURN credentials from `turn`.
    pub(crate) fn with_turn(mut self, turn: Option<TurnMint>) -> Self {
        self.turn = turn;
        self
    }

    /// Registers a new connection and queues its `welcome`.
    pub(crate) fn connect(&self, peer: PeerId, conn: ConnHandle) {
        let mut ice_servers = self.ice_servers.clone();
        if let Some(turn) = &self.turn {
            ice_servers.push(turn.mint(&peer, wall_ms() / 1000));
            self.metrics().turn_credential();
        }
        let welcome = ServerMessage::Welcome(Welcome {
            peer_id: peer.clone(),
            ice_servers,
            max_room_size: self.max_room_size,
            max_file_bytes: self.max_file_bytes,
            protocol: PROTOCOL_VERSION,
            ice_relay_only: self.ice_relay_only,
        });
        let mut state = self.lock();
        state.hub.connect(peer.clone());
        state.conns.insert(peer.clone(), conn);
        state.notify(AdminEvent::new("connect", Some(&peer)));
        state.deliver(vec![Outgoing {
            to: vec![peer],
            id: None,
            message: welcome,
        }]);
    }

    pub(crate) fn attach_cluster(&self, link: ClusterLink) {
        self.lock().hub.set_node(link.node());
        let _ = self.cluster.set(link);
    }

    pub(crate) fn attach_sfu(&self, sfu: Sfu) {
        let _ = self.sfu.set(sfu);
    }

    /// Sends the SFU's `message` to whoever holds `seat` now (parked while its connection is
    /// lost), through the cluster if the seat is on another node.
    pub(crate) fn tell(&self, seat: &PeerId, message: ServerMessage) {
        let mut state = self.lock();
        if self.cluster.get().is_some() && !state.hub.is_local(seat) {
            drop(state);
            let to = seat.clone();
            self.commit(Event::SfuTell { to, message });
            return;
        }
        state.deliver(vec![Outgoing {
            to: vec![seat.clone()],
            id: None,
            message,
        }]);
    }

    /// The counters, shared with every connection.
    pub(crate) fn metrics(&self) -> Arc<Metrics> {
        self.lock().metrics.clone()
    }

    /// The gauges for `/metrics`, read now.
    pub(crate) fn gauges(&self) -> Gauges {
        let state = self.lock();
        Gauges {
            connections: state.conns.len(),
            room_sizes: state
                .hub
                .room_list()
                .rooms
                .iter()
                .map(|room| room.participants as usize)
                .collect(),
            seats_held: state.hub.held_seats(),
            redis_up: self.cluster.get().map(ClusterLink::is_online),
        }
    }

    /// False while a cluster node is out of step with Redis (it serves its own peers alone).
    pub(crate) fn in_step(&self) -> bool {
        self.cluster.get().is_none_or(ClusterLink::is_online)
    }

    /// Removes the connection that started as `conn`. A closed one leaves its room; a `lost`
    /// one keeps its seat for a while, for a `resume`.
    pub(crate) fn disconnect(&self, conn: &PeerId, lost: bool) {
        self.event(AdminEvent::new("disconnect", Some(conn)));
        let gone = {
            let mut state = self.lock();
            let peer = &state.routes.seat_of(conn);
            state.routes.forget(conn);
            let now_ms = self.clock.now_ms();
            let ip = state.conns.remove(peer).and_then(|conn| conn.ip);
            let State {
                hub, seats_held, ..
            } = &mut *state;
            let still_held = |seat: &PeerId, _: &mut Option<u64>| hub.is_held(seat);
            // An address with too many seats held already has this one given up at once.
            let lost = lost && seats_held.has_room(ip, still_held);
            let gone = state.hub.disconnect(peer, lost, now_ms);
            if state.hub.is_held(peer) {
                state.routes.hold(peer);
                let State {
                    hub, seats_held, ..
                } = &mut *state;
                seats_held.add(ip, peer.clone(), None, |seat, _: &mut Option<u64>| {
                    hub.is_held(seat)
                });
            }
            gone
        };
        if let Some(gone) = gone {
            self.commit(gone);
        }
    }

    /// Handles one message from the connection that started as `conn`. A request that needs
    /// a password hashed or checked is handed back, for [`Switchboard::finish`].
    #[must_use]
    pub(crate) fn handle(
        &self,
        conn: &PeerId,
        envelope: Envelope<ClientMessage>,
    ) -> Option<PasswordWork> {
        let decision = {
            let mut state = self.lock();
            let from = state.routes.seat_of(conn);
            if let ClientMessage::ListRooms(_) = envelope.message {
                state.reply_room_list(&from, envelope.id);
                return None;
            }
            let decision = state.hub.decide(&from, envelope, wall_ms());
            state.screen(decision, self.clock.now_ms())?
        };
        self.settle(decision)
    }

    /// Carries out a screened decision: answers, commits, or hands back password work.
    fn settle(&self, decision: Decision) -> Option<PasswordWork> {
        match decision {
            Decision::Reply(reply) => self.lock().deliver(vec![reply]),
            Decision::Apply(event) => self.commit(event),
            Decision::Verify(work) => return Some(work),
        }
        None
    }

    /// The periodic chores: quiet connections are pinged and silent ones ended, seats held
    /// too long are given up, and the lobby is told of changes to the room list.
    pub(crate) fn tick(&self) {
        let expired = {
            let mut state = self.lock();
            // One sweep here instead of two timers per connection (one of them reset on every
            // frame): a connection quiet for a third of the idle timeout is pinged, one quiet
            // for all of it is ended.
            let ping_every = self.idle_timeout / 3;
            for conn in state.conns.values() {
                if conn.state.silent_for() >= self.idle_timeout {
                    conn.state.end(EndedBy::Silence);
                } else if conn.state.ping_due(ping_every)
                    && conn.enqueue(Message::Ping(Bytes::new())) == Enqueued::Full
                {
                    conn.state.end(EndedBy::TooSlow);
                }
            }
            let expired = state.hub.expire_held_seats(self.clock.now_ms());
            state.guesses.forget_forgiven(self.clock.now_ms());
            let State { hub, routes, .. } = &mut *state;
            routes.release_unheld(|seat| hub.is_held(seat));
            expired
        };
        for gone in expired {
            self.commit(gone);
        }
        self.push_room_list();
    }

    /// Applies an event here, or hands it to the cluster to be applied everywhere.
    fn commit(&self, event: Event) {
        match self.cluster.get() {
            Some(cluster) => {
                if let Err(event) = cluster.submit(event) {
                    self.apply_without_redis(*event);
                }
            }
            None => self.apply_event(event),
        }
    }

    /// Applies an event that a cluster node could not hand to Redis. Redis enforces the room
    /// size for the cluster; without it, a join is admitted only while the room as this node
    /// last knew it has a place.
    pub(crate) fn apply_without_redis(&self, event: Event) {
        if let Event::Join {
            peer,
            room,
            request,
            ..
        } = &event
        {
            let members = self.lock().hub.room_size(room);
            if members >= self.max_room_size as usize {
                let (code, text) = refusals::ROOM_FULL;
                self.reply_error(peer, *request, code, text);
                return;
            }
        }
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
        let missed = match &event {
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
        // Sent under the lock, so the media task hears of joins and leaves in their order.
        let changes = state.hub.take_media_changes();
        if let Some(sfu) = self.sfu.get() {
            changes
                .into_iter()
                .for_each(|change| sfu.send(Command::from(change)));
        }
        if let Some((seat, missed)) = missed {
            state.deliver_missed(&seat, missed);
        }
        let follow_ups = state.hub.take_follow_ups();
        drop(state);
        for event in follow_ups {
            self.commit(event);
        }
    }

    /// A cluster's join that Redis found the room's lobby on for: the joiner knocks instead.
    pub(crate) fn knock_instead(&self, join: Event) {
        if let Event::Join {
            peer,
            room,
            nickname,
            request,
            ..
        } = join
        {
            self.commit(Event::Knock {
                peer,
                room,
                nickname,
                request,
            });
        }
    }

    /// Forgets a connection whose seat a newer connection took.
    pub(crate) fn replaced(&self, conn: &PeerId) {
        self.lock().routes.forget(conn);
    }

    /// A join event for each of this node's peers that are in rooms.
    pub(crate) fn local_member_joins(&self) -> Vec<Event> {
        self.lock().hub.local_member_joins()
    }

    /// Brings the other nodes' peers in line with the cluster's truth.
    pub(crate) fn reconcile(&self, truth: &[RoomTruth]) {
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
        self.lock().tell_room_list();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the hub half-updated in a way that
        // matters more than stopping every room would, so keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Sends `event` to the admin views, if any is watching (no work otherwise).
fn notify(events: &broadcast::Sender<AdminEvent>, event: AdminEvent) {
    if events.receiver_count() > 0 {
        let _ = events.send(event);
    }
}

/// The SFU's mesh size for the hub: `None` (no SFU) unless it is on.
fn sfu_mesh_max(config: &Config) -> Option<usize> {
    config.sfu_udp.map(|_| config.mesh_max as usize)
}

impl State {
    /// A resume of `seat` by `conn` is about to be applied. If `conn` is connected here, its
    /// connection now serves the seat: returns the seat and what it missed. A connection that
    /// still served the seat here is told it was replaced.
    fn move_seat(&mut self, seat: &PeerId, conn: &PeerId) -> Option<(PeerId, Vec<Message>)> {
        if let Some(previous) = self.conns.remove(seat) {
            previous.state.end(EndedBy::Replaced);
        }
        match self.conns.remove(conn) {
            Some(handle) => {
                self.conns.insert(seat.clone(), handle);
                Some((seat.clone(), self.routes.resumed_here(conn, seat)))
            }
            None => {
                self.routes.resumed_elsewhere(seat);
                None
            }
        }
    }

    /// Counts `message`, and tells the admin views what it says happened to `to`.
    fn count(&self, message: &ServerMessage, to: &[PeerId]) {
        self.metrics.sent(message.kind(), to.len());
        let event = match message {
            ServerMessage::Error(error) => {
                self.metrics.error(error.code);
                if error.code == ErrorCode::InvalidToken {
                    self.metrics.resume(ResumeResult::Refused);
                }
                AdminEvent::new("error", to.first()).with_code(error.code.as_str())
            }
            ServerMessage::Resumed(joined) => {
                self.metrics.resume(ResumeResult::Resumed);
                AdminEvent::new("resume", to.first()).in_room(&joined.room)
            }
            ServerMessage::Joined(joined) => {
                AdminEvent::new("join", to.first()).in_room(&joined.room)
            }
            ServerMessage::Left(left) => AdminEvent::new("leave", to.first()).in_room(&left.room),
            _ => return,
        };
        self.notify(event);
    }

    fn notify(&self, event: AdminEvent) {
        notify(&self.events, event);
    }

    /// Delivers what a held seat missed to its new connection.
    fn deliver_missed(&mut self, seat: &PeerId, missed: Vec<Message>) {
        if let Some(conn) = self.conns.get(seat) {
            for frame in missed {
                let _ = conn.enqueue(frame);
            }
        }
    }

    fn deliver(&mut self, out: Vec<Outgoing>) {
        for Outgoing { to, id, message } in out {
            self.count(&message, &to);
            let frame = Message::text(Envelope::with_id(message, id).encode());
            self.send_frame(&to, frame);
        }
    }

    /// Queues `frame` for each of `to`: parked for a held seat, dropped for a closed one, and
    /// a connection whose queue is full is kicked.
    fn send_frame(&mut self, to: &[PeerId], frame: Message) {
        for peer in to {
            let Some(conn) = self.conns.get(peer) else {
                self.routes.park(peer, frame.clone());
                continue;
            };
            match conn.enqueue(frame.clone()) {
                Enqueued::Queued => {
                    conn.state.sent.fetch_add(1, Relaxed);
                }
                Enqueued::Closed => {}
                Enqueued::Full => {
                    if !conn.state.is_ended() {
                        warn!(peer = %peer, "send queue full, dropping slow connection");
                        self.metrics.dropped_slow();
                        notify(&self.events, AdminEvent::new("kick", Some(peer)));
                        conn.state.end(EndedBy::TooSlow);
                    }
                }
            }
        }
    }
}

mod admin;
mod guesses;
mod handle;
mod per_address;
mod room_list;
mod screen;
#[cfg(test)]
mod tests;
