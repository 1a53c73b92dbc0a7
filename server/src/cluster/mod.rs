//! Cluster mode: several nodes share rooms through Redis.
//!
//! Every node keeps a full copy of the rooms in its hub. A change (an [`Event`]) is never
//! applied where it happens: it goes to Redis, which publishes it on one channel, and every
//! node, the origin included, applies it when it arrives. One channel in one Redis gives one
//! order, so all hubs make the same changes in the same order, and each node delivers the
//! resulting messages to the peers connected to it. Joins and leaves run as Lua scripts that
//! also keep the members in Redis hashes, so the room size holds cluster-wide and a node that
//! (re)connects can load the truth (`resync`).
//!
//! Failures: a node that dies stops refreshing its heartbeat key; the others remove its peers
//! (`REAP`) within a few seconds. A node that is stopped while others are alive does the same
//! on purpose: its people reconnect through the other nodes and `resume` their seats there
//! meanwhile, which moves them out of its reach. When Redis is unreachable a node applies events itself and
//! keeps serving its own peers; when Redis is back it registers its members again and
//! reconciles its copy with what Redis holds.

mod admin;
mod scripts;

pub(crate) use admin::AdminAction;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use noom_shared::{Nickname, PeerId, RoomName};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Client, RedisError, RedisResult};
use serde::Deserialize;
use tokio::sync::{Notify, mpsc};
use tokio::time::{interval, sleep};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::hub::{Access, Event, MemberTruth, RoomTruth, refusals};
use crate::passwords::PasswordHash;
use crate::switchboard::Switchboard;

const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// A node silent this long is dead and its peers are removed.
const HEARTBEAT_TTL_MS: u64 = 5000;
/// Events waiting for Redis; past this the node applies them itself.
const QUEUE: usize = 8192;
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a node could not join its cluster.
#[derive(Debug, thiserror::Error)]
#[error("cannot use Redis at {url}: {source}")]
pub struct ClusterError {
    url: String,
    source: RedisError,
}

/// The switchboard's way into the cluster.
pub(crate) struct ClusterLink {
    queue: mpsc::Sender<Event>,
    online: Arc<AtomicBool>,
    node: String,
}

impl ClusterLink {
    /// This node's id in the cluster.
    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    pub(crate) fn is_online(&self) -> bool {
        self.online.load(Ordering::Acquire)
    }

    /// Hands an event to the cluster, or gives it back when the cluster cannot take it now
    /// (Redis is unreachable, or the queue is full) for the caller to apply on this node.
    pub(crate) fn submit(&self, event: Event) -> Result<(), Box<Event>> {
        if !self.is_online() {
            return Err(Box::new(event));
        }
        self.queue
            .try_send(event)
            .map_err(|err| Box::new(err.into_inner()))
    }
}

/// This node's membership of the cluster.
pub(crate) struct Cluster {
    node: String,
    client: Client,
    commands: ConnectionManager,
    board: Arc<Switchboard>,
    max_room_size: u32,
    online: Arc<AtomicBool>,
    resync_needed: Notify,
    /// Whether this node publishes its view for the admin views of the cluster.
    admin: bool,
}

impl Cluster {
    /// Connects to Redis, attaches the cluster to `board` and starts following events.
    pub(crate) async fn start(
        url: &str,
        board: Arc<Switchboard>,
        max_room_size: u32,
        admin: bool,
        stop: CancellationToken,
    ) -> Result<Arc<Cluster>, ClusterError> {
        let failed = |source| ClusterError {
            url: without_password(url),
            source,
        };
        let client = Client::open(url).map_err(failed)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let commands = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(failed)?;
        let cluster = Arc::new(Cluster {
            node: crate::ids::new_peer_id().to_string(),
            client,
            commands,
            board: board.clone(),
            max_room_size,
            online: Arc::new(AtomicBool::new(false)),
            resync_needed: Notify::new(),
            admin,
        });
        let (queue, queued) = mpsc::channel(QUEUE);
        board.attach_cluster(ClusterLink {
            queue,
            online: cluster.online.clone(),
            node: cluster.node.clone(),
        });
        tokio::spawn(cluster.clone().publish_events(queued));
        tokio::spawn(cluster.clone().follow_events(stop.clone()));
        tokio::spawn(cluster.clone().keep_alive(stop));
        info!(node = %cluster.node, redis = %without_password(url), "cluster mode");
        Ok(cluster)
    }

    /// Leaves the cluster on shutdown. While another node is alive, this node's people keep
    /// their seats, to resume them there (the others reap whoever does not once this node's
    /// heartbeat expires); the last node removes its people at once.
    pub(crate) async fn leave(&self) {
        let mut conn = self.commands.clone();
        let left: RedisResult<u32> = scripts::REAP
            .prepare_invoke()
            .arg(&self.node)
            .arg("leaving")
            .invoke_async(&mut conn)
            .await;
        if let Err(err) = left {
            warn!(cause = %err, "could not leave the cluster; peers go when the heartbeat expires");
        }
    }

