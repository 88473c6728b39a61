#!/usr/bin/env bash
# The cluster tests need a Redis on 127.0.0.1:6379 and the redis-server binary (one test restarts
# a Redis of its own). Installs redis-server from Debian's packages if missing and starts one on
# 6379 if none answers there.
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
    echo "installing redis-server (the cluster tests use a real Redis)" >&2
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y -q redis-server >&2 || { apt-get update -q >&2 && apt-get install -y -q redis-server >&2; }
    else
        sudo apt-get install -y -q redis-server >&2
    fi
fi
answers() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }
if ! answers; then
    echo "starting redis-server on 127.0.0.1:6379" >&2
    redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" --appendonly no \
        --logfile "${TMPDIR:-/tmp}/cbutler-redis-6379.log" >&2
    for _ in $(seq 50); do answers && break; sleep 0.1; done
    answers || { echo "error: redis-server did not start on 127.0.0.1:6379" >&2; exit 1; }
fi
