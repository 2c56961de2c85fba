#!/usr/bin/env bash
# The main job, end to end, on loopback: install what is needed, start the lab
# (Docker Engine, nginx, PowerDNS, Prometheus), create a project wired to it, then
#   infra ask "Create a new API scanner service" → infra plan → infra apply --yes
# and show that it works (HTTP through nginx reaches the container, dig answers the
# record, Prometheus has the target up), tear it down again; then a service with
# HTTPS: a certificate from the lab's ACME CA (pebble, proving the name through
# PowerDNS), its card, and the page fetched over HTTPS.
#
#   examples/demo.sh [WORKDIR]      (the lab is stopped when the script ends)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

tests/lab/lab.sh install
if [ -n "${INFRA_BIN:-}" ]; then
    infra="$INFRA_BIN"   # the test suite runs the demo with the binary it built
else
    cargo build --release --quiet --bin infra
    infra="$repo/target/release/infra"
fi
work=$(mkdir -p "${1:-$(mktemp -d -t infra-demo.XXXXXX)}" && cd "${1:-$_}" && pwd)
lab="$work/lab"
project="$work/project"

tests/lab/lab.sh start "$lab"
trap '"$repo/tests/lab/lab.sh" stop "$lab"' EXIT
# shellcheck disable=SC1091
. "$lab/lab.env"
export PDNS_API_KEY="$LAB_PDNS_API_KEY"   # the spec refers to it as env:PDNS_API_KEY
export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-infra demo}" GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-demo@localhost}"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
step() { bold "\$ $*"; "$@"; }
infra() { "$infra" "$@"; }

mkdir -p "$project" && cd "$project"
git init -q -b main
cat > infra.toml <<TOML
[project]
name = "demo"
domain = "lab.example.com"

[providers.engine]
kind = "docker"
socket = "$LAB_DOCKER_SOCKET"

[providers.dns]
kind = "powerdns"
api_url = "$LAB_PDNS_API"
api_key = "env:PDNS_API_KEY"

[providers.edge]
kind = "nginx"
sites_dir = "$LAB_NGINX_SITES"
nginx = "nginx -p $LAB_NGINX_PREFIX -c $LAB_NGINX_PREFIX/nginx.conf -e $LAB_NGINX_PREFIX/logs/error.log"

challenge_dir = "$LAB_NGINX_ACME"

[providers.monitoring]
kind = "prometheus"
targets_dir = "$LAB_TARGETS_DIR"

# Certificates: the lab's ACME CA (Let's Encrypt when \`directory\` is left out),
# proving names with TXT records through the dns provider; files where nginx reads them.
[providers.acme]
kind = "acme"
cert_dir = "$LAB_NGINX_CERTS"
dns = "dns"
proxy = "edge"
directory = "$LAB_ACME_DIRECTORY"
ca_cert = "$LAB_ACME_CA"

# Containers use host networking and bind these loopback addresses.
[pools.lab]
cidr = "127.0.100.0/24"
range = "127.0.100.50-127.0.100.99"

[vars]
"web-service.image" = "infra-lab/web:1"
"web-service.listen" = "127.0.0.1:$LAB_NGINX_PORT"
"web-service.tls_listen" = "127.0.0.1:$LAB_NGINX_TLS_PORT"
TOML
printf '.infra/lock\n.infra/journal.jsonl\n' > .gitignore
git add -A && git commit -qm "Lab project"

