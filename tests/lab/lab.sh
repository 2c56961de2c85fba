#!/usr/bin/env bash
# A lab on loopback: Docker Engine, nginx, PowerDNS (HTTP API, zone lab.example.com),
# Prometheus + blackbox exporter, and pebble (an ACME CA validating through that
# PowerDNS). Every file under one directory; every port on
# 127.0.0.1; nothing left running after `stop`.
#
#   lab.sh install        install the Debian packages (when missing)
#   lab.sh start DIR      start everything under DIR; writes DIR/lab.env
#   lab.sh stop DIR       stop everything started under DIR
#
# Docker runs with --bridge=none: containers use host networking and bind
# 127.x addresses, so no packet leaves loopback. The image infra-lab/web:1 is
# built locally from busybox-static (no registry here): httpd on $INFRA_ADDRESS:8080.
set -euo pipefail

PACKAGES="docker.io busybox-static nginx pdns-server pdns-backend-sqlite3 dnsutils sqlite3 prometheus prometheus-blackbox-exporter curl pebble openssl"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_for() { # wait_for WHAT SECONDS CMD...
    local what=$1 secs=$2; shift 2
    for _ in $(seq 1 $((secs * 10))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "lab: $what did not become ready in ${secs}s" >&2
    return 1
}

install() {
    local need=()
    for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
    if [ ${#need[@]} -gt 0 ]; then
        echo "lab: installing ${need[*]}" >&2
        local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
    fi
}

start() {
    local d; d=$(mkdir -p "$1" && cd "$1" && pwd)
    mkdir -p "$d"/{docker,nginx/sites,nginx/logs,nginx/tmp,nginx/certs,nginx/acme,pdns,prometheus/targets,prometheus/data,image/rootfs/bin,image/rootfs/www,pebble}
    chmod 755 "$d" "$d/nginx" "$d/nginx/acme"
    local nginx_port nginx_tls_port pdns_port pdns_api prom_port bb_port acme_port acme_mgmt
    nginx_port=$(free_port); nginx_tls_port=$(free_port); pdns_port=$(free_port); pdns_api=$(free_port); prom_port=$(free_port); bb_port=$(free_port)
    acme_port=$(free_port); acme_mgmt=$(free_port)
    local key; key="lab-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

    # Docker Engine on its own socket; no bridge, no iptables.
    dockerd --data-root "$d/docker/data" --exec-root "$d/docker/exec" --pidfile "$d/docker/docker.pid" \
        -H "unix://$d/docker/docker.sock" --bridge=none --iptables=false --ip6tables=false \
        >"$d/docker/dockerd.log" 2>&1 &
    wait_for dockerd 30 curl -fsS --unix-socket "$d/docker/docker.sock" http://docker/_ping
    # The web image: busybox httpd serving /www on $INFRA_ADDRESS:8080 (host network).
    cp "$(command -v busybox)" "$d/image/rootfs/bin/busybox"
    ln -sf busybox "$d/image/rootfs/bin/sh"
    echo "hello from the infra lab container" > "$d/image/rootfs/www/index.html"
    tar -C "$d/image/rootfs" -cf "$d/image/web.tar" .
    DOCKER_HOST="unix://$d/docker/docker.sock" docker import \
        --change 'CMD ["/bin/busybox", "sh", "-c", "exec /bin/busybox httpd -f -p ${INFRA_ADDRESS:-127.0.0.1}:8080 -h /www"]' \
        "$d/image/web.tar" infra-lab/web:1 >/dev/null

    # nginx: sites in nginx/sites, validated with -t, reloaded by the provider.
    cat > "$d/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $d/nginx/nginx.pid;
error_log $d/nginx/logs/error.log info;
# After a reload, old workers finish at most 1 s later (not when idle clients leave).
worker_shutdown_timeout 1s;
events { worker_connections 64; }
http {
    keepalive_timeout 2s;
    access_log $d/nginx/logs/access.log;
    client_body_temp_path $d/nginx/tmp/body; proxy_temp_path $d/nginx/tmp/proxy;
    fastcgi_temp_path $d/nginx/tmp/fcgi; uwsgi_temp_path $d/nginx/tmp/uwsgi; scgi_temp_path $d/nginx/tmp/scgi;
    server { listen 127.0.0.1:$nginx_port default_server; return 404; }
    include $d/nginx/sites/*.conf;
}
CONF
    nginx -t -p "$d/nginx" -c "$d/nginx/nginx.conf" -e "$d/nginx/logs/error.log" >/dev/null 2>&1
    nginx -p "$d/nginx" -c "$d/nginx/nginx.conf" -e "$d/nginx/logs/error.log" -g 'daemon off;' >"$d/nginx/logs/stdout.log" 2>&1 &
    echo $! > "$d/nginx/master.pid"
    wait_for nginx 10 curl -sS -o /dev/null "http://127.0.0.1:$nginx_port/"

    # PowerDNS with the HTTP API and the zone lab.example.com.
    sqlite3 "$d/pdns/pdns.db" < /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql
    cat > "$d/pdns/pdns.conf" <<CONF
launch=gsqlite3
gsqlite3-database=$d/pdns/pdns.db
local-address=127.0.0.1
local-port=$pdns_port
api=yes
api-key=$key
webserver=yes
webserver-address=127.0.0.1
webserver-port=$pdns_api
webserver-allow-from=127.0.0.0/8
socket-dir=$d/pdns
daemon=no
guardian=no
disable-syslog=yes
zone-cache-refresh-interval=0
cache-ttl=0
negquery-cache-ttl=0
query-cache-ttl=0
CONF
    pdns_server --config-dir="$d/pdns" >"$d/pdns/pdns.log" 2>&1 &
    echo $! > "$d/pdns/pdns.pid"
    wait_for pdns 10 curl -fsS -H "X-API-Key: $key" "http://127.0.0.1:$pdns_api/api/v1/servers/localhost"
    curl -fsS -X POST -H "X-API-Key: $key" -H 'Content-Type: application/json' \
        -d '{"name":"lab.example.com.","kind":"Native","nameservers":["ns1.lab.example.com."]}' \
        "http://127.0.0.1:$pdns_api/api/v1/servers/localhost/zones" >/dev/null

    # Prometheus + blackbox exporter; monitors arrive as file_sd target files.
    # Probes go through the lab's nginx as their proxy and resolve no name: the
    # machine's resolver is off loopback, and nginx routes by host name anyway.
    cat > "$d/prometheus/blackbox.yml" <<CONF
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http: { proxy_url: "http://127.0.0.1:$nginx_port", skip_resolve_phase_with_proxy: true }
CONF
    cat > "$d/prometheus/prometheus.yml" <<CONF
global: { scrape_interval: 2s, evaluation_interval: 2s }
scrape_configs:
  - job_name: infra-monitors
    metrics_path: /probe
    params: { module: [http_2xx] }
    file_sd_configs: [ { files: ['$d/prometheus/targets/*.json'], refresh_interval: 2s } ]
    relabel_configs:
      - { source_labels: [__address__], target_label: __param_target }
      - { source_labels: [__param_target], target_label: instance }
      - { target_label: __address__, replacement: 127.0.0.1:$bb_port }
CONF
    prometheus-blackbox-exporter --config.file="$d/prometheus/blackbox.yml" --web.listen-address="127.0.0.1:$bb_port" \
        >"$d/prometheus/blackbox.log" 2>&1 &
    echo $! > "$d/prometheus/blackbox.pid"
    prometheus --config.file="$d/prometheus/prometheus.yml" --storage.tsdb.path="$d/prometheus/data" \
        --web.listen-address="127.0.0.1:$prom_port" --web.enable-lifecycle >"$d/prometheus/prometheus.log" 2>&1 &
    echo $! > "$d/prometheus/prometheus.pid"
    wait_for prometheus 20 curl -fsS "http://127.0.0.1:$prom_port/-/ready"

    # pebble: an ACME CA whose HTTPS certificate comes from a CA of the lab's own,
    # validating dns-01 through the lab's PowerDNS and http-01 on nginx's port.
    (
        cd "$d/pebble"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 7 -subj /CN=lab-ca 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out leaf.csr -subj /CN=localhost 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > leaf.ext
        openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 7 -extfile leaf.ext 2>/dev/null
    )
    cat > "$d/pebble/pebble.json" <<CONF
{"pebble": {"listenAddress": "127.0.0.1:$acme_port", "managementListenAddress": "127.0.0.1:$acme_mgmt",
 "certificate": "$d/pebble/cert.pem", "privateKey": "$d/pebble/key.pem", "httpPort": $nginx_port, "tlsPort": $nginx_tls_port,
 "ocspResponderURL": "", "externalAccountBindingRequired": false}}
CONF
    PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$d/pebble/pebble.json" -dnsserver "127.0.0.1:$pdns_port" \
        >"$d/pebble/pebble.log" 2>&1 &
    echo $! > "$d/pebble/pebble.pid"
    wait_for pebble 10 curl -fsS --cacert "$d/pebble/ca.pem" "https://127.0.0.1:$acme_port/dir"

    cat > "$d/lab.env" <<ENV
LAB_DIR=$d
LAB_DOCKER_SOCKET=$d/docker/docker.sock
LAB_NGINX_PORT=$nginx_port
LAB_NGINX_TLS_PORT=$nginx_tls_port
LAB_NGINX_CERTS=$d/nginx/certs
LAB_NGINX_ACME=$d/nginx/acme
LAB_ACME_DIRECTORY=https://127.0.0.1:$acme_port/dir
LAB_ACME_CA=$d/pebble/ca.pem
LAB_ACME_ROOTS=https://127.0.0.1:$acme_mgmt/roots/0
LAB_NGINX_PREFIX=$d/nginx
LAB_NGINX_SITES=$d/nginx/sites
LAB_PDNS_PORT=$pdns_port
LAB_PDNS_API=http://127.0.0.1:$pdns_api
LAB_PDNS_API_KEY=$key
LAB_PROMETHEUS=http://127.0.0.1:$prom_port
LAB_TARGETS_DIR=$d/prometheus/targets
ENV
    echo "lab: running under $d (environment in $d/lab.env)" >&2
}

stop_pid() { # stop_pid FILE SIGNAL
    [ -f "$1" ] || return 0
    local pid; pid=$(cat "$1")
    kill "-$2" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { rm -f "$1"; return 0; }; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$1"
}

stop() {
    local d="$1"
    [ -d "$d" ] || return 0
    if [ -S "$d/docker/docker.sock" ]; then
        # Remove the lab's containers before the engine goes.
        ids=$(DOCKER_HOST="unix://$d/docker/docker.sock" docker ps -aq 2>/dev/null || true)
        [ -n "$ids" ] && DOCKER_HOST="unix://$d/docker/docker.sock" docker rm -f $ids >/dev/null 2>&1 || true
    fi
    stop_pid "$d/pebble/pebble.pid" TERM
    stop_pid "$d/prometheus/prometheus.pid" TERM
    stop_pid "$d/prometheus/blackbox.pid" TERM
    stop_pid "$d/pdns/pdns.pid" TERM
    stop_pid "$d/nginx/master.pid" QUIT
    stop_pid "$d/docker/docker.pid" TERM
    echo "lab: stopped" >&2
}

case "${1:-}" in
    install) install ;;
    start) [ -n "${2:-}" ] || { echo "usage: lab.sh start DIR" >&2; exit 2; }; start "$2" ;;
    stop) [ -n "${2:-}" ] || { echo "usage: lab.sh stop DIR" >&2; exit 2; }; stop "$2" ;;
    *) echo "usage: lab.sh install | start DIR | stop DIR" >&2; exit 2 ;;
esac
