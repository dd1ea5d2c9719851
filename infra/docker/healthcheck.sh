#!/usr/bin/env bash
# hub-healthcheck PORT [PATH]
#
# Container health probe for images without curl or wget: sends one HTTP/1.1 GET to
# 127.0.0.1:PORT (bash's /dev/tcp) and succeeds only on a 2xx status.
# Installed in the image as /usr/local/bin/hub-healthcheck; docker-compose.yml calls
# it as `hub-healthcheck 8081 /health/ready`. Kubernetes uses httpGet probes instead.
set -euo pipefail

port="${1:?usage: hub-healthcheck PORT [PATH]}"
path="${2:-/health/ready}"

# Connection refused fails here (non-zero exit), which is what we want.
exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$path" "$port" >&3

status=""
IFS= read -r -t 5 status <&3 || true
exec 3<&-

case "$status" in
  "HTTP/1."?" 2"*) exit 0 ;;
  *) printf 'unhealthy: GET %s -> %s\n' "$path" "${status:-no response}" >&2; exit 1 ;;
esac
