"""The messages: a digest, a due-soon reminder, each as plain text and HTML.

Both parts render pdca's own digest document (``pdca digest --format json``)
with pdca's renderers, so an email says what ``pdca digest`` says. Header
values made from playbook text (names, titles) have their control characters
and line breaks removed, so no text can add a header.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from pdca_email.people import Recipient


def header_text(text: str, limit: int = 120) -> str:
    """One line of printable text for a header."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "~"


def _message(sender: str, to: Recipient, subject: str, text: str, html: str) -> EmailMessage:
    from datetime import UTC, datetime

    msg = EmailMessage()
    msg["Subject"] = header_text(subject)
    msg["From"] = sender
    msg["To"] = Address(header_text(to.name), addr_spec=to.address)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def only(doc: Mapping[str, Any], person: str) -> dict[str, Any]:
    """The digest document kept to one person."""
    return {**doc, "people": {person: doc["people"][person]}}


def digest_message(sender: str, to: Recipient, doc: Mapping[str, Any], person: str) -> EmailMessage:
    from pdca.cli.digest_text import digest_html, digest_text

    one = only(doc, person)
    d = one["people"][person]
    counts = f"{len(d['owes'])} to do, {len(d['due_soon'])} due soon"
    subject = f"pdca digest for {d['name']}, {doc['as_of']}: {counts}"
    return _message(sender, to, subject, digest_text(one), digest_html(one))


def reminder_items(d: Mapping[str, Any], days: int) -> dict[str, list[dict[str, Any]]]:
    """What a reminder tells: overdue work owed, and what is due within ``days``."""
    overdue = [i for i in d["owes"] if any(w["reason"].startswith("overdue") for w in i["why"])]
    due = [x for x in d["due_soon"] if x["days_left"] <= days]
    return {"overdue": overdue, "due": due}


def reminder_message(
    sender: str, to: Recipient, doc: Mapping[str, Any], person: str, days: int
) -> EmailMessage:
    from pdca.cli.digest_text import due_text, html_text, owed_text
    from pdca.playbook.messages import visible

    d = doc["people"][person]
    items = reminder_items(d, days)
    n = len(items["overdue"]) + len(items["due"])
    subject = f"pdca reminder for {d['name']}: {n} item{'s' if n != 1 else ''} due"
    heads = {"overdue": "Overdue", "due": f"Due within {days} day{'s' if days != 1 else ''}"}
    render = {"overdue": owed_text, "due": due_text}
    lines = [f"Reminder for {d['name']} ({person}), as of {doc['as_of']}"]
    parts = [
        f'<h1 style="color:#1f2328;font-size:20px;margin:0 0 8px 0;">{html_text(lines[0])}</h1>'
    ]
    for key, head in heads.items():
        if not items[key]:
            continue
        lines += ["", head] + [f"  {render[key](x)}" for x in items[key]]
        parts.append(
            f'<h2 style="color:#1f2328;font-size:17px;margin:16px 0 6px 0;">{html_text(head)}</h2>'
        )
        parts.append(
            '<ul style="margin:0;padding:0 0 0 20px;">'
            + "".join(
                f'<li style="margin:0 0 6px 0;">{html_text(render[key](x))}</li>'
                for x in items[key]
            )
            + "</ul>"
        )
    text = "\n".join(visible(line) for line in lines) + "\n"
    html = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="color-scheme" content="light dark"></head>\n'
        '<body style="background-color:#ffffff;color:#1f2328;margin:0;padding:16px;'
        'font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.45;">\n'
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
    return _message(sender, to, subject, text, html)
