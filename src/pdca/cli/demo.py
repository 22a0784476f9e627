"""``pdca demo``: the bundled example through a full cycle (the work is in pdca.examples.demo)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from pdca.cli.options import colour_wanted


@click.command()
@click.argument(
    "folder",
    required=False,
    default="pdca-demo",
    type=click.Path(file_okay=False, path_type=Path),
)
def demo(folder: Path) -> None:
    """Run the bundled support-desk example through a full cycle in FOLDER (default ./pdca-demo).

    Copies the playbook, generates six months of service-desk data with a planted
    improvement, simulates the team's task updates and decisions, prints what
    the cycle achieved and writes report.html and report.md.

    Run again on the same folder, it starts over (it removes what the earlier
    demo wrote there); it refuses a folder whose playbook is not the example's.
    """
    from pdca.examples.demo import run_demo

    def progress(steps: list[tuple[str, Callable[[], None]]]) -> None:
        with click.progressbar(
            steps,
            label="One PDCA cycle",
            item_show_func=lambda step: step[0] if step else None,
            width=20,
        ) as bar:
            for _, step in bar:
                step()

    result = run_demo(
        folder, click.echo, color=colour_wanted(), progress=progress, shown_as=str(folder)
    )
    click.echo(f"\nEverything is in {result.folder}:")
    click.echo(f"  playbook   {result.playbook}")
    click.echo(f"  state      {result.state}")
    for label, path in result.outputs.items():
        click.echo(f"  {label:<10} {path}")
    click.echo("\nTry next:")
    click.echo(f"  pdca status {result.playbook}")
    click.echo(f"  pdca history {result.playbook}")
    click.echo(f"  pdca report {result.playbook} --cycle 1 --format text")
    click.echo(f"  pdca check {result.playbook} --as-of 2026-03-30")


def register(cli: click.Group) -> None:
    cli.add_command(demo)
