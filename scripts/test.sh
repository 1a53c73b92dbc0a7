#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the web app's release build, then the unit,
# integration and browser end-to-end tests against that build, and README's run command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> clippy (server, shared, tests)"
cargo clippy --all-targets -- -D warnings
echo "==> clippy (client, wasm32)"
cargo clippy -p noom-client --target wasm32-unknown-unknown -- -D warnings
echo "==> build the web app"
scripts/build.sh
echo "==> tests"
cargo test
echo "==> README's run command"
scripts/check-run.sh
