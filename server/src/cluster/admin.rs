//! The admin view across a cluster: each node keeps its own view (its people) in Redis for a
//! few seconds at a time, so any node can show every node; actions go out on a channel that
//! every node follows, and the node holding the connection carries them out.

use noom_shared::{PeerId, RoomName};
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, RedisResult};
use serde::{Deserialize, Serialize};
use tracing::warn;

use super::{Cluster, HEARTBEAT_TTL_MS, scripts};
use crate::admin::NodeView;

/// The channel of admin actions.
pub(super) const ACTIONS: &str = "noom:admin";

fn view_key(node: &str) -> String {
    format!("noom:admin:view:{node}")
}

/// What an administrator asked of whichever node holds the people concerned.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AdminAction {
    Disconnect { peer_id: PeerId },
    CloseRoom { room: RoomName },
}

impl Cluster {
    /// Every live node's view, this node's fresh; a node that stopped publishing drops out.
    pub(crate) async fn node_views(&self, own: NodeView) -> RedisResult<Vec<NodeView>> {
        let mut conn = self.commands.clone();
        let nodes: Vec<String> = conn.smembers(scripts::NODES).await?;
        let mut views = vec![own];
        for node in nodes.iter().filter(|node| **node != self.node) {
            let stored: Option<String> = conn.get(view_key(node)).await?;
            views.extend(stored.and_then(|json| serde_json::from_str(&json).ok()));
        }
        views.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(views)
    }

    /// Keeps this node's view in Redis for as long as a heartbeat lasts.
    pub(super) async fn publish_view(&self, conn: &mut ConnectionManager) -> RedisResult<()> {
        // Addresses stay on their node: they are not kept in Redis.
        let (_, view) = self.board.snapshot(false);
        let json = serde_json::to_string(&view).unwrap_or_default();
        let _: () = redis::cmd("SET")
            .arg(view_key(&self.node))
            .arg(json)
            .arg("PX")
            .arg(HEARTBEAT_TTL_MS)
            .query_async(conn)
            .await?;
        Ok(())
    }

    /// Asks every other node to carry out `action` for its own connections.
    pub(crate) async fn forward(&self, action: &AdminAction) -> RedisResult<()> {
        let mut conn = self.commands.clone();
        let json = serde_json::to_string(action).unwrap_or_default();
        conn.publish(ACTIONS, json).await
    }

    pub(super) fn on_action(&self, payload: &[u8]) {
        match serde_json::from_slice::<AdminAction>(payload) {
            Ok(AdminAction::Disconnect { peer_id }) => {
                self.board.remove(&peer_id);
            }
            Ok(AdminAction::CloseRoom { room }) => {
                self.board.close_room(&room);
            }
            Err(err) => warn!(cause = %err, "ignored an unreadable admin action"),
        }
    }
}
