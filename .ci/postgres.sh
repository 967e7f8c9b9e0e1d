#!/usr/bin/env bash
# Starts the machine's PostgreSQL 15 cluster for Rotor's integration tests and prints its URL on stdout.
# Safe to run repeatedly: a running cluster, an existing password and an existing database are all left as they are.
#
#   export ROTOR_TEST_POSTGRES_URL="$(.ci/postgres.sh)"
#
# Settings (environment): ROTOR_PG_PASSWORD (default rotor), ROTOR_PG_DATABASE (default rotor_test),
# ROTOR_PG_WAIT_SECONDS (default 30).
set -euo pipefail

pg_version=15
pg_cluster=main
pg_port=5432
password="${ROTOR_PG_PASSWORD:-rotor}"
database="${ROTOR_PG_DATABASE:-rotor_test}"
wait_seconds="${ROTOR_PG_WAIT_SECONDS:-30}"

log() { echo "postgres.sh: $*" >&2; }
fail() { log "$*"; exit 1; }

[[ "$database" =~ ^[a-z_][a-z0-9_]*$ ]] || fail "ROTOR_PG_DATABASE must be a plain lower-case identifier, got '$database'"
[[ "$password" != *"'"* ]] || fail "ROTOR_PG_PASSWORD must not contain a single quote"
command -v pg_ctlcluster >/dev/null || fail "pg_ctlcluster not found: install postgresql-$pg_version (apt-get install postgresql-$pg_version)"

# Runs psql as the postgres OS user over the local socket (peer authentication) whether or not we are root.
as_postgres_psql() {
  if [[ "$(id -un)" == postgres ]]; then
    psql -X -q -v ON_ERROR_STOP=1 -p "$pg_port" "$@"
  else
    runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$pg_port" "$@"
  fi
}

cluster_status() { pg_lsclusters --no-header | awk -v v="$pg_version" -v c="$pg_cluster" '$1 == v && $2 == c { print $4 }'; }

status="$(cluster_status)"
[[ -n "$status" ]] || fail "no PostgreSQL $pg_version cluster named '$pg_cluster' (see pg_lsclusters)"
if [[ "$status" != online* ]]; then
  log "starting cluster $pg_version/$pg_cluster"
  pg_ctlcluster "$pg_version" "$pg_cluster" start
fi

# pg_ctlcluster returns once the postmaster is up, which is not the same as accepting connections.
deadline=$((SECONDS + wait_seconds))
until pg_isready -q -h 127.0.0.1 -p "$pg_port"; do
  (( SECONDS < deadline )) || fail "PostgreSQL did not accept connections on 127.0.0.1:$pg_port within ${wait_seconds}s"
  sleep 0.5
done

as_postgres_psql -d postgres -c "ALTER USER postgres PASSWORD '$password'" >/dev/null
if [[ "$(as_postgres_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" != 1 ]]; then
  log "creating database $database"
  as_postgres_psql -d postgres -c "CREATE DATABASE $database" >/dev/null
fi

url="postgres://postgres:${password}@127.0.0.1:${pg_port}/${database}"
# Proves the password path (scram over TCP) the tests will use, not just the socket.
PGPASSWORD="$password" psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d "$database" -tAc 'SELECT 1' >/dev/null \
  || fail "cannot log in over TCP as postgres to $database"
echo "$url"
