#!/usr/bin/env bash
# Proves README's run command works on this tree: starts `scripts/run.sh` on a port the system
# picks, fetches the app and a deep link, opens the WebSocket and reads `welcome`, then stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
scripts/run.sh --listen 127.0.0.1:0 >"$log" 2>&1 &
runner=$!
stop() { kill "$runner" 2>/dev/null || true; wait "$runner" 2>/dev/null || true; rm -f "$log"; }
trap stop EXIT

# The first run builds the server in release mode: allow it 20 minutes.
addr=""
for _ in $(seq 1 1200); do
  # Log colours, if any, off first.
  addr=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | sed -n 's/.*Noom is listening.*addr=\([0-9.:]*\).*/\1/p' | head -n1)
  [ -n "$addr" ] && break
  kill -0 "$runner" 2>/dev/null || { cat "$log"; echo "scripts/run.sh exited early" >&2; exit 1; }
  sleep 1
done
[ -n "$addr" ] || { tail -n 30 "$log"; echo "scripts/run.sh never started listening" >&2; exit 1; }
echo "scripts/run.sh is serving on $addr"

curl -fsS "http://$addr/" | grep -q '<script' || { echo "no app at /" >&2; exit 1; }
curl -fsS "http://$addr/room/standup" | grep -q '<script' || { echo "no app at /room/standup" >&2; exit 1; }
# A WebSocket handshake from the app's own origin; the server greets at once.
reply=$(curl -sS -N --max-time 3 --http1.1 \
  -H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" \
  -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" -H "Origin: http://$addr" \
  "http://$addr/ws" --output - 2>/dev/null | tr -d '\0' || true)
echo "$reply" | grep -q '"type":"welcome"' || { echo "no welcome on /ws: $reply" >&2; exit 1; }
echo "README's run command works: app, deep link and WebSocket answered on $addr"
