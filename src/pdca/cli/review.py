"""``pdca status`` (one playbook, several, or a folder of them) and ``pdca checkin``.

One playbook file gives the status document as it has always been; several, or
a folder, give the portfolio: every playbook's document unchanged under its id,
and a roll-up. ``--owner`` makes it a person's inbox across them, ``--agenda``
the list a weekly review should discuss.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from pdca.cli.common import echo_json, session
from pdca.cli.completion import complete_ids
from pdca.cli.options import (
    FORMAT_TEXT_JSON,
    PLAYBOOK_ARG,
    as_of_option,
    by_option,
    colour_wanted,
    parse_date,
    state_option,
)


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    """The playbook files: files as given, folders searched (hidden folders skipped)."""
    from pdca.errors import PdcaError
    from pdca.playbook.paths import find_playbooks

    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = find_playbooks(path)
            if not found:
                raise PdcaError(
                    f"{path}: no playbook.yaml or *.pdca.yaml below this folder; name "
                    "playbook files, or a folder that holds some"
                )
            out.extend(found)
        else:
            out.append(path)
    return list(dict.fromkeys(out))


def _one(
    path: Path, state_url: str | None, day: date, owner: str | None, shared: Any = None
) -> tuple[Any, Any]:
    """A playbook's status document (None when ``owner`` is not one of its people) and
    its playbook."""
    from pdca.check.reread import read_noted
    from pdca.cli.cycle import _reviewed
    from pdca.engine import review

    with session(path, state_url, create=False, shared=shared) as engine:
        if owner is not None and owner not in engine.pb.owners:
            return None, engine.pb
        state = read_noted(engine.pb, engine.registry, engine.store)
        doc = review(engine.pb, state, day, owner=owner, store=engine.store.name)
        if owner is None:
            _reviewed(engine, doc)
        return doc, engine.pb


def _people(pb: Any, owner: str) -> set[str]:
    from pdca.engine.permissions import team_of

    return {oid for oid in pb.owners if owner in team_of(pb, oid)}


@click.command()
@click.argument("playbooks", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--owner",
    metavar="ID",
    shell_complete=complete_ids("owners"),
    help="Only this person's work (and their teams').",
)
@as_of_option("Count tasks as overdue as of this date (YYYY-MM-DD); default today.")
@state_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option("--explain", is_flag=True, help="With --owner: why each item ranks where it does.")
@click.option(
    "--agenda", is_flag=True, help="What a weekly review should discuss, most pressing first."
)
def status(
    playbooks: tuple[Path, ...],
    owner: str | None,
    as_of: date | None,
    state_url: str | None,
    fmt: str,
    explain: bool,
    agenda: bool,
) -> None:
    """The team's review: cycle and phase, objectives and metrics, who has to do what.

    PLAYBOOKS is one playbook file, several, or folders (every playbook.yaml and
    *.pdca.yaml below them): several give one section per playbook and a
    roll-up. Metric values are those measured when the current cycle entered
    check ("not measured yet" before); charts noted since (exclude, rebase) are
    read again. --owner lists one person's items across the playbooks, most
    urgent first (--explain says why); --agenda lists what to discuss.
    """
    from pdca.engine import portfolio
    from pdca.errors import PdcaError
    from pdca.playbook import SharedPlugins

    shared = SharedPlugins()
    day = as_of or date.today()
    paths = _expand(playbooks)
    single = len(playbooks) == 1 and not playbooks[0].is_dir()
    docs: dict[str, Any] = {}
    people: dict[str, set[str]] = {}
    where: dict[str, Path] = {}
    for path in paths:
        doc, pb = _one(path, state_url, day, owner, shared)
        if pb.id in where:
            raise PdcaError(
                f"{path}: playbook id '{pb.id}' is also the id of {where[pb.id]}; each "
                "playbook in one status needs its own id"
            )
        where[pb.id] = path
        if doc is not None:
            docs[pb.id] = doc
            people[pb.id] = _people(pb, owner) if owner else set()
    if owner is not None and not docs:
        raise PdcaError(f"unknown owner '{owner}': no playbook given has them among its owners")
    if single:
        (report,) = docs.values() if docs else (None,)
        if report is None:  # unknown owner in the one playbook: review says it with a hint
            _one_unknown(paths[0], state_url, day, owner)
        if owner and explain:
            report["inbox"] = portfolio.inbox(docs, people, day)
        if agenda:
            report["agenda"] = portfolio.agenda(docs)
        _print_single(report, fmt, explain)
        return
    out: dict[str, Any] = {
        "as_of": day.isoformat(),
        "playbooks": docs,
        "summary": portfolio.summary(docs),
    }
    if owner:
        out["owner"] = owner
        out["inbox"] = portfolio.inbox(docs, people, day)
        out["explained"] = explain
    if agenda:
        out["agenda"] = portfolio.agenda(docs)
    if fmt == "json":
        echo_json(out)
        return
    from pdca.cli.review_text import RENDERERS

    click.echo(RENDERERS[fmt](out), nl=False)


def _one_unknown(path: Path, state_url: str | None, day: date, owner: str | None) -> None:
    from pdca.engine import review

    with session(path, state_url, create=False) as engine:
        review(engine.pb, engine.store.read(engine.pb.id), day, owner=owner)


def _print_single(report: dict[str, Any], fmt: str, explain: bool) -> None:
    if fmt == "json":
        echo_json(report)
        return
    from pdca.cli import review_text

    if fmt == "markdown":
        from pdca.cli.status_text import render_markdown

        click.echo(render_markdown(report), nl=False)
        return
    from pdca.cli.status_text import render_text

    text = render_text(report, color=colour_wanted())
    if report.get("inbox") is not None:
        doc = {"owner": report.get("owner"), "inbox": report["inbox"]}
        text += "\n" + review_text.inbox_text(doc, explain=explain) + "\n"
    if report.get("agenda") is not None:
        text += "\n" + review_text.agenda_text(report["agenda"]) + "\n"
    click.echo(text, nl=False)


@click.command()
@PLAYBOOK_ARG
@click.argument("objective", shell_complete=complete_ids("objectives"))
@click.option(
    "--confidence",
    required=True,
    type=click.IntRange(1, 10),
    help="1 (it will not be met) to 10 (it certainly will).",
)
@click.option("--note", required=True, help="What the confidence rests on.")
@by_option("Who says it (an owner id).")
@click.option(
    "--on", "on", callback=parse_date, metavar="DATE", help="The day it was said (default today)."
)
@state_option
@click.option("--format", "fmt", type=FORMAT_TEXT_JSON, default="text", show_default=True)
def checkin(
    playbook: Path,
    objective: str,
    confidence: int,
    note: str,
    by: str,
    on: date | None,
    state_url: str | None,
    fmt: str,
) -> None:
    """Record how confident the owner is that OBJECTIVE will be met.

    Shown in status and reports beside what the data says; a high confidence
    the data contradicts is called out, and a confidence that falls twice in a
    row needs attention.
    """
    from pdca.engine.annotate import checkin as decide_checkin
    from pdca.playbook.messages import visible

    with session(playbook, state_url, create=True) as engine:
        decide = decide_checkin(
            engine.pb,
            objective,
            confidence,
            note,
            by,
            engine.clock(),
            on.isoformat() if on else None,
        )
        event = engine.store.transact(engine.ref, decide)
    if fmt == "json":
        echo_json({k: v for k, v in event.to_json().items() if k != "id"})
    else:
        click.echo(visible(f"objective {objective}: confidence {confidence}/10, by {by}: {note}"))


def register(cli: click.Group) -> None:
    cli.add_command(status)
    cli.add_command(checkin)