# nginx reloads asynchronously: after `nginx -s reload` an old worker can still
# answer a request or two (longer on a busy machine) before it stops accepting.
# So a check waits, at most 15 s, for five answers in a row that agree.
site_answer() {
    curl -sS --max-time 2 -w '\n%{http_code}\n' -H "Host: api-scanner.lab.example.com" \
        "http://127.0.0.1:$LAB_NGINX_PORT/" 2>/dev/null || true
}
wait_for_site() { # $1: a pattern some line of the answer (body, then status) matches
    local in_a_row=0
    for _ in $(seq 1 150); do
        if site_answer | grep -q "$1"; then
            in_a_row=$((in_a_row + 1))
            [ "$in_a_row" -ge 5 ] && return 0
        else
            in_a_row=0
        fi
        sleep 0.1
    done
    return 1
}
nginx_trouble() {
    echo "$1; nginx's error log ends:" >&2
    tail -20 "$LAB_NGINX_PREFIX/logs/error.log" >&2 || true
    ls -l "$LAB_NGINX_SITES" >&2 || true
}

step infra ask "Create a new API scanner service"
step infra plan
step infra apply --yes

bold "# HTTP through nginx, by the service's host name, reaches the container:"
wait_for_site "hello from" || nginx_trouble "nginx did not serve the site"
step curl -sS --max-time 5 -H "Host: api-scanner.lab.example.com" "http://127.0.0.1:$LAB_NGINX_PORT/" ||
    true
bold "# PowerDNS answers the record:"
step dig +short @127.0.0.1 -p "$LAB_PDNS_PORT" api-scanner.lab.example.com A
bold "# Prometheus has the monitor's target (file_sd, no restart), and its probe succeeds:"
for _ in $(seq 1 60); do
    targets=$(curl -sS --max-time 5 "$LAB_PROMETHEUS/api/v1/targets")
    if python3 -c 'import json,sys; t=[x for x in json.load(sys.stdin)["data"]["activeTargets"] if "api-scanner" in x["labels"].get("instance","")]; sys.exit(0 if t and t[0]["health"]=="up" else 1)' <<<"$targets"; then
        python3 -c 'import json,sys; [print(" ", x["labels"]["instance"], "health:", x["health"]) for x in json.load(sys.stdin)["data"]["activeTargets"]]' <<<"$targets"
        break
    fi
    sleep 0.5
done
for _ in $(seq 1 60); do
    success=$(curl -sS --max-time 5 --get --data-urlencode 'query=probe_success{instance=~".*api-scanner.*"}' "$LAB_PROMETHEUS/api/v1/query" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")')
    [ "$success" = 1 ] && break
    sleep 0.5
done
echo "  probe_success = ${success:-none}"

step infra history
step infra ask "tear down the api scanner"
step infra apply --yes
bold "# Gone again:"
wait_for_site '^404$' || nginx_trouble "nginx still serves the removed site"
curl -sS --max-time 5 -o /dev/null -w '  nginx answers %{http_code} for api-scanner.lab.example.com\n' -H "Host: api-scanner.lab.example.com" "http://127.0.0.1:$LAB_NGINX_PORT/"
printf '  dig: %s\n' "$(dig +short @127.0.0.1 -p "$LAB_PDNS_PORT" api-scanner.lab.example.com A || true)"

step infra ask "Deploy grafana with HTTPS"
step infra apply --yes
step infra output grafana
bold "# The page over HTTPS, trusting only the lab CA's root:"
curl -sS --max-time 5 --cacert "$LAB_ACME_CA" -o "$work/acme-root.pem" "$LAB_ACME_ROOTS"
for _ in $(seq 1 50); do
    if curl -sS --max-time 2 --cacert "$work/acme-root.pem" --resolve "grafana.lab.example.com:$LAB_NGINX_TLS_PORT:127.0.0.1" \
        "https://grafana.lab.example.com:$LAB_NGINX_TLS_PORT/" >/dev/null 2>&1; then break; fi
    sleep 0.2
done
step curl -sS --max-time 5 --cacert "$work/acme-root.pem" --resolve "grafana.lab.example.com:$LAB_NGINX_TLS_PORT:127.0.0.1" \
    "https://grafana.lab.example.com:$LAB_NGINX_TLS_PORT/" || { nginx_trouble "nginx did not serve grafana over HTTPS"; exit 1; }
echo
echo "The project is in $project; the lab stops now."
