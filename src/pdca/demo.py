"""``pdca demo``: the bundled support-desk example, end to end, in a folder of its own.

It is the first thing a new user runs, so it prints what it does, where the
files are, and what to try next, and it never needs the network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Echo = Callable[[str], None]


@dataclass
class DemoResult:
    """Where the demo put things, for the closing message and for tests."""

    folder: Path
    playbook: Path
    check: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)


def run_demo(folder: Path, echo: Echo, *, color: bool = False) -> DemoResult:
    from pdca.examples.generate import SUPPORT_DESK, install_example
    from pdca.measure import check
    from pdca.playbook import load_checked
    from pdca.textout import check_table

    folder = folder.resolve()
    echo(f"Copying the support-desk example and generating its data into {folder} ...")
    playbook_path = install_example(folder, SUPPORT_DESK.name)
    result = load_checked(playbook_path)
    pb = result.playbook
    echo(
        f"Playbook '{pb.id}' is valid: {len(pb.objectives)} objectives, {len(pb.metrics)} metrics, "
        f"{len(pb.tasks)} tasks."
    )
    as_of = SUPPORT_DESK.as_of
    echo(f"Measuring every metric as of {as_of} (the data has a planted improvement) ...\n")
    report = check(pb, result.registry, as_of, cache_dir=folder / ".pdca" / "cache",
                   plugin_manager=result.plugin_manager)
    echo(check_table(report, color=color))
    return DemoResult(folder, playbook_path, report)
