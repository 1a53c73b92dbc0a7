#!/usr/bin/env bash
# Installs what building Noom needs on Debian 12 and, with --test, what its tests need too
# (Chromium, Redis, nftables, Pebble, coturn, Prometheus, iproute2), skipping whatever is
# already there at the right version. Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."
for_tests=false
[ "${1:-}" = "--test" ] && for_tests=true

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132
# The accessibility browser tests inject axe-core into the pages.
AXE_CORE_VERSION=4.14.1
# wasm-bindgen-cli must match the client's wasm-bindgen exactly (pinned with `=`).
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' client/Cargo.toml)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
# npm brings wasm-opt (binaryen), below.
command -v npm >/dev/null || missing+=(npm)
command -v curl >/dev/null || missing+=(curl)
if $for_tests; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v redis-server >/dev/null || missing+=(redis-server)
  # The ICE-restart browser test drops a link's packets with nftables (as root).
  command -v nft >/dev/null || missing+=(nftables)
  # The ACME test gets certificates from Pebble, Let's Encrypt's test CA (offline).
  command -v pebble >/dev/null || missing+=(pebble)
  # The TURN tests run a real coturn and try credentials with its turnutils_uclient.
  command -v turnserver >/dev/null || missing+=(coturn)
  # The metrics test checks /metrics with Prometheus's promtool.
  command -v promtool >/dev/null || missing+=(prometheus)
  # The secure-context and TURN browser tests use network namespaces.
  command -v ip >/dev/null || missing+=(iproute2)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "apt: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup: wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "cargo install trunk $TRUNK_VERSION (about 20 minutes on 2 cores)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install trunk --locked --version "$TRUNK_VERSION"
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: one locked dependency is missing from the registry mirror.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION\b"; then
  say "npm: binaryen@$BINARYEN_VERSION (wasm-opt; Debian's older binaryen breaks the bundle)"
  as_root npm install --global --no-fund --no-audit "binaryen@$BINARYEN_VERSION"
fi

if $for_tests && [ "$(npm ls --global --depth=0 axe-core 2>/dev/null | grep -o 'axe-core@[0-9.]*')" != "axe-core@$AXE_CORE_VERSION" ]; then
  say "npm: axe-core@$AXE_CORE_VERSION (the accessibility checks of the browser tests)"
  as_root npm install --global --no-fund --no-audit "axe-core@$AXE_CORE_VERSION"
fi

if $for_tests && ! python3 -m pip install --quiet --dry-run --no-index --disable-pip-version-check \
    -r tests/aiortc/requirements.txt >/dev/null 2>&1; then
  say "pip: aiortc (the SFU test's WebRTC stack that is not a browser's)"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    --break-system-packages -r tests/aiortc/requirements.txt
fi
