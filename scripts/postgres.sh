#!/usr/bin/env bash
# Start Debian's PostgreSQL cluster and make sure the test role exists; print the admin URL the tests use.
set -euo pipefail
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  pg_createcluster "$version" main >/dev/null 2>&1
fi
pg_ctlcluster "$version" main start >/dev/null 2>&1 || pg_ctlcluster "$version" main status >/dev/null
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
for _ in $(seq 50); do
  su postgres -c "psql -p $port -Atc 'select 1'" >/dev/null 2>&1 && break
  sleep 0.2
done
if ! su postgres -c "psql -p $port -Atc \"select 1 from pg_roles where rolname='callcenter_test'\"" | grep -q 1; then
  su postgres -c "psql -p $port -qc \"create role callcenter_test login createdb password 'callcenter_test'\""
fi
echo "postgresql+asyncpg://callcenter_test:callcenter_test@127.0.0.1:$port/postgres"
