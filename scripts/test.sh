#!/usr/bin/env bash
# The whole test suite against real services: the sandbox Asterisk, PostgreSQL and SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(id -u)" -eq 0 ]; then
  CALLCENTER_TEST_POSTGRES_URL=$(bash scripts/postgres.sh)
  export CALLCENTER_TEST_POSTGRES_URL
fi
CALLCENTER_TEST_REDIS_URL=$(bash scripts/redis.sh)
export CALLCENTER_TEST_REDIS_URL
exec .venv/bin/python -m pytest "$@"
