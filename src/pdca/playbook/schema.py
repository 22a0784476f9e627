"""The playbook format, declared once.

The loader reads playbooks by walking this declaration, and ``pdca schema``
turns the same declaration into JSON Schema for editors, so the two never
disagree about which keys exist or what they hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pdca.playbook.model import (
    CHARTS,
    DIRECTIONS,
    METRIC_STATUSES,
    PERIODS,
    PHASES,
    RULE_PRESETS,
)

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"

SCHEMA_FILE = "playbook.schema.json"
"""The schema's file name beside a playbook (``pdca schema -o playbook.schema.json``)."""
MODELINE = f"# yaml-language-server: $schema={SCHEMA_FILE}"
"""The first line of the example playbooks: editors using the YAML language server
(VS Code, Neovim, Helix ...) check the file against pdca's schema, not the Ansible one
SchemaStore gives every ``playbook.yaml``."""


@dataclass(frozen=True)
class Spec:
    """What one key may hold.

    ``kind`` is one of: str, slug, plugin (a plugin's name: an id whose case
    slips, ``CSAT``, the validator reports with the registered name to use),
    number, int, bool, date, duration, choice, list, rules (a preset name from
    ``choices`` or a list of ``item``), object (fixed keys in ``fields``), entries
    (id -> ``entry``), free (any mapping: plugin options, KPI params), strs (a string
    or a list of them).
    """

    kind: str
    doc: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    item: Spec | None = None
    fields: Mapping[str, Spec] = field(default_factory=dict)
    entry: Spec | None = None
    units: str = "dw"
    minimum: float | None = None
    maximum: float | None = None
    open: bool = False


def S(kind: str, doc: str = "", **kw: Any) -> Spec:
    return Spec(kind, doc, **kw)


def R(kind: str, doc: str = "", **kw: Any) -> Spec:
    return Spec(kind, doc, required=True, **kw)


OWNER = S(
    "object",
    "A person, or a team when it lists members.",
    fields={
        "name": R("str", "Full name of the person or team."),
        "email": S("str", "Where notifications go."),
        "role": S("str", "Job title or role in the improvement effort."),
        "members": S("list", "Owner ids of a team's members.", item=S("slug")),
        "slack": S("str", "Chat handle, for notification plugins."),
        "timezone": S("str", "IANA time zone, for notification plugins."),
    },
)

SOURCE = S(
    "object",
    "A data source. `type` names a source plugin; the other keys are that plugin's options.",
    fields={
        "type": R(
            "plugin", "Source plugin: csv, parquet, json, sqlite, sql, or one a plugin adds."
        ),
        "timestamp": S(
            "str", "Column holding each row's date and time; windows and periods use it."
        ),
        "comments": S("str", "Free-text column with customer comments."),
        "description": S("str", "What the data is and who maintains it."),
        "max_age": S(
            "duration",
            "How old the newest row may be (3d, 2w, 36h) before its metrics are stale; "
            "default one period of the metric (7d for week, 1d for day, 31d for month).",
            units="hdw",
        ),
        "settle": S(
            "duration",
            "How long after a period ends its rows may still arrive or change (7d, 2w, 48h; "
            "default 7d). A database source's periods older than that are final: kept in "
            "the state and not queried again.",
            units="hdw",
        ),
        "allow_outside": S(
            "bool",
            "true lets `path` name a file outside the playbook's folder (absolute, `..`, or a "
            "link leading out); without it such a path is refused before anything is read.",
        ),
    },
    open=True,
)

BENCHMARK = S(
    "object",
    "An outside reference value to compare against.",
    fields={
        "value": R("number", "The benchmark value, in the metric's unit."),
        "source": S("str", "Where the benchmark comes from."),
    },
)

