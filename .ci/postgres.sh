#!/usr/bin/env bash
# Makes sure the local PostgreSQL server accepts connections on 127.0.0.1:5432 and that the
# `test` database of the PostgreSQL store's tests exists. It starts the Debian cluster when
# it is down, and never stops or reconfigures a running server.
set -euo pipefail

host=127.0.0.1
port=5432
wait_seconds=30

if ! pg_isready -h "$host" -p "$port" >/dev/null 2>&1; then
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$version" ]; then
    echo "postgres.sh: no cluster under /etc/postgresql. Install PostgreSQL first" >&2
    exit 1
  fi

  echo "postgres.sh: starting PostgreSQL $version cluster main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start

  for _ in $(seq "$wait_seconds"); do
    if pg_isready -h "$host" -p "$port" >/dev/null 2>&1; then
      break
    fi
    sleep 1
  done
fi

if ! pg_isready -h "$host" -p "$port" >/dev/null 2>&1; then
  echo "postgres.sh: PostgreSQL at $host:$port not ready after ${wait_seconds}s" >&2
  exit 1
fi

exists="$(psql -h "$host" -p "$port" -U postgres -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = 'test'")"
if [ "$exists" != "1" ]; then
  echo "postgres.sh: creating database test"
  createdb -h "$host" -p "$port" -U postgres test
fi

echo "postgres.sh: PostgreSQL ready at $host:$port, database test"
