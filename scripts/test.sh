#!/usr/bin/env bash
# The whole test suite against real services: the sandbox Asterisk, PostgreSQL and SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(id -u)" -eq 0 ]; then
  echo "test: the sandbox's Asterisk chroot (built once, about a minute, then cached)"
  .venv/bin/python -c "from config import load_settings; from config.local_asterisk import chroot_dir; from telephony.sandbox.chroot import ensure_chroot; ensure_chroot(chroot_dir(load_settings()))"
  echo "test: PostgreSQL"
  CALLCENTER_TEST_POSTGRES_URL=$(bash scripts/postgres.sh)
  export CALLCENTER_TEST_POSTGRES_URL
fi
echo "test: Redis"
CALLCENTER_TEST_REDIS_URL=$(bash scripts/redis.sh)
export CALLCENTER_TEST_REDIS_URL
echo "test: the suite (pytest)"
exec .venv/bin/python -m pytest --durations=20 "$@"  # the slowest tests, to keep the run short
