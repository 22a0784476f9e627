"""``pdca digest``: each person's week across playbooks, driven through real cycles.

Three playbooks share the people maria (objective owner), tom (tasks, and member
of the team ``ops``) and aisha. ``desk`` has a metric read from a CSV with a
planted improvement, so its check finds a signal. Every command runs with a
fixed recording clock, so each ``recorded`` stamp below is the one the test
set, and each digest is worked out by hand from the steps before it. The
same drive runs on SQLite (a state per playbook) and on one PostgreSQL
database shared by all three.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pdca.cli import cli
from pdca.engine.runner import Engine
from pg_server import fresh_database
from test_portfolio import pdca

START = "2026-01-05"  # a Monday


def small(pid: str) -> str:
    return f"""\
playbook: {pid}
title: Desk {pid.upper()}
owners:
  maria: {{name: Maria, email: maria@example.com}}
  tom: {{name: Tom, email: tom@example.com}}
  aisha: {{name: Aisha}}
  ops: {{name: Ops, members: [tom]}}
objectives:
  happy: {{title: Happy customers, owner: maria, due: 2026-03-31}}
tasks:
  analyse: {{title: Analyse, owner: tom, phase: plan, objective: happy, due: 2026-01-09}}
  fix: {{title: Fix the rota, owner: ops, phase: plan, due: 2026-01-16, depends_on: [analyse]}}
  train: {{title: Train agents, owner: aisha, phase: plan, due: 2026-01-30}}
cycle: {{start: {START}, length: 90d}}
"""


DESK = f"""\
playbook: desk
title: "Desk <b>&</b>"
owners:
  maria: {{name: Maria, email: maria@example.com}}
  tom: {{name: Tom, email: tom@example.com}}
  aisha: {{name: Aisha}}
sources:
  scores: {{type: csv, path: data/scores.csv, timestamp: day}}
metrics:
  score: {{title: Score, source: scores, kpi: mean, field: score, baseline: 5, target: 7}}
objectives:
  better: {{title: Better answers, owner: maria, metrics: [score], due: 2026-02-20}}
tasks:
  coach: {{title: Coach agents, owner: tom, phase: plan, objective: better, due: 2026-01-14}}
  log: {{title: Keep the log, owner: aisha, phase: plan}}
cycle: {{start: {START}, length: 42d}}
"""


def scores() -> str:
    """Daily scores about 5 from September on, about 8 from the cycle's start."""
    rng = random.Random(11)
    lines, day = ["day,score"], date(2025, 9, 1)
    while day <= date(2026, 2, 28):
        mean = 8.0 if day >= date(2026, 1, 5) else 5.0
        lines += [f"{day},{rng.gauss(mean, 0.8):.2f}" for _ in range(6)]
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


class Clock:
    """The engine's recording clock, set by each step."""

    now = "2026-01-05T08:00:00.000Z"

    def __call__(self) -> str:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The CLI builds its Engine with the default clock: replaced for the test."""
    fake = Clock()
    monkeypatch.setitem(Engine.__init__.__kwdefaults__, "clock", fake)
    return fake


@pytest.fixture
def desks(tmp_path: Path) -> Path:
    for pid in ("a", "b"):
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "playbook.yaml").write_text(small(pid))
    (tmp_path / "desk" / "data").mkdir(parents=True)
    (tmp_path / "desk" / "playbook.yaml").write_text(DESK)
    (tmp_path / "desk" / "data" / "scores.csv").write_text(scores())
    return tmp_path


class Team:
    """The three playbooks' commands, on one state location (None: SQLite beside each)."""

    def __init__(self, root: Path, clock: Clock, state: str | None):
        self.root, self.clock, self.state = root, clock, state

    def pb(self, pid: str) -> Path:
        return self.root / pid / "playbook.yaml"

    def __call__(self, at: str, *argv: Any, code: int = 0) -> Result:
        self.clock.now = at
        extra = ["--state", self.state] if self.state else []
        return pdca(*argv, *extra, code=code)

    def digest(self, at: str, *argv: Any) -> dict[str, Any]:
        out = self(at, "digest", self.root, "--format", "json", *argv).stdout
        return json.loads(out)


def changes(person: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(c["playbook"], c["on"], c["text"], c["recorded"]) for c in person["changes"]]


def drive(team: Team) -> None:
    """Cycle 1 opened in all three on 5 January, the first week's updates, a marked digest."""
    for pid in ("a", "b", "desk"):
        team("2026-01-05T08:00:00.000Z", "run", team.pb(pid), "--as-of", START)
    team("2026-01-06T09:00:00.000Z", "task", team.pb("a"), "start", "analyse", "--by", "tom")
    team(
        "2026-01-07T10:00:00.000Z",
        *("checkin", team.pb("a"), "happy", "--confidence", "8", "--note", "<script>x</script>"),
        *("--by", "maria"),
    )


