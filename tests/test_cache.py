"""The Parquet cache never answers with old or damaged numbers, and never fails a check.

Each test runs ``pdca check`` on a tiny CSV whose NPS is computed by hand:
scores 10, 9, 3, 8, 0 give 2 promoters and 2 detractors of 5, NPS 0.0; the
same bytes with 3 made 9 give 3 promoters and 1 detractor, NPS 40.0.
"""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pdca.cli import cli
from pdca.data import cache as cache_module
from pdca.data.cache import BLOCK, FULL_HASH_LIMIT, SAMPLES, fingerprint

PLAYBOOK = """\
playbook: cached
title: Cache test
sources:
  survey: {type: csv, path: survey.csv, timestamp: answered}
metrics:
  nps: {source: survey, kpi: nps, field: score, target: -100}
"""
SCORES = "10,9,3,8,0"


def write_survey(folder: Path, scores: str) -> Path:
    lines = [f"2024-03-0{i + 1},{s}" for i, s in enumerate(scores.split(","))]
    path = folder / "survey.csv"
    path.write_text("answered,score\n" + "\n".join(lines) + "\n")
    return path


@pytest.fixture
def playbook(tmp_path: Path) -> Path:
    write_survey(tmp_path, SCORES)
    path = tmp_path / "playbook.yaml"
    path.write_text(PLAYBOOK)
    return path


def check(path: Path) -> tuple[float, int, str]:
    result = CliRunner().invoke(
        cli, ["check", str(path), "--as-of", "2024-03-10", "--format", "json"]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    report: dict[str, Any] = json.loads(result.stdout)
    return report["metrics"]["nps"]["value"], result.exit_code, result.stderr


def entries(playbook: Path) -> list[Path]:
    return sorted((playbook.parent / ".pdca" / "cache").glob("*.parquet"))


def test_rewrite_with_same_size_and_mtime_gives_the_new_numbers(playbook: Path) -> None:
    assert check(playbook)[:2] == (0.0, 0)
    assert check(playbook)[:2] == (0.0, 0)  # from the cache
    csv = playbook.parent / "survey.csv"
    before = csv.stat()
    write_survey(playbook.parent, SCORES.replace("3", "9"))
    os.utime(csv, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (csv.stat().st_size, csv.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert check(playbook)[:2] == (40.0, 0)
    assert len(entries(playbook)) == 1  # the old copy is gone


def test_a_flipped_byte_in_an_entry_is_rebuilt(playbook: Path) -> None:
    check(playbook)
    check(playbook)  # the manifest now holds the entry's settled file state
    (entry,) = entries(playbook)
    good = entry.read_bytes()
    for offset in range(0, len(good), max(1, len(good) // 40)):
        entry.write_bytes(good[:offset] + bytes([good[offset] ^ 0x10]) + good[offset + 1 :])
        value, code, _ = check(playbook)
        assert (value, code) == (0.0, 0), offset
        (entry,) = entries(playbook)
        assert entry.read_bytes() == good, offset  # rebuilt, byte for byte


def test_a_manifest_that_disagrees_rebuilds_the_entry(playbook: Path) -> None:
    check(playbook)
    (entry,) = entries(playbook)
    manifest = entry.with_suffix(".json")
    doc = json.loads(manifest.read_text())
    assert doc["rows"] == 5
    manifest.write_text(json.dumps({**doc, "rows": 4}))
    assert check(playbook)[:2] == (0.0, 0)
    assert json.loads(manifest.read_text())["rows"] == 5


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_cache_that_cannot_be_written_does_not_fail_the_check(
    playbook: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, code: int
) -> None:
    def full(path: Path) -> str:
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(cache_module, "_file_digest", full)
    value, exit_code, stderr = check(playbook)
    assert (value, exit_code) == (0.0, 0)
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]  # one note, no error
    assert "cannot be written" in warning.getMessage()
    assert os.strerror(code) in warning.getMessage()
    assert "Traceback" not in stderr
    cache = playbook.parent / ".pdca" / "cache"
    assert sorted(p.name for p in cache.iterdir()) == []  # nothing half-written left


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_folder_does_not_fail_the_check(playbook: Path) -> None:
    cache = playbook.parent / ".pdca" / "cache"
    cache.mkdir(parents=True)
    cache.chmod(0o555)
    try:
        value, exit_code, _ = check(playbook)
    finally:
        cache.chmod(0o755)
    assert (value, exit_code) == (0.0, 0)


def test_old_temporary_files_are_removed_and_fresh_ones_kept(playbook: Path) -> None:
    cache = playbook.parent / ".pdca" / "cache"
    cache.mkdir(parents=True)
    old = cache / ".survey-0123-4567.999999.deadbeef.tmp"
    fresh = cache / ".survey-0123-4567.999998.cafebabe.tmp"
    old.write_bytes(b"PAR1 killed while writing")
    fresh.write_bytes(b"PAR1 still being written")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    assert check(playbook)[:2] == (0.0, 0)
    assert not old.exists() and fresh.exists()
    os.utime(fresh, (hours_ago, hours_ago))
    assert check(playbook)[:2] == (0.0, 0)  # a cached check cleans up too
    assert not fresh.exists()


def test_fingerprint_sees_content_not_timestamps(tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_bytes(b"a" * 5000)
    first = fingerprint(small)
    small.write_bytes(b"a" * 2500 + b"b" + b"a" * 2499)  # one byte in the middle
    assert fingerprint(small) != first
    small.write_bytes(b"a" * 5000)
    assert fingerprint(small) == first

    big = tmp_path / "big.csv"
    size = FULL_HASH_LIMIT + 10 * BLOCK
    big.write_bytes(bytes(size))
    base = fingerprint(big)
    sampled = (size - BLOCK) * 7 // (SAMPLES + 1)  # inside the 8th sampled block
    with big.open("r+b") as f:
        f.seek(sampled + 100)
        f.write(b"x")
    assert fingerprint(big) != base
    with big.open("ab") as f:  # appended rows change size and tail
        f.write(b"1")
    assert fingerprint(big) not in (base,)
