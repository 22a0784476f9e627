#!/usr/bin/env bash
# Install each example plugin in plugins/ into the active Python environment and run its tests.
#
# Usage: bash .ci/plugins-test.sh [PYTHON]   (default: .venv/bin/python, else python3)
# Each plugin is a distribution of its own (pyproject, README, tests); pytest takes its settings
# from the plugin's pyproject, never the root suite's, and the root `pytest` collects tests/
# only. pdca itself must already be installed (make install does it).
# CONSTRAINTS: the pip constraints file for the plugins' dependencies (default constraints.txt,
# as make test has it); empty for the newest versions their ranges allow (make test-latest).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${1:-}"
if [ -z "$PYTHON" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

"$PYTHON" -c "import pdca" 2>/dev/null || {
    echo "plugins-test: pdca is not installed in $PYTHON; run 'make install' first" >&2
    exit 1
}

CONSTRAINTS="${CONSTRAINTS-constraints.txt}"
pins=()
if [ -n "$CONSTRAINTS" ]; then pins=(-c "$CONSTRAINTS"); fi

status=0
for dir in plugins/*/; do
    name="$(basename "$dir")"
    [ -f "$dir/pyproject.toml" ] || continue
    echo "== $name: install"
    # the [test] extra: what its tests need (an SMTP server for pdca-email), where it has one
    "$PYTHON" -m pip install --quiet "${pins[@]}" -e "${dir%/}[test]"
    echo "== $name: tests"
    if ! "$PYTHON" -m pytest "plugins/$name/tests" -q -p no:cacheprovider; then
        echo "plugins-test: $name failed" >&2
        status=1
    fi
done
echo "== pdca plugins --check"
"$PYTHON" -m pdca plugins --check || status=1
exit $status
