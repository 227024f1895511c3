#!/usr/bin/env bash
# Every benchmark, on SQLite and (as root, with Debian's PostgreSQL) PostgreSQL; writes docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(id -u)" -eq 0 ]; then
  CALLCENTER_BENCH_POSTGRES_URL=$(bash scripts/postgres.sh)
  export CALLCENTER_BENCH_POSTGRES_URL
fi
CALLCENTER_BENCH_REDIS_URL=$(bash scripts/redis.sh)
export CALLCENTER_BENCH_REDIS_URL
exec .venv/bin/python -m bench "$@"
