"""pdca-email: each person's digest and due-soon reminders, by email over SMTP.

Two commands, for a scheduler (cron, a CI schedule, a systemd timer):

* ``pdca email digest PLAYBOOK...``: each person's ``pdca digest`` (weekly,
  say), as one message with a plain-text and an HTML part;
* ``pdca email reminders PLAYBOOK...``: to each person with overdue work or
  work due within ``--days`` (daily, say), a short list of it.

Addresses are the owners' ``email`` keys in the playbooks. Each message sent
is recorded in the pdca state of each playbook it covered (a ``digest_sent``
or ``reminder_sent`` event, channel ``email``, on the digest's day), in one
transaction per playbook; a person who already has one for that day is
skipped, so a second run on the same day sends nothing, and the next digest
starts after the one sent. The record follows the send: a run killed in
between sends that person's message again on the next run (at least once,
never silently dropped).

Settings (environment only; see ``pdca_email.smtp``): ``PDCA_SMTP_HOST``,
``PDCA_SMTP_PORT``, ``PDCA_SMTP_SECURITY`` (``starttls``, ``tls``, ``none``),
``PDCA_SMTP_USER``, ``PDCA_SMTP_PASSWORD``, ``PDCA_SMTP_FROM``,
``PDCA_SMTP_CA_FILE``, ``PDCA_SMTP_RETRIES``, ``PDCA_SMTP_BACKOFF``,
``PDCA_SMTP_TIMEOUT``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click
from pdca import hookimpl
from pdca.cli.options import as_of_option, parse_date, state_option

__version__ = "0.1.0"

CHANNEL = "email"


@hookimpl
def pdca_register_commands(cli: click.Group) -> None:
    cli.add_command(email)


@click.group()
def email() -> None:
    """Send each person their digest or due-soon reminders by email (SMTP)."""


def _common(f: Any) -> Any:
    for decorator in reversed(
        [
            click.argument("playbooks", nargs=-1, required=True, type=click.Path(path_type=Path)),
            click.option("--owner", metavar="ID", help="Only this person."),
            as_of_option("The digest's day (YYYY-MM-DD); default today."),
            state_option,
            click.option(
                "--dry-run", is_flag=True, help="Say who would get what; send and record nothing."
            ),
        ]
    ):
        f = decorator(f)
    return f


@email.command("digest")
@_common
@click.option("--since", callback=parse_date, metavar="DATE", help="Changes from this day on.")
def digest_command(since: date | None, **common: Any) -> None:
    """Each person's digest of PLAYBOOKS (files or folders), once a day at most.

    People with nothing to tell (no change, nothing owed or due, no signal) get
    no message.
    """
    from pdca.engine.digest import empty

    from pdca_email.messages import digest_message

    def wanted(d: dict[str, Any]) -> bool:
        return not empty(d)

    _run("digest", wanted, digest_message, since=since, **common)


@email.command("reminders")
@_common
@click.option(
    "--days",
    type=click.IntRange(0, 7),
    default=2,
    show_default=True,
    help="Remind of work due within this many days (and overdue work).",
)
def reminders_command(days: int, **common: Any) -> None:
    """Remind each person of their overdue work and work due within --days, once a day."""
    from pdca_email.messages import reminder_items, reminder_message

    def wanted(d: dict[str, Any]) -> bool:
        return any(reminder_items(d, days).values())

    def make(sender: str, to: Any, doc: dict[str, Any], person: str) -> Any:
        return reminder_message(sender, to, doc, person, days)

    _run("reminder", wanted, make, **common)


def _run(
    what: str,
    wanted: Callable[[dict[str, Any]], bool],
    make: Callable[..., Any],
    *,
    playbooks: tuple[Path, ...],
    owner: str | None,
    as_of: date | None,
    state_url: str | None,
    dry_run: bool,
    since: date | None = None,
) -> None:
    """Build the digests, then send each wanted person ``make``'s message and record it."""
    from pdca.cli.digest import build, expand, marked, record
    from pdca.errors import PdcaError
    from pdca.playbook.messages import visible
    from pdca.state.digests import DIGEST, REMINDER

    from pdca_email.people import recipients
    from pdca_email.smtp import SendError, Settings, send

    kind = DIGEST if what == "digest" else REMINDER
    day = as_of or date.today()
    if not dry_run and day > date.today():
        raise PdcaError(f"--as-of {day.isoformat()} is after today: send only what has happened")
    paths = expand(playbooks)
    doc = build(paths, state_url, day, owner=owner, since=since)
    to = recipients(paths)
    settings = None if dry_run else Settings.from_env()
    done = marked(paths, state_url, day, kind, CHANNEL)
    failed = 0
    for person, d in doc["people"].items():
        label = visible(f"{d['name']} ({person})")
        if person not in to:
            click.echo(f"{label}: no email in the playbooks; add email: to the owner", err=True)
            continue
        if person in done:
            click.echo(f"{label}: {what} for {day.isoformat()} already sent")
            continue
        if not wanted(d):
            click.echo(f"{label}: nothing to tell")
            continue
        if settings is None:
            click.echo(f"{label}: would send the {what} to {to[person].address}")
            continue
        message = make(settings.sender, to[person], doc, person)
        try:
            attempts = send(settings, message)
        except SendError as exc:
            failed += 1
            click.echo(visible(f"error: {label}: {what} not sent: {exc}"), err=True)
            continue
        record(
            paths,
            state_url,
            day,
            {person: d},
            kind=kind,
            channel=CHANNEL,
            once_a_day=True,
            data={"to": to[person].address, "message_id": message["Message-ID"]},
        )
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        click.echo(f"{label}: {what} sent to {to[person].address}{tries}")
    if failed:
        raise PdcaError(f"{failed} {what}(s) not sent; the next run tries them again")
