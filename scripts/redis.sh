#!/usr/bin/env bash
# Start a private Redis from Debian's redis-server on loopback (for the tests and a local scale-out
# try) unless it runs already; print its URL. Its data stays in memory: nothing of ours lives only there.
set -euo pipefail
port=${CALLCENTER_REDIS_PORT:-6390}
dir=${TMPDIR:-/tmp}/callcenter-redis-$port
mkdir -p "$dir"
if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
  for _ in $(seq 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
redis-cli -p "$port" ping >/dev/null
echo "redis://127.0.0.1:$port/0"