METRIC = S(
    "object",
    "A KPI computed from a source and judged against a target.",
    fields={
        "title": S("str", "Human-readable name."),
        "description": S("str", "What the metric means and why it matters."),
        "source": R("slug", "Id of the source the rows come from."),
        "kpi": R("plugin", "KPI calculator: nps, csat, rate, mean, percentile ..."),
        "field": S("str", "Column the KPI reads."),
        "params": S("free", "Calculator parameters, such as `{q: 90}` for percentile."),
        "filter": S("str", "SQL boolean expression over the source's columns."),
        "baseline": S("number", "Where the metric started; ratcheted each cycle."),
        "target": R("number", "The value that counts as met."),
        "warn": S("number", "Edge of the amber band, on the far side of the target."),
        "direction": S(
            "choice", "increase: higher is better; decrease: lower is better.", choices=DIRECTIONS
        ),
        "window": S(
            "duration", "Days the current value covers, ending on the as-of date.", units="dw"
        ),
        "period": S("choice", "Length of each point in the history series.", choices=PERIODS),
        "segment_by": S("str", "Column to break the metric down by (channel, region, agent)."),
        "comments": S("str", "Free-text column for theme analysis."),
        "baseline_periods": S("int", "Periods used to compute control limits.", minimum=2),
        "benchmark": BENCHMARK,
        "unit": S("str", "Unit shown after values: %, min, h, points."),
        "chart": S(
            "choice",
            "Control chart, overriding the KPI's: xmr (individuals), p (binomial), "
            "p_prime (Laney p', for percentages of a varying volume), u_prime (Laney u').",
            choices=CHARTS,
        ),
    },
)

OBJECTIVE = S(
    "object",
    "An outcome the team commits to, measured by its metrics.",
    fields={
        "title": R("str", "What success looks like, in a sentence."),
        "description": S("str", "Background and why it matters."),
        "owner": S("slug", "Owner id accountable for the objective."),
        "metrics": S("list", "Ids of the metrics that measure it.", item=S("slug")),
        "due": S(
            "due",
            "Date the objective should be met by in cycle 1 (YYYY-MM-DD), or days after "
            "each cycle opens (14d).",
        ),
    },
)

WHEN = S(
    "object",
    "Act-phase condition: the task applies only if the metric has one of these statuses.",
    fields={
        "metric": R("slug", "Metric id."),
        "status": R("strs", "A status or a list of statuses.", choices=METRIC_STATUSES),
    },
)

ACTION = S(
    "object",
    "Makes the task automated: `type` names an action plugin (shell is built in).",
    fields={"type": R("plugin", "Action plugin name, e.g. shell.")},
    open=True,
)

TASK = S(
    "object",
    "A piece of work with an owner, placed in a phase.",
    fields={
        "title": R("str", "What is to be done."),
        "description": S("str", "Details, links, acceptance criteria."),
        "owner": R("slug", "Owner id of who does it."),
        "phase": S("choice", "PDCA phase the task belongs to (default do).", choices=PHASES),
        "objective": S("slug", "Objective the task serves."),
        "depends_on": S("list", "Task ids that must be done first.", item=S("slug")),
        "due": S(
            "due",
            "Due date in cycle 1 (YYYY-MM-DD; later cycles keep its offset from the "
            "cycle's start), or days after each cycle opens (14d).",
        ),
        "estimate": S("duration", "Effort: an integer with h, d or w.", units="hdw"),
        "when": WHEN,
        "action": ACTION,
        "retries": S("int", "Times an automated task is retried after failing.", minimum=0),
        "retry_delay": S(
            "duration",
            "Wait before the first retry (30s, 5m, 1h; a bare number counts seconds), "
            "doubling with each further retry.",
            units="smh",
        ),
    },
)

CYCLE = S(
    "object",
    "When cycle 1 starts and how long a cycle lasts.",
    fields={
        "start": S("date", "First day of cycle 1."),
        "length": S("duration", "Planned length of a cycle, e.g. 90d.", units="dw"),
    },
)

CHECK = S(
    "object",
    "How Check reads control charts.",
    fields={
        "rules": S(
            "rules",
            "Special-cause rules: a preset (nhs, wheeler, western_electric, nelson) or "
            "rule numbers 1-10; default 1, 2, 3, 5 (nelson).",
            item=S("int", minimum=1, maximum=10),
            choices=tuple(RULE_PRESETS),
        ),
        "shift_points": S(
            "int",
            "Points in a row on one side of the centre line that make a shift "
            "(rule 2), 6 to 9; default the preset's (7 for nhs, 9 for nelson).",
            minimum=6,
            maximum=9,
        ),
        "trend_points": S(
            "int",
            "Points in a row rising or falling, endpoints included, that make a trend "
            "(rule 3), 6 to 9; default the preset's (7 for nhs, 6 for nelson).",
            minimum=6,
            maximum=9,
        ),
        "min_baseline": S(
            "int",
            "Baseline values a metric needs before control limits are trusted; "
            "a run chart reads it until then (default 12).",
            minimum=2,
        ),
    },
)

