"""What verifying the Parquet cache costs on every check, against the cached check itself.

A cached check fingerprints the source file (sampled blake2b, see
pdca.data.cache.fingerprint) and reads the entry's footer; right after an entry
is written, and whenever its file state changed, it also re-hashes the whole
entry (SHA-256). Goal: the fingerprint under 5 % of a cached check on a 10M-row
CSV. Also printed, for scale: hashing the whole CSV, which sampling avoids.

The reference is not a competitor computing the same numbers: this measures
a share, the fingerprint's cost inside the operation it guards, so the
reference is that operation (a cached ``pdca check`` of the same file), and
the goal is on the ratio. What would compute the same answer ("has the file
changed?") without sampling is the whole-file hash, printed beside it.
Prints figures and ratios; asserts nothing.

    python bench/bench_cache.py [--rows 10000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

from bench_check import PLAYBOOK, data_folder, pdca_check
from harness import best_of, figure, header, result

GOAL = 0.05


def best(fn, *args, repeat: int = 5) -> float:
    return best_of(lambda: fn(*args), repeat)


def full_blake2b(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "blake2b").hexdigest()


def bench(rows: int, folder: Path) -> None:
    from pdca.data.cache import _file_digest, fingerprint
    from pdca.examples.generate import generate_tickets

    data = folder / f"tickets-{rows}.csv"
    if not data.exists():
        generate_tickets(rows, data, fmt="csv", seed=3)
    playbook = folder / f"playbook-{rows}-csv.yaml"
    playbook.write_text(PLAYBOOK.format(fmt="csv", file=data.name))
    cache = folder / f"cache-{rows}-csv"
    shutil.rmtree(cache, ignore_errors=True)
    pdca_check(playbook, cache)  # builds the entry
    pdca_check(playbook, cache)  # re-hashes the fresh entry once, settles its manifest
    (entry,) = cache.glob("*.parquet")

    t_cached = best(pdca_check, playbook, cache, repeat=3)
    t_print = best(fingerprint, data)
    t_entry = best(_file_digest, entry)
    t_whole = best(full_blake2b, data, repeat=2)
    print(
        f"{rows:,} rows, csv {data.stat().st_size / 1e6:.0f} MB, "
        f"entry {entry.stat().st_size / 1e6:.0f} MB:"
    )
    label = f"{rows // 1_000_000}M" if rows >= 1_000_000 else f"{rows // 1000}k"
    note = "reference: the cached check"
    ratio = figure("fingerprint (every check)", t_print, t_cached, note=note)
    figure("entry SHA-256 (once after a write)", t_entry, t_cached)
    figure("blake2b of the whole CSV (what sampling avoids)", t_whole, t_cached)
    result(f"cache.fingerprint_{label}", t_print, t_cached, "s", f"ratio<={GOAL:g}", ratio <= GOAL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--keep", type=Path, help="folder for the generated files (reused)")
    args = parser.parse_args()
    header("bench_cache: verifying the Parquet cache vs the cached check")
    folder, temporary = data_folder(args.keep)
    try:
        for rows in args.rows:
            bench(rows, folder)
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
