//! What a cluster node needs to bring its copy of the rooms in line with Redis: its own
//! members, to register again, and the truth it loaded, to reconcile with.

use noom_shared::{Nickname, PeerId, RoomName};

use super::{Access, Event, Hub, Outgoing};

/// A room as Redis holds it, for a cluster node to bring its copy in line.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomTruth {
    pub name: RoomName,
    /// In join order.
    pub members: Vec<MemberTruth>,
    pub access: Access,
}

/// A member as Redis holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberTruth {
    pub peer: PeerId,
    pub nickname: Nickname,
    /// The node it is connected to.
    pub node: String,
}

impl Hub {
    /// A join event for each local member (for a cluster node to register them again after
    /// losing Redis, tokens included).
    pub fn local_member_joins(&self) -> Vec<Event> {
        self.peers
            .iter()
            .filter(|(_, p)| p.local)
            .filter_map(|(id, p)| {
                let (room, nickname) = p.membership.clone()?;
                Some(Event::Join {
                    peer: id.clone(),
                    room,
                    nickname,
                    token: p.token.clone(),
                    request: None,
                    password: None,
                    admitted: true,
                    node: None,
                })
            })
            .collect()
    }

    /// Brings the peers of other nodes, and each room's access, in line with `truth` (as
    /// Redis holds them), telling local peers what changed.
    pub fn reconcile(&mut self, truth: &[RoomTruth]) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let remote_now: Vec<(PeerId, RoomName)> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.local)
            .filter_map(|(id, p)| Some((id.clone(), p.membership.as_ref()?.0.clone())))
            .collect();
        for (peer, room) in remote_now {
            let still_there = truth
                .iter()
                .any(|r| r.name == room && r.members.iter().any(|m| m.peer == peer));
            if !still_there {
                out.extend(self.apply(Event::Gone { peer }));
            }
        }
        for room in truth {
            for member in &room.members {
                if self.is_local(&member.peer) {
                    continue;
                }
                out.extend(self.apply(Event::Join {
                    peer: member.peer.clone(),
                    room: room.name.clone(),
                    nickname: member.nickname.clone(),
                    token: None,
                    request: None,
                    password: None,
                    admitted: true,
                    node: Some(member.node.clone()),
                }));
                // A member already known may have moved to another node meanwhile.
                if let Some(state) = self.peers.get_mut(&member.peer) {
                    state.node = Some(member.node.clone());
                }
            }
            self.keep_media_with_members(&room.name, &mut out);
            let known = self.rooms.get(&room.name).map(|r| &r.access);
            if known.is_some_and(|access| *access != room.access) {
                self.set_access(&room.name, room.access.clone(), &mut out);
            }
        }
        out
    }
}
