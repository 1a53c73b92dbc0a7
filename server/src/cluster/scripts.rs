//! The Lua scripts that change shared state. Each runs atomically in Redis and publishes its
//! event on the same channel in the same step, so every node sees state changes in one order.
//!
//! Keys: `noom:room:{room}` hash peer → `{"nickname","node","seq"}` (the members, `seq` giving
//! join order); `noom:rooms` set of non-empty rooms; `noom:node:{node}` hash peer → room (a
//! node's members, for cleanup); `noom:access:{room}` hash `password` (an Argon2 hash) and
//! `lobby` (`1` or `0`), gone with the room; `noom:nodes` set of nodes; `noom:alive:{node}`
//! heartbeat key with a time to live; `noom:seq` the join counter.

use std::sync::LazyLock;

use redis::Script;

/// The channel every event is published on.
pub(crate) const EVENTS: &str = "noom:events";
pub(crate) const NODES: &str = "noom:nodes";
pub(crate) const ROOMS: &str = "noom:rooms";

pub(crate) fn alive_key(node: &str) -> String {
    format!("noom:alive:{node}")
}

pub(crate) fn room_key(room: &str) -> String {
    format!("noom:room:{room}")
}

pub(crate) fn access_key(room: &str) -> String {
    format!("noom:access:{room}")
}

/// Shared Lua: takes `peer` of `node` out of its room; returns whether it was in one.
const REMOVE_MEMBER: &str = r#"
local function remove_member(node, peer)
  local room = redis.call('HGET', 'noom:node:' .. node, peer)
  if not room then return false end
  redis.call('HDEL', 'noom:node:' .. node, peer)
  local key = 'noom:room:' .. room
  redis.call('HDEL', key, peer)
  if redis.call('HLEN', key) == 0 then
    redis.call('SREM', 'noom:rooms', room)
    redis.call('DEL', 'noom:access:' .. room)
  end
  return true
end
local function add_member(node, peer, room, nickname)
  local seq = redis.call('INCR', 'noom:seq')
  redis.call('HSET', 'noom:room:' .. room, peer, cjson.encode({nickname = nickname, node = node, seq = seq}))
  redis.call('SADD', 'noom:rooms', room)
  redis.call('HSET', 'noom:node:' .. node, peer, room)
end
"#;

fn script(body: &str) -> Script {
    Script::new(&format!("{REMOVE_MEMBER}\n{body}"))
}

/// ARGV: node, peer, room, nickname, max room size, join event, the password hash the joiner's
/// password matched (or empty), `1` if the host let the joiner in from the lobby.
/// Returns `ok` (joined and published); `full`, `already`, `wrong_password` (the room's
/// password changed meanwhile) or `lobby` (its lobby was turned on meanwhile): nothing changed.
pub(crate) static JOIN: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local node, peer, room, nickname, max, event = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local matched, admitted = ARGV[7], ARGV[8] == '1'
if redis.call('HEXISTS', 'noom:node:' .. node, peer) == 1 then return 'already' end
if redis.call('HLEN', 'noom:room:' .. room) >= max then return 'full' end
if not admitted then
  local access = redis.call('HMGET', 'noom:access:' .. room, 'password', 'lobby')
  if access[1] and access[1] ~= matched then return 'wrong_password' end
  if access[2] == '1' then return 'lobby' end
end
add_member(node, peer, room, nickname)
redis.call('PUBLISH', 'noom:events', event)
return 'ok'
"#,
    )
});

/// ARGV: node, peer, leave or gone event. Publishes the event even if Redis had lost the
/// member (after a Redis restart), so that every node still applies it.
pub(crate) static LEAVE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
remove_member(ARGV[1], ARGV[2])
redis.call('PUBLISH', 'noom:events', ARGV[3])
return 'ok'
"#,
    )
});

/// ARGV: room, password hash (empty for none), lobby (`1` or `0`), set-access event. Keeps
/// the room's access while it has members.
pub(crate) static ACCESS: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local room, password, lobby = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HLEN', 'noom:room:' .. room) == 0 then return 'gone' end
local key = 'noom:access:' .. room
redis.call('DEL', key)
redis.call('HSET', key, 'lobby', lobby)
if password ~= '' then redis.call('HSET', key, 'password', password) end
redis.call('PUBLISH', 'noom:events', ARGV[4])
return 'ok'
"#,
    )
});

