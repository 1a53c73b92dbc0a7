#!/usr/bin/env bash
# Builds the web app into dist/ (release, no downloads) and prints the WASM bundle's gzipped size.
set -euo pipefail
cd "$(dirname "$0")/.."
trunk build --release --offline --skip-version-check
wasm=$(ls dist/*.wasm)
printf 'WASM bundle: %s bytes, %s bytes gzipped\n' "$(stat -c %s "$wasm")" "$(gzip -9 -c "$wasm" | wc -c)"