def check_first_week(team: Team) -> None:
    week1 = team.digest("2026-01-09T17:00:00.000Z", "--as-of", "2026-01-09", "--mark")
    assert list(week1["people"]) == ["maria", "tom", "aisha"]
    tom, maria, aisha = (week1["people"][p] for p in ("tom", "maria", "aisha"))
    # no digest yet: the 7 days up to 9 January (3 to 9 January)
    assert tom["since"]["a"] == {"from": "first", "day": "2026-01-03", "last_digest": None}
    opened = "2026-01-05T08:00:00.000Z"
    cycle_steps = [
        (pid, START, text, opened)
        for pid in ("a", "b", "desk")
        for text in ("cycle 1 opened", "phase - -> plan")
    ]
    # cycle steps per playbook, then tasks made ready at opening (in playbook order)
    assert changes(tom) == [
        ("a", START, "cycle 1 opened", opened),
        ("a", START, "phase - -> plan", opened),
        ("a", START, "task analyse: pending -> ready", opened),
        ("b", START, "cycle 1 opened", opened),
        ("b", START, "phase - -> plan", opened),
        ("b", START, "task analyse: pending -> ready", opened),
        ("desk", START, "cycle 1 opened", opened),
        ("desk", START, "phase - -> plan", opened),
        ("desk", START, "task coach: pending -> ready", opened),
        ("a", "2026-01-06", "task analyse: ready -> in progress", "2026-01-06T09:00:00.000Z"),
        # tom works on 'happy' (analyse serves it): its owner's check-in is news to him
        ("a", "2026-01-07", "objective happy: check-in, confidence 8/10",
         "2026-01-07T10:00:00.000Z"),
    ]  # fmt: skip
    # maria owns 'happy' and 'better': the tasks serving them (analyse, coach), the check-in
    assert [c for c in changes(maria) if "task" in c[2]] == [
        ("a", START, "task analyse: pending -> ready", opened),
        ("b", START, "task analyse: pending -> ready", opened),
        ("desk", START, "task coach: pending -> ready", opened),
        ("a", "2026-01-06", "task analyse: ready -> in progress", "2026-01-06T09:00:00.000Z"),
    ]
    # aisha: only her own tasks (train, log) and the cycles' steps; no check-in of 'happy'
    assert [c[2] for c in changes(aisha) if c[0] == "a"] == [
        "cycle 1 opened",
        "phase - -> plan",
        "task train: pending -> ready",
    ]
    assert sorted(c[:3] for c in changes(aisha)) == sorted(
        [c[:3] for c in cycle_steps]
        + [
            ("a", START, "task train: pending -> ready"),
            ("b", START, "task train: pending -> ready"),
            ("desk", START, "task log: pending -> ready"),
        ]
    )
    # owes, on 9 January: analyse due 9 Jan (due today: 12 points; in progress 4; blocks
    # fix 1) in a = 17; in b it is ready (2): 12 + 1 + 2 = 15; coach (desk) due 14 Jan:
    # 12 * (1 - 5/14) + 2 (ready) = 9.714...
    owed = [(i["playbook"], i["id"], round(i["urgency"], 3)) for i in tom["owes"]]
    assert owed == [("a", "analyse", 17.0), ("b", "analyse", 15.0), ("desk", "coach", 9.714)]
    # coming due by 16 January: analyse (today) in a and b, coach on 14 Jan; fix (ops,
    # pending) on 16 Jan in a and b
    assert [(d["due"], d["playbook"], d["id"], d["days_left"]) for d in tom["due_soon"]] == [
        ("2026-01-09", "a", "analyse", 0),
        ("2026-01-09", "b", "analyse", 0),
        ("2026-01-14", "desk", "coach", 5),
        ("2026-01-16", "a", "fix", 7),
        ("2026-01-16", "b", "fix", 7),
    ]
    assert aisha["due_soon"] == [] and tom["signals"] == []
    assert tom["email"] == "tom@example.com" and aisha["email"] is None


