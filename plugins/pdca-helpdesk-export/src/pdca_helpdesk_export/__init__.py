"""pdca-helpdesk-export: a helpdesk's ticket CSV export, mapped to fields metrics can read.

A helpdesk export names its columns for people ("First reply time in
minutes", "Satisfaction Score") and spells values its own way ("Good",
"Solved"). This source maps each export column to one of pdca's ticket
fields (``first_reply_minutes``, ``satisfaction`` ...), converts it to the
right type, and derives the yes/no fields service KPIs are made of
(``satisfied`` for CSAT, ``one_touch`` for one-touch resolution), so a
playbook says ``kpi: rate, field: satisfied`` instead of SQL.

The default headers are those of a Zendesk-style ticket export; ``columns:``
maps any field to another header, so the same source reads other tools'
exports. Export columns that map to no field are kept under their own names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

from pdca import hookimpl
from pdca.data.base import DataRequest, OptionProblem, SourceContext, SourceType
from pdca.data.files import existing_file
from pdca.data.messages import source_error
from pdca.data.stamps import FORMAT_OPTION, with_timestamp
from pdca.kpi import quote, sql_literal

if TYPE_CHECKING:
    import duckdb
    from pdca.playbook.model import Source

__version__ = "0.1.0"


@dataclass(frozen=True)
class Field:
    """A ticket field pdca's metrics read: the export header it comes from, and its kind."""

    header: str
    kind: str  # text | label (lower-cased text) | number | timestamp
    doc: str


FIELDS: Mapping[str, Field] = MappingProxyType(
    {
        "ticket_id": Field("Id", "text", "the ticket's id"),
        "created_at": Field("Created at", "timestamp", "when the ticket was opened"),
        "solved_at": Field("Solved at", "timestamp", "when it was solved; empty while open"),
        "status": Field("Status", "label", "new, open, pending, solved, closed ..."),
        "priority": Field("Priority", "label", "low, normal, high, urgent ..."),
        "channel": Field("Via", "label", "how the ticket came in: email, web, phone, chat ..."),
        "team": Field("Group", "text", "the group or team the ticket is assigned to"),
        "agent": Field("Assignee", "text", "the agent the ticket is assigned to"),
        "replies": Field("Replies", "number", "the number of agent replies"),
        "reopens": Field("Reopens", "number", "how often the ticket was reopened"),
        "first_reply_minutes": Field(
            "First reply time in minutes", "number", "minutes to the first agent reply"
        ),
        "resolution_minutes": Field(
            "Full resolution time in minutes", "number", "minutes from opened to finally solved"
        ),
        "satisfaction": Field(
            "Satisfaction Score", "label", "the customer's rating: good, bad, offered ..."
        ),
    }
)

DERIVED: Mapping[str, str] = MappingProxyType(
    {
        "solved": "true when status is one of solved_statuses (needs status)",
        "satisfied": "true for a satisfied rating, false for an unsatisfied one, empty for "
        "anything else (needs satisfaction): kpi rate gives CSAT in percent",
        "one_touch": "for solved tickets: true with at most one agent reply and no reopen "
        "(needs status, replies, reopens): kpi rate gives one-touch resolution",
    }
)

DEFAULT_SATISFIED = ("good",)
DEFAULT_UNSATISFIED = ("bad",)
DEFAULT_SOLVED = ("solved", "closed")

LIST_OPTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "satisfied_values": DEFAULT_SATISFIED,
        "unsatisfied_values": DEFAULT_UNSATISFIED,
        "solved_statuses": DEFAULT_SOLVED,
    }
)


def normal(header: str) -> str:
    """Headers match without case, surrounding spaces or doubled spaces."""
    return re.sub(r"\s+", " ", header).strip().lower()


