#!/usr/bin/env bash
# Make sure a PostgreSQL server (initdb, pg_ctl) is installed for the `sql` source tests.
# Idempotent: does nothing when initdb is already on PATH or in /usr/lib/postgresql/*/bin.
# The tests start their own throwaway cluster (tests/pg_server.py); no service is needed.
# Waits for apt's locks when another apt-get or unattended-upgrades holds them (.ci/apt.sh).
set -euo pipefail

have_initdb() {
    command -v initdb >/dev/null 2>&1 && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

if have_initdb; then
    echo "postgres-install: PostgreSQL found, nothing to do"
    exit 0
fi

. "$(dirname "$0")/apt.sh"

echo "postgres-install: installing PostgreSQL with apt-get"
apt_get postgres-install update -q
apt_get postgres-install install -y -q --no-install-recommends postgresql

if ! have_initdb; then
    echo "postgres-install: apt-get finished but initdb is still missing" >&2
    exit 1
fi
echo "postgres-install: done"
