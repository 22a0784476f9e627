#!/usr/bin/env bash
# The checks of `make test` and `make test-latest`: ruff, the main suite (two processes, whole
# files per process), and the example plugins' own suites (.ci/plugins-test.sh). Every part runs
# even when an earlier one failed; the last line sums them up, and the exit status is 1 when any
# of them failed.
#
# Usage: bash .ci/test.sh [PYTHON]   (default .venv/bin/python; CONSTRAINTS goes on to
# plugins-test.sh: the pins for the plugins' dependencies, empty for the newest versions)
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON="${1:-.venv/bin/python}"
results=()
failed=0

part() {
    local name="$1" rc=0
    shift
    echo "== $name: $*"
    "$@" || rc=$?
    if [ "$rc" -eq 0 ]; then
        results+=("$name passed")
    else
        results+=("$name FAILED (exit $rc)")
        failed=1
    fi
}

part ruff "$PYTHON" -m ruff check src tests bench plugins
part tests "$PYTHON" -m pytest -n 2 --dist loadfile
part "plugin tests" bash .ci/plugins-test.sh "$PYTHON"

summary="$(printf '%s, ' "${results[@]}")"
echo "== summary ($PYTHON): ${summary%, }"
exit "$failed"
