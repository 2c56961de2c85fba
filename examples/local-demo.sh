#!/usr/bin/env bash
# Set up and run the main job on the embedded local example (no server needed):
# build infra, create a project in a temp directory, plan, apply, show drift
# detection and repair, and the git history.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin infra
infra="$PWD/target/release/infra"
work="${1:-$(mktemp -d -t infra-demo.XXXXXX)}"
mkdir -p "$work" && cd "$work"
export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-infra demo}" GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-demo@localhost}"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step "$infra" init --example local
git add -A && git commit -qm "Example project"
step "$infra" validate
step "$infra" plan
step "$infra" apply --yes
step cat out/motd.txt
echo "# a hand edit (drift)" >> out/motd.txt
step "$infra" plan
step "$infra" apply --yes
step "$infra" history
echo -e "\nThe project is in $work"
