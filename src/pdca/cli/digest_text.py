"""``pdca digest`` as text (terminal), Markdown (wiki, chat) and HTML (email).

Each renders the JSON document ``--format json`` prints, one section per
person. Every text that comes from a playbook or the state (titles, notes,
names) goes through ``visible`` (terminal), the report's ``md`` (Markdown) or
``html.escape`` after ``visible`` (HTML), so a hostile note is shown, never
obeyed. The HTML is made for mail clients: inline styles only, no script, no
image, no link to anything outside it, and every colour given as a pair of
text and background, so a client that darkens the page keeps it readable.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

from pdca.playbook.messages import visible

NOTHING = "nothing"
HEADS = {
    "changes": "What changed",
    "owes": "What you owe (most urgent first)",
    "due_soon": "Coming due",
    "signals": "Signals on your metrics",
}


def since_text(pid: str, since: Mapping[str, Any]) -> str:
    """Where a person's changes in one playbook start, in words."""
    if since["from"] == "last_digest":
        return f"{pid}: since the last digest (made for {since['day']}, at {since['last_digest']})"
    if since["from"] == "since":
        return f"{pid}: from {since['day']} on"
    return f"{pid}: the last 7 days (from {since['day']}; no digest yet)"


def change_text(c: Mapping[str, Any]) -> str:
    by = f" by {c['by']}" if c.get("by") else ""
    note = f': "{c["note"]}"' if c.get("note") else ""
    return f"{c['on']}  {c['playbook']}: {c['text']}{by}{note} (recorded {c['recorded']})"


def owed_text(i: Mapping[str, Any]) -> str:
    due = f", due {i['due']}" if i.get("due") else ""
    status = str(i["status"]).replace("_", " ")
    return f"{i['playbook']}: {i['kind']} {i['id']}: {i['title']} ({status}{due})"


def due_text(d: Mapping[str, Any]) -> str:
    left = d["days_left"]
    when = "today" if left == 0 else f"in {left} day{'s' if left != 1 else ''}"
    return f"{d['due']} ({when})  {d['playbook']}: {d['kind']} {d['id']}: {d['title']}"


def signal_text(s: Mapping[str, Any]) -> str:
    said = ", ".join(
        str(x).replace("_", " ")
        for x in (s.get("verdict"), s.get("variation"))
        if x and x not in ("no_signal", "insufficient_data")
    )
    new = " (new)" if s.get("new") else ""
    return f"{s['playbook']}: {s['title']} ({s['metric']}): {said}{new}"


LINES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "changes": change_text,
    "owes": owed_text,
    "due_soon": due_text,
    "signals": signal_text,
}


def _title(person: str, d: Mapping[str, Any], as_of: str) -> str:
    return f"Digest for {d['name']} ({person}), as of {as_of}"


def digest_text(doc: Mapping[str, Any]) -> str:
    blocks = []
    for person, d in doc["people"].items():
        out = [_title(person, d, doc["as_of"])]
        out += [f"  {since_text(pid, s)}" for pid, s in d["since"].items()]
        for key, head in HEADS.items():
            out += ["", head.replace("Coming due", f"Due within {doc['horizon_days']} days")]
            out += [f"  {LINES[key](x)}" for x in d[key]] or [f"  {NOTHING}"]
        blocks.append("\n".join(visible(line) for line in out))
    return "\n\n".join(blocks) + "\n" if blocks else "no one to write to\n"


def digest_markdown(doc: Mapping[str, Any]) -> str:
    from pdca.report.filters import md

    out: list[str] = []
    for person, d in doc["people"].items():
        out += [f"# {md(_title(person, d, doc['as_of']))}", ""]
        out += [f"- {md(since_text(pid, s))}" for pid, s in d["since"].items()]
        for key, head in HEADS.items():
            head = head.replace("Coming due", f"Due within {doc['horizon_days']} days")
            out += ["", f"## {md(head)}", ""]
            out += [f"- {md(LINES[key](x))}" for x in d[key]] or [f"- {md(NOTHING)}"]
        out.append("")
    return "\n".join(out) if out else "No one to write to.\n"


# -- HTML for email ---------------------------------------------------------------------------

PAGE = "background-color:#ffffff;color:#1f2328;"
FONT = "font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.45;"
CARD = "background-color:#f6f8fa;color:#1f2328;border:1px solid #d0d7de;border-radius:6px;"
MUTED = "color:#57606a;"
HEAD = "color:#1f2328;font-size:17px;margin:18px 0 6px 0;"
BADGES = {
    "overdue": "background-color:#cf222e;color:#ffffff;",
    "due": "background-color:#9a6700;color:#ffffff;",
    "new": "background-color:#0969da;color:#ffffff;",
}


def html_text(value: Any) -> str:
    """Text for HTML: control characters made visible, then every markup character escaped."""
    return html.escape(visible(str(value)), quote=True)


def _badge(kind: str, text: str) -> str:
    return (
        f'<span style="{BADGES[kind]}padding:1px 6px;border-radius:4px;font-size:12px;">'
        f"{html_text(text)}</span> "
    )


def _item(key: str, x: Mapping[str, Any]) -> str:
    badge = ""
    if key == "owes" and x.get("due") and any("overdue" in w["reason"] for w in x["why"]):
        badge = _badge("overdue", "overdue")
    elif key == "due_soon":
        badge = _badge("due", f"due {x['due']}")
    elif key == "signals" and x.get("new"):
        badge = _badge("new", "new")
    return f'<li style="margin:0 0 6px 0;">{badge}{html_text(LINES[key](x))}</li>'


def digest_html(doc: Mapping[str, Any]) -> str:
    """One self-contained HTML document; each person's digest is one card."""
    cards = []
    for person, d in doc["people"].items():
        rows = [
            f'<h1 style="color:#1f2328;font-size:20px;margin:0 0 8px 0;">'
            f"{html_text(_title(person, d, doc['as_of']))}</h1>"
        ]
        small = f'<p style="{MUTED}margin:0 0 2px 0;font-size:13px;">'
        rows += [f"{small}{html_text(since_text(pid, s))}</p>" for pid, s in d["since"].items()]
        for key, head in HEADS.items():
            head = head.replace("Coming due", f"Due within {doc['horizon_days']} days")
            rows.append(f'<h2 style="{HEAD}">{html_text(head)}</h2>')
            items = [_item(key, x) for x in d[key]]
            if items:
                rows.append('<ul style="margin:0;padding:0 0 0 20px;">' + "".join(items) + "</ul>")
            else:
                rows.append(f'<p style="{MUTED}margin:0;">{html_text(NOTHING)}</p>')
        cards.append(
            f'<table role="presentation" width="100%" cellpadding="16" cellspacing="0" '
            f'style="{CARD}margin:0 0 16px 0;"><tr><td style="{FONT}">'
            + "\n".join(rows)
            + "</td></tr></table>"
        )
    body = "\n".join(cards) or f'<p style="{FONT}">No one to write to.</p>'
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="color-scheme" content="light dark">'
        '<meta name="supported-color-schemes" content="light dark">'
        f"<title>{html_text('pdca digest, ' + str(doc['as_of']))}</title></head>\n"
        f'<body style="{PAGE}{FONT}margin:0;padding:16px;">\n{body}\n</body></html>\n'
    )


RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "text": digest_text,
    "markdown": digest_markdown,
    "html": digest_html,
}