def check_second_week(team: Team) -> None:
    a, b = team.pb("a"), team.pb("b")
    team("2026-01-12T09:00:00.000Z", "task", a, "done", "analyse", "--by", "tom")
    # entered late: done on 8 January, recorded on the 12th, after the marked digest
    team(
        "2026-01-12T09:05:00.000Z",
        *("task", b, "done", "analyse", "--by", "tom", "--on", "2026-01-08"),
    )
    preview = team.digest("2026-01-16T08:00:00.000Z", "--as-of", "2026-01-16", "--owner", "tom")
    again = team.digest("2026-01-16T08:01:00.000Z", "--as-of", "2026-01-16", "--owner", "tom")
    assert preview == again  # a preview moves nothing
    tom = preview["people"]["tom"]
    assert list(preview["people"]) == ["tom"]
    assert tom["since"]["b"] == {
        "from": "last_digest",
        "day": "2026-01-09",
        "last_digest": "2026-01-09T17:00:00.000Z",
    }
    # in data time: b's update happened on 8 January, a's on the 12th; fix became ready
    assert changes(tom) == [
        ("b", "2026-01-08", "task analyse: ready -> done", "2026-01-12T09:05:00.000Z"),
        ("b", "2026-01-08", "task fix: pending -> ready", "2026-01-12T09:05:00.000Z"),
        ("a", "2026-01-12", "task analyse: in progress -> done", "2026-01-12T09:00:00.000Z"),
        ("a", "2026-01-12", "task fix: pending -> ready", "2026-01-12T09:00:00.000Z"),
    ]
    # fix (ops: tom's team) due 16 Jan, ready: 12 (due today) + 2 = 14; coach overdue 2 days:
    # 12 + 1 + 2 (ready) = 15
    owed = [(i["playbook"], i["id"], i["urgency"]) for i in tom["owes"]]
    assert owed == [("desk", "coach", 15.0), ("a", "fix", 14.0), ("b", "fix", 14.0)]
    assert [(d["playbook"], d["id"]) for d in tom["due_soon"]] == [("a", "fix"), ("b", "fix")]
    # --since counts from a day, whatever was marked: 12 January on
    since = team.digest(
        "2026-01-16T08:02:00.000Z",
        "--as-of",
        "2026-01-16",
        "--owner",
        "tom",
        "--since",
        "2026-01-12",
    )
    assert [c[:3] for c in changes(since["people"]["tom"])] == [
        ("a", "2026-01-12", "task analyse: in progress -> done"),
        ("a", "2026-01-12", "task fix: pending -> ready"),
    ]


