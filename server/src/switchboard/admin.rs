//! What the switchboard gives the admin view: its events, a snapshot of the rooms and of this
//! node's people, and disconnecting them.

use std::sync::atomic::Ordering::Relaxed;

use noom_shared::{PeerId, RoomName};
use tokio::sync::broadcast;

use super::{EndedBy, Switchboard, notify};
use crate::admin::{AdminEvent, NodeView, ParticipantView, RoomView};
use crate::cluster::ClusterLink;

impl Switchboard {
    /// Events from now on, for one admin view.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<AdminEvent> {
        self.events.subscribe()
    }

    /// Tells the admin views, if any is watching.
    pub(crate) fn event(&self, event: AdminEvent) {
        notify(&self.events, event);
    }

    /// Every room this node knows (all of the cluster's), and this node with its people.
    pub(crate) fn snapshot(&self, show_ip: bool) -> (Vec<RoomView>, NodeView) {
        let state = self.lock();
        let now_ms = self.clock.now_ms();
        let person = |peer: &PeerId| {
            let membership = state.hub.membership(peer);
            ParticipantView {
                peer_id: peer.clone(),
                nickname: membership.map(|(_, nickname)| nickname.clone()),
                room: membership.map(|(room, _)| room.clone()),
                connected_s: None,
                messages_in: 0,
                messages_out: 0,
                queue_depth: 0,
                held_for_s: None,
                ip: None,
            }
        };
        let mut participants: Vec<ParticipantView> = state
            .conns
            .iter()
            .map(|(peer, conn)| ParticipantView {
                connected_s: Some(conn.state.since.elapsed().as_secs()),
                messages_in: conn.state.received.load(Relaxed),
                messages_out: conn.state.sent.load(Relaxed),
                queue_depth: conn.queue.len(),
                ip: conn.ip.filter(|_| show_ip).map(|ip| ip.to_string()),
                ..person(peer)
            })
            .collect();
        participants.extend(state.hub.held().map(|(peer, deadline)| ParticipantView {
            held_for_s: Some(deadline.saturating_sub(now_ms) / 1000),
            ..person(peer)
        }));
        participants.sort_by(|a, b| (&a.room, &a.nickname).cmp(&(&b.room, &b.nickname)));
        let cluster = self.cluster.get();
        let node = NodeView {
            id: cluster.map_or_else(|| "local".to_owned(), |link| link.node().to_owned()),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_s: self.started.elapsed().as_secs(),
            connections: state.conns.len(),
            redis: match cluster.map(ClusterLink::is_online) {
                None => "off",
                Some(true) => "up",
                Some(false) => "down",
            }
            .to_owned(),
            participants,
        };
        let rooms = state
            .hub
            .room_list()
            .rooms
            .into_iter()
            .map(|room| RoomView {
                age_s: state
                    .room_since
                    .get(&room.name)
                    .map(|at| at.elapsed().as_secs()),
                name: room.name,
                participants: room.participants,
            })
            .collect();
        (rooms, node)
    }

    /// Disconnects the connection serving `peer` on this node (it leaves its room at once);
    /// false if there is none.
    pub(crate) fn remove(&self, peer: &PeerId) -> bool {
        let state = self.lock();
        let Some(conn) = state.conns.get(peer) else {
            return false;
        };
        conn.state.end(EndedBy::Removed);
        true
    }

    /// Disconnects every member of `room` connected to this node; returns how many.
    pub(crate) fn close_room(&self, room: &RoomName) -> usize {
        let state = self.lock();
        let members: Vec<_> = state
            .conns
            .iter()
            .filter(|(peer, _)| state.hub.membership(peer).is_some_and(|(r, _)| r == room))
            .map(|(_, conn)| conn)
            .collect();
        for conn in &members {
            conn.state.end(EndedBy::Removed);
        }
        members.len()
    }
}
