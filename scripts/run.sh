#!/usr/bin/env bash
# Installs what is missing, builds Noom and runs it on http://127.0.0.1:8080 (flags pass through:
# `scripts/run.sh --listen 0.0.0.0:8080`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cargo build --release -p noom-server --bin noom-server
exec target/release/noom-server "$@"