/// ARGV: room, peer, remove event. Takes `peer` out of `room`, whichever node it is on (a host
/// removes members of other nodes too).
pub(crate) static REMOVE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local room, peer = ARGV[1], ARGV[2]
local key = 'noom:room:' .. room
local raw = redis.call('HGET', key, peer)
if raw then
  remove_member(cjson.decode(raw).node, peer)
end
redis.call('PUBLISH', 'noom:events', ARGV[3])
return 'ok'
"#,
    )
});

/// ARGV: node, peer, room, resume event. Moves the member `peer` to `node` (the node its
/// client reconnected to), so that it is reaped with that node from now on.
pub(crate) static MOVE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local node, peer, room = ARGV[1], ARGV[2], ARGV[3]
local key = 'noom:room:' .. room
local raw = redis.call('HGET', key, peer)
if raw then
  local member = cjson.decode(raw)
  redis.call('HDEL', 'noom:node:' .. member.node, peer)
  member.node = node
  redis.call('HSET', key, peer, cjson.encode(member))
  redis.call('HSET', 'noom:node:' .. node, peer, room)
end
redis.call('PUBLISH', 'noom:events', ARGV[4])
return 'ok'
"#,
    )
});

/// ARGV: node, peer, nickname, rename event.
pub(crate) static RENAME: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local node, peer, nickname = ARGV[1], ARGV[2], ARGV[3]
local room = redis.call('HGET', 'noom:node:' .. node, peer)
if room then
  local key = 'noom:room:' .. room
  local raw = redis.call('HGET', key, peer)
  if raw then
    local member = cjson.decode(raw)
    member.nickname = nickname
    redis.call('HSET', key, peer, cjson.encode(member))
  end
end
redis.call('PUBLISH', 'noom:events', ARGV[4])
return 'ok'
"#,
    )
});

/// ARGV: node, then groups of four: peer, room, nickname, join event.
/// Makes Redis hold exactly these members for the node (after Redis or this node lost touch):
/// members Redis has but the node no longer has leave (a gone event each); missing ones are
/// added (their join event). Room size is not checked: the people are already talking.
pub(crate) static REGISTER: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local node = ARGV[1]
local wanted = {}
for i = 2, #ARGV, 4 do wanted[ARGV[i]] = true end
local current = redis.call('HGETALL', 'noom:node:' .. node)
for i = 1, #current, 2 do
  local peer = current[i]
  if not wanted[peer] then
    remove_member(node, peer)
    redis.call('PUBLISH', 'noom:events', cjson.encode({kind = 'gone', peer = peer}))
  end
end
for i = 2, #ARGV, 4 do
  local peer, room, nickname, event = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if redis.call('HEXISTS', 'noom:node:' .. node, peer) == 0 then
    add_member(node, peer, room, nickname)
    redis.call('PUBLISH', 'noom:events', event)
  end
end
redis.call('SADD', 'noom:nodes', node)
return 'ok'
"#,
    )
});

/// ARGV: node, `expired` or `leaving`. Removes every member of a node, publishing a gone event
/// each, and returns how many: `expired`, if the node's heartbeat has expired (it died, or it
/// was stopped and its people did not resume elsewhere); `leaving` (the node itself, stopping),
/// unless another node is alive, where its people can resume their seats meanwhile.
pub(crate) static REAP: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local node, mode = ARGV[1], ARGV[2]
if mode == 'expired' and redis.call('EXISTS', 'noom:alive:' .. node) == 1 then return 0 end
if mode == 'leaving' then
  for _, other in ipairs(redis.call('SMEMBERS', 'noom:nodes')) do
    if other ~= node and redis.call('EXISTS', 'noom:alive:' .. other) == 1 then return 0 end
  end
end
local members = redis.call('HGETALL', 'noom:node:' .. node)
for i = 1, #members, 2 do
  remove_member(node, members[i])
  redis.call('PUBLISH', 'noom:events', cjson.encode({kind = 'gone', peer = members[i]}))
end
redis.call('DEL', 'noom:node:' .. node, 'noom:alive:' .. node)
redis.call('SREM', 'noom:nodes', node)
return #members / 2
"#,
    )
});