def check_signal(team: Team) -> None:
    desk = team.pb("desk")
    team("2026-02-16T09:00:00.000Z", "task", desk, "done", "coach", "--by", "tom")
    team("2026-02-16T09:01:00.000Z", "task", desk, "done", "log", "--by", "aisha")
    team("2026-02-16T09:02:00.000Z", "run", desk, "--as-of", "2026-02-15")  # do, then check
    week = team.digest("2026-02-16T10:00:00.000Z", "--as-of", "2026-02-16")
    maria, tom, aisha = (week["people"][p] for p in ("maria", "tom", "aisha"))
    signal = {
        "playbook": "desk",
        "metric": "score",
        "title": "Score",
        "status": "met",
        "verdict": "improved",
        "variation": "improvement",
        "measured_as_of": "2026-02-15",
        "new": True,
    }
    assert maria["signals"] == [signal]
    assert tom["signals"] == [signal]  # coach serves 'better'
    assert aisha["signals"] == []  # 'log' serves no objective
    # 'better' is due 20 February, undecided: maria's, 4 days ahead
    assert [(d["kind"], d["id"], d["days_left"]) for d in maria["due_soon"]] == [
        ("objective", "better", 4)
    ]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_three_playbooks_through_a_cycle_give_each_person_their_digest(
    desks: Path, clock: Clock, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        states: Iterator[str | None] = iter([None])
    else:
        states = fresh_database(request.getfixturevalue("pg_url"), "pdca_digest")
    for state in states:
        team = Team(desks, clock, state)
        drive(team)
        check_first_week(team)
        check_second_week(team)
        check_signal(team)


# -- what people read -------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script> [x](javascript:1) \x1b]0;owned\x07 <img src=http://t/p.gif>"


@pytest.fixture
def noted(desks: Path, clock: Clock) -> Path:
    team = Team(desks, clock, None)
    drive(team)
    team(
        "2026-01-08T10:00:00.000Z",
        *("task", team.pb("desk"), "start", "coach", "--by", "tom", "--note", HOSTILE),
    )
    return desks


def test_text_is_inert_on_a_terminal(noted: Path) -> None:
    result = CliRunner().invoke(
        cli, ["digest", str(noted), "--as-of", "2026-01-09", "--owner", "tom"], color=True
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;owned\\x07" in out
    assert out.startswith("Digest for Tom (tom), as of 2026-01-09\n")
    assert "  a: the last 7 days (from 2026-01-03; no digest yet)" in out
    shown = HOSTILE.replace("\x1b", "\\x1b").replace("\x07", "\\x07")
    assert (
        f'  2026-01-08  desk: task coach: ready -> in progress by tom: "{shown}" '
        "(recorded 2026-01-08T10:00:00.000Z)"
    ) in out
    assert "Due within 7 days\n  2026-01-09 (today)  a: task analyse: Analyse\n" in out


def test_markdown_escapes_what_people_typed(noted: Path) -> None:
    out = pdca("digest", noted, "--as-of", "2026-01-09", "--format", "markdown").stdout
    assert "<script" not in out and "<img" not in out and "\x1b" not in out
    assert '"&lt;script&gt;alert(1)&lt;/script&gt; \\[x\\](javascript:1) \\\\x1b\\]0;owned' in out
    assert "\\[x\\](javascript:1)" in out
    assert out.count("# Digest for ") == 3


def test_html_is_safe_and_self_contained_for_mail_clients(noted: Path) -> None:
    from html.parser import HTMLParser

    out = pdca("digest", noted, "--as-of", "2026-01-09", "--format", "html").stdout
    seen: list[tuple[str, dict[str, str | None]]] = []
    text: list[str] = []

    class Walk(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            seen.append((tag, dict(attrs)))

        def handle_data(self, data: str) -> None:
            text.append(data)

    Walk(convert_charrefs=True).feed(out)
    tags = {t for t, _ in seen}
    assert tags <= {"html", "head", "meta", "title", "body", "table", "tr", "td", "h1", "h2"} | {
        "p",
        "ul",
        "li",
        "span",
    }
    for tag, attrs in seen:  # nothing fetched, nothing run, no class a client may restyle
        assert set(attrs) <= {"style", "lang", "charset", "name", "content", "role"} | {
            "width",
            "cellpadding",
            "cellspacing",
        }, (tag, attrs)
        style = attrs.get("style") or ""
        if "background-color" in style:  # a background always comes with its text colour
            assert ";color:" in ";" + style, (tag, style)
        assert not any("url(" in (v or "") or "//" in (v or "") for v in attrs.values())
    # what tom typed arrives as text, whole (its control characters as escapes)
    assert any("<script>alert(1)</script> [x](javascript:1) \\x1b]0;owned\\x07" in t for t in text)
    assert "Desk <b>&</b>" not in out and "Digest for Maria (maria)" in out


def test_mark_moves_the_start_of_the_next_digest_and_a_preview_does_not(
    noted: Path, clock: Clock
) -> None:
    a = noted / "a" / "playbook.yaml"
    clock.now = "2026-01-09T12:00:00.000Z"
    first = json.loads(
        pdca("digest", a, "--as-of", "2026-01-09", "--format", "json", "--owner", "tom").stdout
    )
    assert first["people"]["tom"]["since"]["a"]["from"] == "first"
    pdca("digest", a, "--as-of", "2026-01-09", "--owner", "tom", "--mark")
    after = json.loads(
        pdca("digest", a, "--as-of", "2026-01-09", "--format", "json", "--owner", "tom").stdout
    )
    tom = after["people"]["tom"]
    assert tom["since"]["a"]["from"] == "last_digest" and tom["changes"] == []
    # maria was not marked: her window is unchanged; the mark is in the history
    maria = json.loads(pdca("digest", a, "--as-of", "2026-01-09", "--format", "json").stdout)
    assert maria["people"]["maria"]["since"]["a"]["from"] == "first"
    assert "digest for tom (mark)" in pdca("history", a).stdout


def test_refusals(noted: Path) -> None:
    err = pdca("digest", noted, "--owner", "nobody", code=1).output
    assert "unknown owner 'nobody'" in err
    err = pdca("digest", noted, "--format", "pdf", code=2).output
    assert "'pdf' is not one of" in err
    err = pdca("digest", noted, "--as-of", "2999-01-01", "--mark", code=1).output
    assert (
        err == "error: --mark records a digest of today or earlier; --as-of 2999-01-01 is later\n"
    )


def test_a_digest_marked_for_an_earlier_day_leaves_later_events_for_the_next(
    noted: Path, clock: Clock
) -> None:
    a = noted / "a" / "playbook.yaml"
    clock.now = "2026-01-12T09:00:00.000Z"
    pdca("task", a, "done", "analyse", "--by", "tom")  # on 12 January
    # marked afterwards, but for 9 January: it could not show the 12th
    clock.now = "2026-01-12T10:00:00.000Z"
    pdca("digest", a, "--as-of", "2026-01-09", "--owner", "tom", "--mark")
    doc = json.loads(
        pdca("digest", a, "--as-of", "2026-01-12", "--owner", "tom", "--format", "json").stdout
    )
    assert [(c["on"], c["text"]) for c in doc["people"]["tom"]["changes"]] == [
        ("2026-01-12", "task analyse: in progress -> done"),
        ("2026-01-12", "task fix: pending -> ready"),
    ]
