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

for path in / /room/standup; do
  page=$(curl -fsS "http://$addr$path") || { echo "no answer at $path" >&2; exit 1; }
  [[ $page == *"<script"* ]] || { echo "no app at $path" >&2; exit 1; }
done
# A WebSocket handshake from the app's own origin; the server greets at once with `welcome`.
python3 - "$addr" <<'PY' || { echo "no welcome on /ws" >&2; exit 1; }
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
with socket.create_connection((host, int(port)), timeout=5) as s:
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: {sys.argv[1]}\r\nOrigin: http://{sys.argv[1]}\r\n"
               "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode())
    got = b""
    while b'"type":"welcome"' not in got:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
assert got.startswith(b"HTTP/1.1 101"), got[:80]
assert b'"type":"welcome"' in got, got[:200]
PY
echo "README's run command works: app, deep link and WebSocket answered on $addr"
