#!/usr/bin/env bash
# Run the whole test suite on a fresh Debian machine: installs the Debian packages
# the tests need (when missing), builds once, runs every test with cargo-nextest
# (or cargo test when nextest is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in git; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing Debian packages: ${need[*]}"
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

export CARGO_TERM_COLOR=never
if cargo nextest --version >/dev/null 2>&1; then
    echo "== building and running tests (cargo-nextest)"
    cargo nextest run --workspace --no-fail-fast --failure-output final
else
    echo "== building and running tests (cargo test)"
    cargo test --workspace --no-fail-fast
fi
