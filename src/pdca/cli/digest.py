"""``pdca digest``: each person's weekly digest across playbooks.

:func:`build` and :func:`record` are the two halves a sender needs (the
email plugin uses them): the digest document, read only, and the marks that
say a digest was made, written afterwards in each playbook's state. A digest
printed without ``--mark`` is a preview: it moves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import click

from pdca.cli.common import echo_json, session
from pdca.cli.options import as_of_option, parse_date, state_option

FORMATS = ("text", "markdown", "html", "json")


def expand(paths: Iterable[Path]) -> list[Path]:
    """The playbook files: files as given, folders searched, as ``pdca status`` does."""
    from pdca.cli.review import _expand

    return _expand(tuple(paths))


def build(
    paths: list[Path],
    state_url: str | None,
    day: date,
    *,
    owner: str | None = None,
    since: date | None = None,
) -> dict[str, Any]:
    """The digest document: ``{as_of, horizon_days, people: {id: digest}}``.

    Each playbook's status is computed once and each person's part read from
    it; ``owner`` keeps one person (PdcaError when no playbook has them).
    """
    from pdca.check.reread import read_noted
    from pdca.engine import digest, review
    from pdca.errors import PdcaError
    from pdca.playbook import SharedPlugins

    shared = SharedPlugins()
    parts: dict[str, dict[str, Any]] = {}
    who: dict[str, tuple[str, str | None]] = {}
    where: dict[str, Path] = {}
    for path in paths:
        with session(path, state_url, create=False, shared=shared) as engine:
            pb = engine.pb
            if pb.id in where:
                raise PdcaError(
                    f"{path}: playbook id '{pb.id}' is also the id of {where[pb.id]}; each "
                    "playbook in one digest needs its own id"
                )
            where[pb.id] = path
            persons = [p for p in digest.people(pb) if owner is None or p == owner]
            if not persons:
                continue
            state = read_noted(pb, engine.registry, engine.store)
            doc = review(pb, state, day, store=engine.store.name)
            events = engine.store.events(pb.id, digest.KINDS)
        for person in persons:
            win = digest.window(state, person, day, since)
            part = digest.section(pb, doc, events, person, win, day)
            parts.setdefault(person, {})[pb.id] = part
            name, email = who.get(person, (pb.owners[person].name, None))
            who[person] = (name, email or pb.owners[person].email)
    if owner is not None and owner not in parts:
        raise PdcaError(f"unknown owner '{owner}': no playbook given has them among its owners")
    return {
        "as_of": day.isoformat(),
        "horizon_days": digest.HORIZON_DAYS,
        "people": {
            person: digest.assemble(person, *who[person], sections, day)
            for person, sections in parts.items()
        },
    }


def record(
    paths: list[Path],
    state_url: str | None,
    day: date,
    people: Mapping[str, Any],
    *,
    kind: str | None = None,
    channel: str = "mark",
    once_a_day: bool = False,
    data: Mapping[str, Any] | None = None,
) -> dict[str, bool]:
    """Record a mark for each person in ``people`` in the state of each playbook of
    theirs, one transaction per playbook; per person, whether any mark was new."""
    from pdca.engine import digest
    from pdca.state.digests import DIGEST

    done = {person: False for person in people}
    for path in paths:
        with session(path, state_url, create=True) as engine:
            for person, doc in people.items():
                if engine.pb.id not in doc["playbooks"]:
                    continue
                decide = digest.mark(
                    engine.pb,
                    person,
                    day,
                    engine.clock(),
                    kind=kind or DIGEST,
                    channel=channel,
                    once_a_day=once_a_day,
                    data=data,
                )
                done[person] = engine.store.transact(engine.ref, decide) or done[person]
    return done


def marked(
    paths: list[Path], state_url: str | None, day: date, kind: str, channel: str
) -> set[str]:
    """The people who already have a ``kind`` mark of ``channel`` for ``day`` in any of the
    playbooks' states: a sender skips them, so a second run on one day sends nothing."""
    from pdca.state.digests import sent_on

    found: set[str] = set()
    for path in paths:
        with session(path, state_url, create=False) as engine:
            marks = engine.store.read(engine.pb.id).digests
        found |= {p for p, m in marks.items() if sent_on(m, kind, channel, day.isoformat())}
    return found


@click.command()
@click.argument("playbooks", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--owner", metavar="ID", help="Only this person's digest.")
@click.option(
    "--since",
    callback=parse_date,
    metavar="DATE",
    help="Changes from this day on (default: since the person's last digest).",
)
@as_of_option("The digest's day (YYYY-MM-DD); default today.")
@state_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
)
@click.option(
    "--mark",
    is_flag=True,
    help="Record the digest as made: the next one starts after it (without: a preview).",
)
def digest(
    playbooks: tuple[Path, ...],
    owner: str | None,
    since: date | None,
    as_of: date | None,
    state_url: str | None,
    fmt: str,
    mark: bool,
) -> None:
    """Each person's digest: what changed on their work, what they owe, what comes due.

    PLAYBOOKS is one playbook file, several, or folders, as for status. Changes
    are those recorded since the person's last digest (--mark records one; the
    email plugin records what it sends), or from --since on; before a first
    digest, the last seven days. Due soon: within seven days of --as-of.
    """
    from pdca.cli.digest_text import RENDERERS
    from pdca.errors import PdcaError

    day = as_of or date.today()
    if mark and day > date.today():
        raise PdcaError(
            f"--mark records a digest of today or earlier; --as-of {day.isoformat()} is later"
        )
    paths = expand(playbooks)
    doc = build(paths, state_url, day, owner=owner, since=since)
    if fmt == "json":
        echo_json(doc)
    else:
        click.echo(RENDERERS[fmt](doc), nl=False)
    if mark:
        record(paths, state_url, day, doc["people"])


def register(cli: click.Group) -> None:
    cli.add_command(digest)