class HelpdeskExport(SourceType):
    """A ticket CSV export, its columns mapped to pdca's ticket fields."""

    name = "helpdesk_export"
    summary = "A helpdesk ticket CSV export, mapped to ticket fields (satisfied, one_touch ...)"
    required = ("path",)
    option_docs: ClassVar[Mapping[str, str]] = {
        "path": "the CSV export; a relative path starts at the playbook's folder",
        "columns": "field: 'Export header' pairs where your export's headers differ "
        "from the defaults",
        "delimiter": "column separator, e.g. ';' (default: detected)",
        "satisfied_values": "ratings that count as satisfied (default: [good])",
        "unsatisfied_values": "ratings that count as not satisfied (default: [bad])",
        "solved_statuses": "statuses that mean solved (default: [solved, closed])",
        FORMAT_OPTION: "strptime format of created_at and solved_at when not ISO 8601, "
        "e.g. '%d/%m/%Y %H:%M'",
    }

    def check(self, source: Source) -> list[OptionProblem]:
        problems = super().check(source)
        opts = source.options
        columns = opts.get("columns", {})
        if not isinstance(columns, Mapping):
            problems.append(("columns", "columns must map pdca fields to export headers"))
        else:
            for field, header in columns.items():
                if field not in FIELDS:
                    close = difflib.get_close_matches(str(field), list(FIELDS), n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    problems.append(
                        (
                            "columns",
                            f"columns: '{field}' is not a helpdesk field "
                            f"(fields: {', '.join(FIELDS)}){hint}",
                        )
                    )
                elif not isinstance(header, str) or not header.strip():
                    problems.append(("columns", f"columns: '{field}' must name an export header"))
        for key in LIST_OPTIONS:
            value = opts.get(key)
            if value is not None and not (
                isinstance(value, Sequence)
                and not isinstance(value, str)
                and all(isinstance(v, str | int) and not isinstance(v, bool) for v in value)
            ):
                problems.append((key, f"{key} must be a list of values, e.g. [good, great]"))
        if "delimiter" in opts and (
            not isinstance(opts["delimiter"], str) or not opts["delimiter"]
        ):
            problems.append(("delimiter", "delimiter must be non-empty text"))
        stamps = [f for f, spec in FIELDS.items() if spec.kind == "timestamp"]
        if source.timestamp is not None and source.timestamp not in stamps:
            problems.append(
                (
                    "timestamp",
                    f"timestamp must be one of the fields {' or '.join(stamps)}, not an export "
                    f"header; map the export's column with columns: "
                    f"{{created_at: '{source.timestamp}'}}",
                )
            )
        return problems

    def relation(
        self, source: Source, request: DataRequest, ctx: SourceContext
    ) -> duckdb.DuckDBPyRelation:
        raw = ctx.con.sql(f"SELECT * FROM {self._scan(source)}")
        select = mapped_columns(source, list(raw.columns))
        rel = raw.query("__helpdesk", f"SELECT {', '.join(select)} FROM __helpdesk")
        return with_timestamp(rel, source, source.options.get(FORMAT_OPTION))

    def _scan(self, source: Source) -> str:
        path = existing_file(source)
        args = [sql_literal(str(path)), "header=true", "all_varchar=true"]
        if "delimiter" in source.options:
            args.append(f"delim={sql_literal(source.options['delimiter'])}")
        return f"read_csv({', '.join(args)})"


def mapped_columns(source: Source, available: Sequence[str]) -> list[str]:
    """The SELECT list: each field found in the export, the derived fields, the other columns.

    Every export column is read as text (``all_varchar``) and converted here,
    so one odd value cannot make DuckDB guess a whole column's type wrong.
    """
    headers = {
        **{f: spec.header for f, spec in FIELDS.items()},
        **source.options.get("columns", {}),
    }
    by_header = {normal(col): col for col in available}
    fmt = source.options.get(FORMAT_OPTION)
    found: dict[str, str] = {}
    select: list[str] = []
    for field, spec in FIELDS.items():
        column = by_header.get(normal(str(headers[field])))
        if column is None:
            continue
        found[field] = column
        select.append(
            f"{convert(spec.kind, quote(column), fmt, strict=field == source.timestamp)}"
            f" AS {quote(field)}"
        )
    if source.timestamp in FIELDS and source.timestamp not in found:
        wanted = headers[source.timestamp]
        raise source_error(
            source,
            f"the export has no column '{wanted}' for its timestamp '{source.timestamp}' "
            f"(columns: {', '.join(available)}); map it with columns: "
            f"{{{source.timestamp}: 'Your header'}}",
            "timestamp",
        )
    select.extend(derived_columns(source, found))
    taken = {f.lower() for f in (*FIELDS, *DERIVED)}
    used = set(found.values())
    select.extend(quote(c) for c in available if c not in used and c.lower() not in taken)
    return select


def convert(kind: str, column: str, fmt: str | None, *, strict: bool) -> str:
    """SQL turning an export column (text) into the field's type.

    The playbook's ``timestamp`` column stays text here: pdca converts it and
    stops on a bad value with the value quoted. Other timestamps (solved_at)
    are lenient, since an export leaves them empty or odd for open tickets.
    """
    text = f"nullif(trim({column}), '')"
    if kind == "label":
        return f"lower({text})"
    if kind == "number":
        return f"TRY_CAST({text} AS DOUBLE)"
    if kind == "timestamp" and not strict:
        if fmt:
            return f"CAST(try_strptime({text}, {sql_literal(fmt)}) AS TIMESTAMP)"
        return f"TRY_CAST({text} AS TIMESTAMP)"
    return text


def _values(source: Source, key: str) -> str:
    values = source.options.get(key) or LIST_OPTIONS[key]
    return ", ".join(sql_literal(str(v).strip().lower()) for v in values)


def derived_columns(source: Source, found: Mapping[str, str]) -> list[str]:
    """The yes/no fields KPIs count, from the mapped fields they need."""
    out = []
    label = {f: f"lower(nullif(trim({quote(c)}), ''))" for f, c in found.items()}
    number = {f: f"TRY_CAST(nullif(trim({quote(c)}), '') AS DOUBLE)" for f, c in found.items()}
    if "status" in found:
        solved = f"({label['status']} IN ({_values(source, 'solved_statuses')}))"
        out.append(f"{solved} AS solved")
        if "replies" in found and "reopens" in found:
            out.append(
                f"CASE WHEN {solved} THEN ({number['replies']} <= 1 AND "
                f"coalesce({number['reopens']}, 0) = 0) END AS one_touch"
            )
    if "satisfaction" in found:
        rating = label["satisfaction"]
        out.append(
            f"CASE WHEN {rating} IN ({_values(source, 'satisfied_values')}) THEN TRUE "
            f"WHEN {rating} IN ({_values(source, 'unsatisfied_values')}) THEN FALSE END "
            "AS satisfied"
        )
    return out


@hookimpl
def pdca_register_source_types(register: Callable[[SourceType], None]) -> None:
    register(HelpdeskExport())