REVIEW = S(
    "object",
    "How pdca status reviews the work.",
    fields={
        "stale_after": S(
            "duration",
            "A task in progress with no event for this long has gone quiet and is "
            "flagged (default 7d).",
            units="dw",
        ),
    },
)

PLAYBOOK = S(
    "object",
    "A pdca playbook: objectives, tasks and metrics for Plan-Do-Check-Act cycles.",
    fields={
        "playbook": R("slug", "Id of the playbook; state is kept under it."),
        "title": R("str", "Title shown in status and reports."),
        "description": S("str", "Background: the problem and the scope."),
        "owners": S("entries", "People and teams, by id.", entry=OWNER),
        "sources": S("entries", "Data sources, by id.", entry=SOURCE),
        "metrics": S("entries", "Metrics, by id.", entry=METRIC),
        "objectives": S("entries", "Objectives, by id.", entry=OBJECTIVE),
        "tasks": S("entries", "Tasks, by id.", entry=TASK),
        "cycle": CYCLE,
        "check": CHECK,
        "review": REVIEW,
        "plugins": S("list", "Playbook-local plugin files or modules.", item=S("str")),
    },
)


def schema_text() -> str:
    """The schema as ``pdca schema`` prints it and as it is written beside playbooks."""
    import json

    return json.dumps(json_schema(), indent=2) + "\n"


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) for editors such as VS Code's YAML extension."""
    schema = _to_json(PLAYBOOK)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://pdca.dev/schema/playbook.json"
    schema["title"] = "pdca playbook"
    return schema


MAX_ID = 200
"""Characters an id may have: the state store's id columns (``playbook.storable``)."""
LARGEST = 1e15
"""Largest magnitude of a number pdca reads (``playbook.scalars``)."""
TEN_YEARS_DAYS = 3650
"""Longest duration or ``due`` offset pdca takes, in days."""

NO_CONTROL = "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]*$"
"""Text without control characters but tabs and line breaks (``playbook.storable``)."""
GROUPED_NUMBER = "^[-+]?[1-9][0-9]*(?:_[0-9]+)+(?:\\.[0-9]+)?$"
"""``1_000`` or ``12_500.5``: digits grouped by ``_``, a number to YAML 1.1 (and to pdca),
text to the YAML 1.2 parsers editors use."""
YAML11_BOOLEANS = ("yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF")
"""Booleans to YAML 1.1 (and to pdca), text to YAML 1.2."""
DATE_TIME = (
    "^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \\t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
    "(?:\\.[0-9]*)?(?:[ \\t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?$"
)
"""A YAML timestamp with a time (``2026-03-31 17:00:00``); pdca keeps its date."""
DAYS_AFTER = "^0*(?:[0-9]{1,3}|[12][0-9]{3}|3[0-5][0-9]{2}|36[0-4][0-9]|3650)d$"
"""``14d``: whole days after the cycle opens, 0 to 3650, a lower-case d."""

_UNIT_WORDS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION_EXAMPLES = {"dw": ["28d", "4w", 90], "hdw": ["36h", "3d", "2w"], "smh": ["30s", "5m"]}
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _duration(units: str) -> dict[str, Any]:
    """A duration as pdca reads it: a whole number above zero with one of ``units`` (any
    case, spaces allowed), or a bare number in the smallest unit the key takes (days
    where days are allowed), at most ten years."""
    letters = "".join(u + u.upper() for u in units)
    bare = "d" if "d" in units else units[0]
    bare_max = TEN_YEARS_DAYS * 86400 // _SECONDS[bare]
    words = ", ".join(f"{u} ({_UNIT_WORDS[u]})" for u in units)
    text = f"a whole number above zero followed by {words}, e.g. {_DURATION_EXAMPLES[units][0]}"
    return {
        "anyOf": [
            {
                "type": "string",
                "pattern": f"^\\s*0*[1-9][0-9]*\\s*[{letters}]?\\s*$",
                "description": text,
            },
            {
                "type": "integer",
                "minimum": 1,
                "maximum": bare_max,
                "description": f"a bare number counts {_UNIT_WORDS[bare]}",
            },
        ],
        "examples": _DURATION_EXAMPLES[units],
        "errorMessage": f"Write a duration: {text}; at most ten years.",
    }


