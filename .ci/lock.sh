#!/usr/bin/env bash
# Refresh constraints.txt (make lock): install pdca with every extra and the example plugins in
# plugins/ into a throwaway venv, each dependency at the newest version pyproject.toml's ranges
# allow, and pin what got installed with `pip freeze --exclude-editable`.
#
# Usage: bash .ci/lock.sh [PYTHON] [FILE]   (default python3, constraints.txt)
# Afterwards run `make test` against the new pins and commit constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${1:-python3}"
OUT="${2:-constraints.txt}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$PYTHON" -m venv "$tmp/venv"
py="$tmp/venv/bin/python"
"$py" -m pip install --quiet --upgrade pip
editables=(-e ".[dev,postgres,bench]")
for dir in plugins/*/; do
    [ -f "$dir/pyproject.toml" ] && editables+=(-e "${dir%/}[test]")  # with its test extra
done
echo "lock: installing ${editables[*]} into a throwaway venv"
"$py" -m pip install --quiet "${editables[@]}"

{
    echo "# Pinned versions of every dependency pdca and its tests install: the runtime"
    echo "# dependencies, the dev, postgres and bench extras, and what the example plugins in"
    echo "# plugins/ need. make test, make demo and .ci/run install with -c constraints.txt;"
    echo "# pyproject.toml keeps the ranges users get."
    echo "#"
    echo "# Made by \`make lock\` on $(date -u +%Y-%m-%d) with Python $("$py" -c 'import platform; print(platform.python_version())'):"
    echo "# in a throwaway venv, pip install -e '.[dev,postgres,bench]' and -e for each plugins/*/[test],"
    echo "# each at the newest version the ranges allow, then pip freeze --exclude-editable."
    echo "# Do not edit by hand: run make lock, then make test, and commit this file."
    "$py" -m pip freeze --exclude-editable
} >"$tmp/constraints.txt"
mv "$tmp/constraints.txt" "$OUT"
echo "lock: wrote $OUT ($(grep -vc '^#' "$OUT") pins)"
