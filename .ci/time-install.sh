#!/usr/bin/env bash
# Make sure GNU time (/usr/bin/time, Debian package "time") is installed: the benchmarks
# measure each command's peak memory as a fresh process under `/usr/bin/time -v`
# (bench/harness.py). Idempotent: does nothing when /usr/bin/time -v works.
# Without it the benchmarks fall back to a small launcher, so this is not fatal.
# Waits for apt's locks when another apt-get or unattended-upgrades holds them (.ci/apt.sh).
set -euo pipefail

have_time() {
    [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1
}

if have_time; then
    echo "time-install: GNU time found, nothing to do"
    exit 0
fi

. "$(dirname "$0")/apt.sh"

echo "time-install: installing GNU time with apt-get"
apt_get time-install update -q
apt_get time-install install -y -q --no-install-recommends time

if ! have_time; then
    echo "time-install: apt-get finished but /usr/bin/time -v still does not work" >&2
    exit 1
fi
echo "time-install: done"