    /// Sends events to Redis in the order they were submitted.
    async fn publish_events(self: Arc<Self>, mut queued: mpsc::Receiver<Event>) {
        let mut conn = self.commands.clone();
        while let Some(mut event) = queued.recv().await {
            event.stamp(&self.node);
            if let Err(err) = self.publish(&mut conn, &event).await {
                if self.online.swap(false, Ordering::AcqRel) {
                    warn!(cause = %err, "Redis unreachable: serving this node's peers alone");
                }
                self.board.apply_without_redis(event);
            }
        }
    }

    async fn publish(&self, conn: &mut ConnectionManager, event: &Event) -> RedisResult<()> {
        let json = serde_json::to_string(event).unwrap_or_default();
        match event {
            Event::Join {
                peer,
                room,
                nickname,
                request,
                password,
                admitted,
                ..
            } => {
                let verdict: String = scripts::JOIN
                    .prepare_invoke()
                    .arg(&self.node)
                    .arg(peer.as_str())
                    .arg(room.as_str())
                    .arg(nickname.as_str())
                    .arg(self.max_room_size)
                    .arg(&json)
                    .arg(password.as_ref().map_or("", |hash| hash.as_stored()))
                    .arg(if *admitted { "1" } else { "0" })
                    .invoke_async(conn)
                    .await?;
                let (code, text) = match verdict.as_str() {
                    "ok" => return Ok(()),
                    "lobby" => {
                        self.board.knock_instead(event.clone());
                        return Ok(());
                    }
                    "full" => refusals::ROOM_FULL,
                    "wrong_password" => refusals::WRONG_PASSWORD,
                    _ => refusals::ALREADY_IN_ROOM,
                };
                self.board.reply_error(peer, *request, code, text);
            }
            Event::SetAccess { room, access } => {
                let password = access.password.as_ref();
                let _: String = scripts::ACCESS
                    .prepare_invoke()
                    .arg(room.as_str())
                    .arg(password.map_or("", |hash| hash.as_stored()))
                    .arg(if access.lobby { "1" } else { "0" })
                    .arg(&json)
                    .invoke_async(conn)
                    .await?;
            }
            Event::Remove { peer, room } => {
                let _: String = scripts::REMOVE
                    .prepare_invoke()
                    .arg(room.as_str())
                    .arg(peer.as_str())
                    .arg(&json)
                    .invoke_async(conn)
                    .await?;
            }
            Event::Leave { peer, .. } | Event::Gone { peer } => {
                let _: String = scripts::LEAVE
                    .prepare_invoke()
                    .arg(&self.node)
                    .arg(peer.as_str())
                    .arg(&json)
                    .invoke_async(conn)
                    .await?;
            }
            Event::Resume { seat, room, .. } => {
                let _: String = scripts::MOVE
                    .prepare_invoke()
                    .arg(&self.node)
                    .arg(seat.as_str())
                    .arg(room.as_str())
                    .arg(&json)
                    .invoke_async(conn)
                    .await?;
            }
            Event::Rename { peer, nickname } => {
                let _: String = scripts::RENAME
                    .prepare_invoke()
                    .arg(&self.node)
                    .arg(peer.as_str())
                    .arg(nickname.as_str())
                    .arg(&json)
                    .invoke_async(conn)
                    .await?;
            }
            Event::Chat { .. }
            | Event::Signal { .. }
            | Event::Status { .. }
            | Event::MakeHost { .. }
            | Event::Mute { .. }
            | Event::Knock { .. }
            | Event::Admit { .. }
            | Event::Deny { .. }
            | Event::Sfu { .. }
            | Event::SfuTell { .. } => {
                let _: () = conn.publish(scripts::EVENTS, &json).await?;
            }
        }
        Ok(())
    }

