"""``pdca`` as users run it: a real process in a folder, for tests of exact output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def pdca(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pdca ARGS`` in ``cwd``; output as text, the exit status not checked.

    ``env`` replaces the environment (None: this process's)."""
    return subprocess.run(
        [sys.executable, "-m", "pdca", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
