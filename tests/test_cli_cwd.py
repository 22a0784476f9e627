"""A command run from a folder that was deleted under it says so, instead of an internal error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.mark.parametrize(
    "words", [["demo", "here"], ["status", "playbook.yaml"], ["check", "p.yaml"]]
)
def test_a_deleted_current_folder_is_a_clear_error(tmp_path: Path, words: list[str]) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    # the child starts inside the folder, which is removed before pdca runs
    script = (
        "import os, sys, runpy; os.rmdir(os.getcwd()); "
        f"sys.argv = ['pdca', *{words!r}]; runpy.run_module('pdca', run_name='__main__')"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop("PDCA_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=gone,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr
    assert "Traceback" not in done.stderr
    assert "the current folder no longer exists" in done.stderr
    assert not gone.exists()
