"""The ``helpdesk_export`` source: a ticket export's columns mapped to the fields metrics read.

Values in the comments are worked out by hand from the CSV rows, so a wrong
mapping or conversion shows as a wrong number.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pluggy
import pytest
from pdca.plugins.check import check_plugins
from pdca.testing import CliResult, PlaybookBuilder, run_check

import pdca_helpdesk_export

EXPORT = """\
Id,Created at,Solved at,Status,Priority,Via,Group,Assignee,Replies,Reopens,First reply time in minutes,Full resolution time in minutes,Satisfaction Score,Tags
101,2026-03-02 09:00:00,2026-03-02 10:00:00,Solved,Normal,Email,Support,Tom,1,0,15,60,Good,
102,2026-03-02 11:00:00,2026-03-03 11:00:00,Closed,High,Email,Support,Aisha,3,1,90,1440,Bad,vip
103,2026-03-03 08:30:00,,Open,Normal,Web,Billing,Tom,0,0,,,Offered,
104,2026-03-04 14:00:00,2026-03-04 14:20:00,Solved,Low,Chat,Support,Aisha,1,0,2,20,Good,
105,2026-03-05 16:00:00,2026-03-06 09:00:00,Solved,Urgent,Phone,Support,Tom,2,0,45,1020,Unoffered,vip
106,2026-03-06 10:00:00,2026-03-06 12:00:00,solved,Normal,Email,Billing,Aisha,1,0,30,120, good ,
107,2026-02-01 10:00:00,2026-02-01 11:00:00,Solved,Normal,Email,Support,Tom,1,0,5,60,Bad,
"""  # noqa: E501 (an export is as wide as it is)

METRICS: dict[str, dict[str, Any]] = {
    "csat": {"kpi": "rate", "field": "satisfied", "target": 80},
    "one-touch": {"kpi": "rate", "field": "one_touch", "target": 70},
    "first-reply": {
        "kpi": "median",
        "field": "first_reply_minutes",
        "target": 60,
        "direction": "decrease",
    },
    "reply-sla": {
        "kpi": "sla",
        "field": "first_reply_minutes",
        "params": {"limit": 60},
        "target": 90,
    },
    "email-csat": {
        "kpi": "rate",
        "field": "satisfied",
        "filter": "channel = 'email'",
        "target": 80,
    },
    "vip-tickets": {"kpi": "count", "filter": "Tags = 'vip'", "target": 1},
}


def desk(
    build: Callable[..., PlaybookBuilder],
    export: str = EXPORT,
    metrics: dict[str, dict[str, Any]] | None = None,
    **options: Any,
) -> Path:
    builder = build("desk").source(
        "tickets",
        type="helpdesk_export",
        text=export,
        path="exports/tickets.csv",
        timestamp=options.pop("timestamp", "created_at"),
        **options,
    )
    for mid, keys in (METRICS if metrics is None else metrics).items():
        builder.metric(mid, source="tickets", window="7d", **keys)
    return builder.write()


def measured(path: Path) -> dict[str, tuple[Any, Any]]:
    report = run_check(path, as_of="2026-03-08", plugins=[pdca_helpdesk_export])
    errors = {m: e["error"] for m, e in report["metrics"].items() if e["status"] == "error"}
    assert not errors, errors
    return {m: (e["value"], e["n"]) for m, e in report["metrics"].items()}


def test_default_layout_gives_service_kpis(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    values = measured(desk(playbook_builder))
    # ratings in the window: Good, Bad, Offered (-), Good, Unoffered (-), " good " -> 3 of 4
    assert values["csat"] == (75.0, 4)
    # solved: 101 (1 reply), 102 (3 replies, reopened), 104, 105 (2 replies), 106 -> 3 of 5
    assert values["one-touch"] == (60.0, 5)
    # first replies 15 90 2 45 30 (103 has none) -> median 30
    assert values["first-reply"] == (30.0, 5)
    assert values["reply-sla"] == (80.0, 5)  # 90 is over the hour
    # email: 101 good, 102 bad, 106 good
    assert values["email-csat"][0] == pytest.approx(66.6667, abs=1e-3)
    # an export column no field maps (Tags) keeps its name for filters
    assert values["vip-tickets"] == (2.0, 2)


def test_headers_match_without_case_or_extra_spaces(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    header, rest = EXPORT.split("\n", 1)
    shouted = header.upper().replace("SATISFACTION SCORE", " Satisfaction   score ")
    values = measured(
        desk(playbook_builder, shouted + "\n" + rest, metrics={"csat": METRICS["csat"]})
    )
    assert values["csat"] == (75.0, 4)


OTHER_TOOL = """\
Ticket ID;Created time;Resolved time;Status;Source;Agent;Agent interactions;Reopened count;First response (min);Rating
A-1;02.03.2026 09:00;02.03.2026 10:00;Resolved;E-mail;Tom;1;0;12;5
A-2;03.03.2026 10:00;;Open;Portal;Aisha;0;0;;
A-3;04.03.2026 11:00;05.03.2026 11:00;Closed;Phone;Tom;4;2;70;2
A-4;05.03.2026 12:00;05.03.2026 12:30;Resolved;E-mail;Aisha;1;0;8;4
A-5;06.03.2026 13:00;06.03.2026 15:00;Resolved;Chat;Tom;2;0;3;3
"""  # noqa: E501


def test_another_tools_export_through_a_column_mapping(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = desk(
        playbook_builder,
        OTHER_TOOL,
        metrics={k: METRICS[k] for k in ("csat", "one-touch", "first-reply")},
        delimiter=";",
        timestamp_format="%d.%m.%Y %H:%M",
        columns={
            "ticket_id": "Ticket ID",
            "created_at": "Created time",
            "solved_at": "Resolved time",
            "channel": "Source",
            "agent": "Agent",
            "replies": "Agent interactions",
            "reopens": "Reopened count",
            "first_reply_minutes": "First response (min)",
            "satisfaction": "Rating",
        },
        satisfied_values=[4, 5],
        unsatisfied_values=[1, 2],
        solved_statuses=["resolved", "closed"],
    )
    values = measured(path)
    assert values["csat"] == (pytest.approx(66.6667, abs=1e-3), 3)  # 5 and 4 of 5, 2, 4 (3: -)
    assert values["one-touch"] == (50.0, 4)  # of A-1 A-3 A-4 A-5
    assert values["first-reply"] == (10.0, 4)  # 12 70 8 3 -> (8 + 12) / 2


def test_solved_at_as_the_timestamp_counts_tickets_solved_in_the_window(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = desk(
        playbook_builder,
        metrics={"solved": {"kpi": "count", "target": 1}},
        timestamp="solved_at",
    )
    # solved 02, 03, 04, 06, 06 March; 103 is open (no solved_at) and 107 solved in February
    assert measured(path)["solved"] == (5.0, 5)


# -- mistakes -------------------------------------------------------------------------------


def test_a_missing_timestamp_column_says_how_to_map_it(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = desk(playbook_builder, OTHER_TOOL.replace(";", ","), metrics={"csat": METRICS["csat"]})
    error = run_check(path, as_of="2026-03-08", plugins=[pdca_helpdesk_export])["metrics"]["csat"][
        "error"
    ]
    assert "the export has no column 'Created at' for its timestamp 'created_at'" in error
    assert "map it with columns: {created_at: 'Your header'}" in error


def test_a_metric_on_a_field_the_export_lacks_lists_what_there_is(
    playbook_builder: Callable[..., PlaybookBuilder], pdca_cli: Callable[..., CliResult]
) -> None:
    without_reopens = "\n".join(
        ",".join(cell for i, cell in enumerate(line.split(",")) if i != 9)
        for line in EXPORT.splitlines()
    )
    path = desk(playbook_builder, without_reopens, metrics={"one-touch": METRICS["one-touch"]})
    result = pdca_cli(
        "validate", "--data", path, "--as-of", "2026-03-08", plugins=[pdca_helpdesk_export]
    )
    assert result.exit_code == 1
    assert "metric 'one-touch' reads column 'one_touch' which source 'tickets' does not have" in (
        result.stdout
    )
    assert "satisfied" in result.stdout  # the fields that are there are listed


def test_a_bad_created_at_value_is_quoted(playbook_builder: Callable[..., PlaybookBuilder]) -> None:
    path = desk(
        playbook_builder,
        EXPORT.replace("2026-03-04 14:00:00", "yesterday"),
        metrics={"csat": METRICS["csat"]},
    )
    error = run_check(path, as_of="2026-03-08", plugins=[pdca_helpdesk_export])["metrics"]["csat"][
        "error"
    ]
    assert "column 'created_at' (its 'timestamp') holds a value that is not a timestamp" in error
    assert "'yesterday'" in error


def test_option_mistakes_are_reported_by_validate(
    playbook_builder: Callable[..., PlaybookBuilder], pdca_cli: Callable[..., CliResult]
) -> None:
    path = desk(
        playbook_builder,
        metrics={},
        timestamp="Created at",
        columns={"first_reply": "First reply", "agent": ""},
        satisfied_values="good",
    )
    result = pdca_cli("validate", path, plugins=[pdca_helpdesk_export])
    assert result.exit_code == 1
    messages = sorted(line.split(": error: ", 1)[1] for line in result.stdout.splitlines())
    assert messages == sorted(
        [
            "source 'tickets': timestamp must be one of the fields created_at or solved_at, not an "
            "export header; map the export's column with columns: {created_at: 'Created at'}",
            "source 'tickets': columns: 'first_reply' is not a helpdesk field (fields: ticket_id, "
            "created_at, solved_at, status, priority, channel, team, agent, replies, reopens, "
            "first_reply_minutes, resolution_minutes, satisfaction); did you mean "
            "'first_reply_minutes'?",
            "source 'tickets': columns: 'agent' must name an export header",
            "source 'tickets': satisfied_values must be a list of values, e.g. [good, great]",
        ]
    )


def test_the_plugin_meets_pdcas_contracts(
    pdca_plugin_manager: Callable[..., pluggy.PluginManager],
) -> None:
    assert check_plugins(pdca_plugin_manager(pdca_helpdesk_export)) == []


def test_every_field_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for field, spec in pdca_helpdesk_export.FIELDS.items():
        assert f"| `{field}` | `{spec.header}` |" in readme
    for field in pdca_helpdesk_export.DERIVED:
        assert f"| `{field}` |" in readme
