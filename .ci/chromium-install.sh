#!/usr/bin/env bash
# Make sure a headless Chromium is installed for the real-browser report tests
# (tests/browser.py). Idempotent: does nothing when a chromium binary is found
# (/usr/bin/chromium, or chromium / chromium-browser on PATH), so CI pays the
# apt-get cost only on a fresh machine.
# Waits for apt's locks when another apt-get or unattended-upgrades holds them (.ci/apt.sh).
set -euo pipefail

have_chromium() {
    [ -x /usr/bin/chromium ] && return 0
    command -v chromium >/dev/null 2>&1 && return 0
    command -v chromium-browser >/dev/null 2>&1
}

if have_chromium; then
    echo "chromium-install: Chromium found, nothing to do"
    exit 0
fi

. "$(dirname "$0")/apt.sh"

echo "chromium-install: installing Chromium with apt-get"
apt_get chromium-install update -q
apt_get chromium-install install -y -q chromium

if ! have_chromium; then
    echo "chromium-install: apt-get finished but no chromium binary was found" >&2
    exit 1
fi
echo "chromium-install: done ($(command -v chromium || command -v chromium-browser))"
