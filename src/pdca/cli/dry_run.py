"""What ``pdca run --dry-run`` prints: the transitions a run would make, none made."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from pdca.cli.common import echo_json, session


def dry_run(
    playbook: Path, day: date, state_url: str | None, fmt: str, echo: Callable[[Any], None]
) -> None:
    """What ``pdca run`` would do, from a read-only look at the state."""
    from pdca.engine.preview import preview

    with session(playbook, state_url, create=False) as engine:
        seen = preview(engine.pb, engine.store.read(engine.pb.id), day)
    if fmt == "json":
        echo_json(
            {
                "playbook": engine.pb.id,
                "dry_run": True,
                "stopped": seen.stopped,
                "then": seen.then,
                "events": [e.to_json() for e in seen.events],
            }
        )
        return
    for e in seen.events:
        echo(e)
    if seen.then:
        click.echo(f"  then it would {seen.then}")
    click.echo(f"dry run: nothing was changed ({len(seen.events)} events not recorded)")