    /// Subscribes to the event channel, resynchronises, then applies events as they come;
    /// starts over whenever the subscription is lost.
    async fn follow_events(self: Arc<Self>, stop: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let subscribed = async {
                let mut pubsub = self.client.get_async_pubsub().await?;
                pubsub.subscribe(scripts::EVENTS).await?;
                pubsub.subscribe(admin::ACTIONS).await?;
                self.resync().await?;
                Ok::<_, RedisError>(pubsub)
            };
            match stop.run_until_cancelled(subscribed).await {
                None => return,
                Some(Err(err)) => debug!(cause = %err, "Redis not reachable yet"),
                Some(Ok(pubsub)) => {
                    self.online.store(true, Ordering::Release);
                    info!(node = %self.node, "in step with the cluster");
                    backoff = Duration::from_millis(100);
                    let mut messages = pubsub.into_on_message();
                    loop {
                        tokio::select! {
                            () = stop.cancelled() => return,
                            () = self.resync_needed.notified() => {
                                if let Err(err) = self.resync().await {
                                    debug!(cause = %err, "resync failed");
                                    break;
                                }
                            }
                            message = messages.next() => match message {
                                Some(message) if message.get_channel_name() == admin::ACTIONS => {
                                    self.on_action(message.get_payload_bytes());
                                }
                                Some(message) => self.on_message(message.get_payload_bytes()),
                                None => break,
                            },
                        }
                    }
                    if self.online.swap(false, Ordering::AcqRel) {
                        warn!("lost Redis: serving this node's peers alone until it is back");
                    }
                }
            }
            if stop.run_until_cancelled(sleep(backoff)).await.is_none() {
                return;
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    fn on_message(&self, payload: &[u8]) {
        match serde_json::from_slice::<Event>(payload) {
            Ok(event) => self.board.apply_event(event),
            Err(err) => warn!(cause = %err, "ignored an unreadable cluster event"),
        }
    }

    /// Registers this node's members in Redis again and brings the copy of the other nodes'
    /// members in line with Redis.
    async fn resync(&self) -> RedisResult<()> {
        let mut conn = self.commands.clone();
        self.heartbeat(&mut conn).await?;
        let mut register = scripts::REGISTER.prepare_invoke();
        register.arg(&self.node);
        for mut join in self.board.local_member_joins() {
            join.stamp(&self.node);
            if let Event::Join {
                peer,
                room,
                nickname,
                ..
            } = &join
            {
                register
                    .arg(peer.as_str())
                    .arg(room.as_str())
                    .arg(nickname.as_str())
                    .arg(serde_json::to_string(&join).unwrap_or_default());
            }
        }
        let _: String = register.invoke_async(&mut conn).await?;
        let truth = snapshot(&mut conn).await?;
        self.board.reconcile(&truth);
        Ok(())
    }

    /// Refreshes the heartbeat and removes the peers of dead nodes.
    async fn keep_alive(self: Arc<Self>, stop: CancellationToken) {
        let mut ticks = interval(HEARTBEAT_EVERY);
        while stop.run_until_cancelled(ticks.tick()).await.is_some() {
            let mut conn = self.commands.clone();
            match self.heartbeat(&mut conn).await {
                // Missing from the node set: taken for dead (a long pause, a Redis restart).
                Ok(true) if self.online.load(Ordering::Acquire) => self.resync_needed.notify_one(),
                Ok(_) => {}
                Err(err) => debug!(cause = %err, "heartbeat failed"),
            }
            if let Err(err) = self.reap_dead_nodes(&mut conn).await {
                debug!(cause = %err, "could not check for dead nodes");
            }
            if self.admin
                && let Err(err) = self.publish_view(&mut conn).await
            {
                debug!(cause = %err, "could not publish this node's admin view");
            }
        }
    }

    /// Returns whether this node had to be added back to the node set.
    async fn heartbeat(&self, conn: &mut ConnectionManager) -> RedisResult<bool> {
        let (_, added): ((), u32) = redis::pipe()
            .cmd("SET")
            .arg(scripts::alive_key(&self.node))
            .arg(1)
            .arg("PX")
            .arg(HEARTBEAT_TTL_MS)
            .sadd(scripts::NODES, &self.node)
            .query_async(conn)
            .await?;
        Ok(added == 1)
    }

    async fn reap_dead_nodes(&self, conn: &mut ConnectionManager) -> RedisResult<()> {
        let nodes: Vec<String> = conn.smembers(scripts::NODES).await?;
        for node in nodes.iter().filter(|node| **node != self.node) {
            let removed: u32 = scripts::REAP
                .prepare_invoke()
                .arg(node)
                .arg("expired")
                .invoke_async(conn)
                .await?;
            if removed > 0 {
                info!(dead_node = %node, peers = removed, "removed the peers of a dead node");
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct StoredMember {
    nickname: String,
    node: String,
    seq: u64,
}

/// Every room's members, in join order, and access as Redis holds them.
async fn snapshot(conn: &mut ConnectionManager) -> RedisResult<Vec<RoomTruth>> {
    let rooms: Vec<String> = conn.smembers(scripts::ROOMS).await?;
    let mut truth = Vec::with_capacity(rooms.len());
    for name in rooms {
        let stored: HashMap<String, String> = conn.hgetall(scripts::room_key(&name)).await?;
        let Ok(room) = RoomName::new(&name) else {
            continue;
        };
        let mut members: Vec<(u64, MemberTruth)> = stored
            .into_iter()
            .filter_map(|(peer, raw)| {
                let member: StoredMember = serde_json::from_str(&raw).ok()?;
                let truth = MemberTruth {
                    peer: PeerId::new(&peer).ok()?,
                    nickname: Nickname::new(&member.nickname).ok()?,
                    node: member.node,
                };
                Some((member.seq, truth))
            })
            .collect();
        members.sort_by_key(|(seq, _)| *seq);
        let stored: HashMap<String, String> = conn.hgetall(scripts::access_key(&name)).await?;
        truth.push(RoomTruth {
            name: room,
            members: members.into_iter().map(|(_, member)| member).collect(),
            access: Access {
                password: stored
                    .get("password")
                    .cloned()
                    .map(PasswordHash::from_stored),
                lobby: stored.get("lobby").is_some_and(|lobby| lobby == "1"),
            },
        });
    }
    Ok(truth)
}

/// The URL as it may be logged: without a password.
fn without_password(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://…@{host}"),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn passwords_are_not_logged() {
        assert_eq!(
            without_password("redis://:secret@db:6379/0"),
            "redis://…@db:6379/0"
        );
        assert_eq!(
            without_password("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }
}
