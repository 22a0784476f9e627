"""A shell action's timeout ends every process the command started, not only /bin/sh."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pdca.action import ActionContext
from pdca.builtins.actions import ShellAction


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone as far as work is concerned.
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_timeout_ends_the_commands_children(tmp_path: Path) -> None:
    ctx = ActionContext("pb", "t", 1, tmp_path)
    result = ShellAction().run(
        {"command": "sleep 60 & echo $! > child.pid; wait", "timeout": 1}, ctx
    )
    assert not result.ok
    assert "timeout" in (result.error or "")
    child = int((tmp_path / "child.pid").read_text())
    for _ in range(50):
        if not _alive(child):
            break
        time.sleep(0.1)
    assert not _alive(child)