def _number(spec: Spec) -> dict[str, Any]:
    low = -LARGEST if spec.minimum is None else spec.minimum
    high = LARGEST if spec.maximum is None else spec.maximum
    whole = spec.kind == "int"
    number: dict[str, Any] = {"type": "integer" if whole else "number"}
    number.update(minimum=low, maximum=high)
    grouped = GROUPED_NUMBER.replace("(?:\\.[0-9]+)?", "") if whole else GROUPED_NUMBER
    what = "a whole number" if whole else "a number"
    bounds = f" from {low:g} to {high:g}" if spec.minimum is not None else ""
    return {
        "anyOf": [number, {"type": "string", "pattern": grouped, "description": "1_000"}],
        "examples": [spec.minimum if spec.minimum is not None else (7 if whole else 30)],
        "errorMessage": f"Write {what}{bounds} (digits may be grouped: 1_000).",
    }


def _date(*more: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"type": "string", "format": "date", "description": "a date, YYYY-MM-DD"},
        {"type": "string", "pattern": DATE_TIME, "description": "a date and time; its date counts"},
        *more,
    ]


def _to_json(spec: Spec) -> dict[str, Any]:
    out: dict[str, Any] = {"description": spec.doc} if spec.doc else {}
    kind = spec.kind
    if kind == "str":
        # YAML numbers, booleans and dates are text where text is asked for, as written
        out.update(
            type=["string", "number", "boolean"],
            pattern=NO_CONTROL,
            errorMessage="Text without control characters (tabs and line breaks are fine).",
        )
    elif kind in ("slug", "plugin"):
        out["anyOf"] = [
            {"type": "string", "pattern": SLUG_PATTERN, "maxLength": MAX_ID},
            {"type": "integer", "minimum": 0, "description": "digits are an id too"},
            {"type": "boolean", "description": "YAML's true/false, read as the id written"},
        ]
        out["examples"] = ["support-desk"]
        out["errorMessage"] = (
            "An id: lower-case letters, digits, '-' and '_', starting with a letter or "
            f"digit, at most {MAX_ID} characters."
        )
    elif kind in ("number", "int"):
        out.update(_number(spec))
    elif kind == "bool":
        out["anyOf"] = [{"type": "boolean"}, {"type": "string", "enum": list(YAML11_BOOLEANS)}]
        out["examples"] = [True]
    elif kind == "date":
        out["anyOf"] = _date()
        out["examples"] = ["2026-01-05"]
        out["errorMessage"] = "Write a date as YYYY-MM-DD, e.g. 2026-01-05."
    elif kind == "due":
        days = {"type": "string", "pattern": DAYS_AFTER, "description": "days after opening"}
        out["anyOf"] = _date(days)
        out["examples"] = ["2026-03-31", "14d"]
        out["errorMessage"] = (
            "Write a date as YYYY-MM-DD (cycle 1) or whole days after each cycle opens "
            "with a lower-case d, 0d to 3650d (e.g. 14d)."
        )
    elif kind == "duration":
        out.update(_duration(spec.units))
    elif kind == "choice":
        out.update(type="string", enum=list(spec.choices))
        out["errorMessage"] = f"One of: {', '.join(spec.choices)}."
    elif kind == "strs":
        one = {"type": "string", "enum": list(spec.choices)}
        out["anyOf"] = [one, {"type": "array", "items": one, "minItems": 1}]
    elif kind == "rules":
        assert spec.item is not None
        item = _to_json(spec.item)
        out["anyOf"] = [
            {"type": "string", "enum": list(spec.choices)},
            {"type": "array", "items": item},
            item,
        ]
        out["examples"] = ["nelson", [1, 2, 3, 5]]
        out["errorMessage"] = f"A preset ({', '.join(spec.choices)}) or rule numbers from 1 to 10."
    elif kind == "list":
        assert spec.item is not None
        item = _to_json(spec.item)
        # a single item may be written without brackets, as the loader accepts
        out["anyOf"] = [{"type": "array", "items": item}, item]
    elif kind == "free":
        out["type"] = "object"
    elif kind == "entries":
        assert spec.entry is not None
        out.update(
            type="object",
            propertyNames={"pattern": SLUG_PATTERN, "maxLength": MAX_ID},
            additionalProperties=_to_json(spec.entry),
        )
    elif kind == "object":
        out["type"] = "object"
        out["properties"] = {k: _to_json(v) for k, v in spec.fields.items()}
        required = [k for k, v in spec.fields.items() if v.required]
        if required:
            out["required"] = required
        out["additionalProperties"] = spec.open
    return out
