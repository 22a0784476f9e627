"""``pdca report``: the document, the Markdown/JSON snapshots, the HTML, A3, safety, plugins.

The state is real: a small support-desk playbook over generated survey data
with a planted improvement is driven through a whole cycle with the engine's
commands (run, task, act), exactly as a team would, and the report is read
from that state. The engine stamps every change with the clock; the module
fixture replaces the clock with one the test sets, so timestamps (and so the
snapshots) are the same on every run.

Snapshots live in ``tests/data/report_snapshots``; any change fails the test.
After an intended change, rewrite them with ``PDCA_UPDATE_SNAPSHOTS=1`` and
review the diff.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import textwrap
from collections.abc import Iterator
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

import pdca.cli
from pdca.cli.report import register
from pdca.engine.runner import Engine

SNAPSHOTS = Path(__file__).parent / "data" / "report_snapshots"
UPDATE = os.environ.get("PDCA_UPDATE_SNAPSHOTS", "").strip() not in ("", "0", "false", "no")

FIRST_DAY = date(2025, 10, 6)  # a Monday: 21 full ISO weeks up to 2026-03-01
LAST_DAY = date(2026, 3, 1)
COACHED = date(2026, 1, 12)  # the coaching countermeasure lifts NPS from here
STAFFED = date(2026, 1, 19)  # peak staffing cuts waiting from here

PLAYBOOK = """\
playbook: desk
title: Support desk - happier customers
description: >-
  Customers wait too long and detractors say agents sound scripted.
  This cycle coaches agents and staffs the peaks.
owners:
  maria: {name: Maria Lopez, role: Head of support}
  tom: {name: Tom Becker}
  aisha: {name: Aisha Khan}
  ops: {name: Support ops, members: [tom, aisha]}
sources:
  surveys: {type: csv, path: data/surveys.csv, timestamp: day, comments: comment}
metrics:
  nps:
    title: Net Promoter Score
    source: surveys
    kpi: nps
    field: score
    baseline: 5
    target: 30
    warn: 20
    segment_by: channel
    benchmark: {value: 32, source: Industry survey 2025}
  wait:
    title: Median wait (minutes)
    source: surveys
    kpi: median
    field: wait
    baseline: 30
    target: 20
    warn: 25
    direction: decrease
    unit: min
objectives:
  happy: {title: Customers recommend us, owner: maria, metrics: [nps], due: 2026-03-31}
  fast: {title: Nobody waits long, owner: ops, metrics: [wait], due: 2026-03-31}
tasks:
  analyse:
    title: Root-cause analysis of detractor comments
    owner: aisha
    phase: plan
    objective: happy
    due: 2026-01-08
  coach:
    title: Coach agents on empathy
    owner: tom
    objective: happy
    depends_on: [analyse]
    due: 2026-01-16
  staff:
    title: Staff the peak hours
    owner: ops
    objective: fast
    depends_on: [analyse]
    due: 2026-01-16
  review:
    title: Review the control charts
    owner: maria
    phase: check
    depends_on: [coach, staff]
    due: 2026-03-04
  standardise:
    title: Coaching into onboarding
    owner: aisha
    phase: act
    objective: happy
    depends_on: [review]
    when: {metric: nps, status: met}
  second-slot:
    title: Second triage slot
    owner: tom
    phase: act
    objective: fast
    depends_on: [review]
    when: {metric: wait, status: [at_risk, off_track]}
cycle: {start: 2026-01-05, length: 56d}
"""


def survey_csv(
    first: date = FIRST_DAY,
    last: date = LAST_DAY,
    *,
    seed: int = 7,
    channels: tuple[str, ...] = ("email", "chat"),
    comments: tuple[str, ...] = ("slow answer", "friendly agent", "had to repeat myself", ""),
) -> str:
    """Daily survey rows with a planted improvement: NPS about 5 before COACHED and
    about 40 after it; the median wait about 31 minutes before STAFFED, 21 after."""
    rng = random.Random(seed)
    lines = ["day,channel,score,wait,comment"]
    day = first
    while day <= last:
        coached, staffed = day >= COACHED, day >= STAFFED
        promoters, detractors = (0.55, 0.15) if coached else (0.35, 0.30)
        for i in range(12):
            u = rng.random()
            if u < promoters:
                score = rng.choice((9, 10))
            elif u < promoters + detractors:
                score = rng.randint(0, 6)
            else:
                score = rng.choice((7, 8))
            wait = max(1, round(rng.gauss(21 if staffed else 31, 6)))
            comment = comments[(i + day.toordinal()) % len(comments)]
            lines.append(f'{day},{channels[i % len(channels)]},{score},{wait},"{comment}"')
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


class Clock:
    """The engine's clock, set by the test: every stored timestamp is reproducible."""

    def __init__(self) -> None:
        self.now = "2026-01-05T08:00:00.000Z"

    def set(self, stamp: str) -> None:
        self.now = stamp

    def __call__(self) -> str:
        return self.now


def cli_group() -> click.Group:
    register(pdca.cli.cli)
    register(pdca.cli.cli)  # twice changes nothing
    return pdca.cli.cli


class Pdca:
    """``pdca`` commands in-process on one playbook (the same code path as the shell)."""

    def __init__(
        self,
        playbook: Path,
        clock: Clock | None = None,
        cwd: Path | None = None,
        state: str | None = None,
    ):
        self.playbook = playbook
        self.clock = clock
        self.cwd = cwd
        self.state = state
        self.cli = cli_group()

    def __call__(self, command: str, *args: Any, code: int = 0, at: str | None = None) -> Result:
        if at is not None and self.clock is not None:
            self.clock.set(at)
        argv = [command, str(self.playbook), *(str(a) for a in args)]
        if self.state:
            argv += ["--state", self.state]
        with contextlib.chdir(self.cwd or Path.cwd()):
            result = CliRunner().invoke(self.cli, argv, catch_exceptions=False)
        assert result.exit_code == code, f"pdca {' '.join(argv)}:\n{result.output}"
        assert "Traceback" not in result.output
        return result

    def report(self, *args: Any, code: int = 0) -> str:
        return self("report", *args, code=code).stdout


def drive_desk(pdca: Pdca) -> None:
    """Cycle 1 from opening to closing, as the team would; 'fast' is adjusted, so cycle 2
    opens (in plan) and cycle 1 becomes a past cycle with a check snapshot."""
    pdca("run", "--as-of", "2026-01-05", at="2026-01-05T08:00:00.000Z")
    pdca(
        "task", "done", "analyse", "--by", "aisha", "--note", "3 causes: tone, waiting, repeats",
        at="2026-01-07T10:00:00.000Z",
    )  # fmt: skip
    pdca("run", "--as-of", "2026-01-09", at="2026-01-09T09:00:00.000Z")
    pdca(
        "task", "done", "coach", "--by", "tom", "--note", "two sessions per agent",
        at="2026-01-12T16:00:00.000Z",
    )  # fmt: skip
    pdca("task", "block", "staff", "--by", "aisha", "--note", "rota tool down",
         at="2026-01-16T11:00:00.000Z")  # fmt: skip
    pdca("task", "reopen", "staff", "--by", "tom", at="2026-01-19T09:00:00.000Z")
    pdca("task", "done", "staff", "--by", "tom", at="2026-01-19T09:30:00.000Z")
    pdca("run", "--as-of", "2026-03-01", at="2026-03-02T08:00:00.000Z")  # measure: check
    pdca("task", "done", "review", "--by", "maria", at="2026-03-03T10:00:00.000Z")
    pdca("run", "--as-of", "2026-03-01", at="2026-03-03T10:05:00.000Z")  # act: proposals
    pdca(
        "act", "happy", "--decision", "standardize", "--by", "maria",
        "--note", "coaching works: make it part of onboarding", at="2026-03-04T15:00:00.000Z",
    )  # fmt: skip
    pdca(
        "act", "fast", "--decision", "adjust", "--by", "tom",
        "--note", "better, not there yet: add a second triage slot",
        at="2026-03-04T15:10:00.000Z",
    )  # fmt: skip
    pdca("task", "done", "standardise", "--by", "aisha", at="2026-03-05T09:00:00.000Z")
    pdca("task", "done", "second-slot", "--by", "tom", at="2026-03-05T09:10:00.000Z")
    pdca("run", "--as-of", "2026-03-05", at="2026-03-05T09:30:00.000Z")  # closes, opens cycle 2


def make_desk(folder: Path, text: str = PLAYBOOK, csv: str | None = None) -> Path:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / "surveys.csv").write_text(csv or survey_csv(), encoding="utf-8")
    path = folder / "playbook.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@contextlib.contextmanager
def fake_clock() -> Iterator[Clock]:
    """The engine's default clock replaced (the CLI builds its Engine with the default)."""
    fake = Clock()
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(Engine.__init__.__kwdefaults__, "clock", fake)
        yield fake


@pytest.fixture(scope="module")
def clock() -> Iterator[Clock]:
    with fake_clock() as fake:
        yield fake


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Pdca:
    """The desk playbook after one full cycle: cycle 1 closed, cycle 2 in plan."""
    pdca = Pdca(make_desk(tmp_path_factory.mktemp("desk")), clock)
    drive_desk(pdca)
    return pdca


# -- snapshot helpers -------------------------------------------------------------------------

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


def normalise(text: str, folder: Path) -> str:
    """The same text on every run: the temporary folder and the generation time replaced."""
    text = text.replace(str(folder), "<folder>")
    return re.sub(r"(Generated by pdca \S+ at )" + STAMP.pattern, r"\1<generated>", text)


def normalise_document(doc: dict[str, Any], folder: Path) -> dict[str, Any]:
    text = json.dumps(doc).replace(str(folder), "<folder>")
    # a definition's fingerprint hashes the time zone periods are cut in, which is the machine's
    text = re.sub(r'"fingerprint": "[0-9a-f]{64}"', '"fingerprint": "<fingerprint>"', text)
    doc = json.loads(text)
    doc["generated"] = "<generated>"
    if doc["measured"]["source"] == "fresh":
        doc["measured"]["taken"] = "<generated>"
    return doc


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE or not path.exists():
        if not UPDATE and os.environ.get("CI"):
            pytest.fail(f"snapshot {path} is missing; create it with PDCA_UPDATE_SNAPSHOTS=1")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"snapshot {path.name} did not exist and was written; run again")
        return
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"{name} changed; if intended, rewrite with PDCA_UPDATE_SNAPSHOTS=1 and review the diff"
    )


# -- HTML structure ---------------------------------------------------------------------------


class Page(HTMLParser):
    """Elements with their attributes, the text of the page, and every <script>/URL attribute."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.open_tags: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        out = []
        for t, a in self.elements:
            if t != tag:
                continue
            if all(
                (v in a.get(k.rstrip("_"), "").split()) if k == "class_" else a.get(k) == v
                for k, v in attrs.items()
            ):
                out.append(a)
        return out

    def has(self, tag: str, key: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and key in a]

    @property
    def all_text(self) -> str:
        return "".join(self.text)


# -- the document -------------------------------------------------------------------------------


def test_past_cycle_document_has_the_check_snapshot_effects_and_decisions(desk: Pdca) -> None:
    doc = json.loads(desk.report("--cycle", "1", "--format", "json", "--as-of", "2026-03-05"))
    assert doc["schema"] == "pdca-report/1"
    assert doc["cycle"]["number"] == 1 and doc["cycle"]["phase"] == "closed"
    assert doc["cycle"]["latest"] is False
    assert doc["measured"] == {
        "source": "snapshot",
        "as_of": "2026-03-01",
        "taken": "2026-03-02T08:00:00.000Z",
    }
    nps, wait = doc["metrics"]["nps"], doc["metrics"]["wait"]
    # the planted improvement is read as one: a signal, not just a better number
    assert nps["status"] == "met" and nps["value"] > 30
    assert nps["signal"]["verdict"] == "improved"
    # the reading gives the evidence: the cycle mean, in the metric's units
    assert nps["reading"].startswith("improved (the mean of the 8 judged periods, ")
    assert [r["kind"] for r in nps["signal"]["reasons"]] == ["cycle_mean", "sustained_run"]
    assert wait["signal"]["verdict"] == "improved" and wait["direction"] == "decrease"
    assert len(nps["series"]) == 21 and not any(p.get("partial") for p in nps["series"])
    assert nps["benchmark"]["source"] == "Industry survey 2025"
    assert {s["segment"] for s in nps["segments"]} == {"chat", "email"}
    assert nps["comments_column"] == "comment" and nps["themes"] is None
    # countermeasures: the do tasks, dated by the state, judged against the series
    assert [(e["task"], e["metric"], e["completed"]) for e in doc["effects"]] == [
        ("coach", "nps", "2026-01-12"),
        ("staff", "wait", "2026-01-19"),
    ]
    coach = doc["effects"][0]
    assert coach["signal_after"] is True and coach["verdict"] == "improved"
    assert coach["after"] - coach["before"] > 20
    assert coach["summary"].startswith("Coach agents on empathy done 2026-01-12: Net Promoter")
    assert "signal after: yes" in coach["summary"]
    assert nps["markers"] == [
        {"date": "2026-01-12", "label": "Coach agents on empathy", "task": "coach"}
    ]
    assert nps["effects"] == [0] and wait["effects"] == [1]
    # decisions of cycle 1 and the lessons up to it
    happy = doc["objectives"]["happy"]
    assert (happy["decision"], happy["decided_by"], happy["proposed"]) == (
        "standardize",
        "maria",
        "standardize",
    )
    assert happy["tasks"] == ["analyse", "coach", "standardise"]
    assert [x["objective"] for x in doc["lessons"]] == ["happy", "fast"]
    assert doc["next"] == ["cycle 1 is closed; the current cycle is 2"]
    # tasks keep cycle 1's statuses, notes and completion dates
    assert doc["tasks"]["staff"]["status"] == "done"
    assert doc["tasks"]["staff"]["completed"] == "2026-01-19"
    assert doc["tasks"]["analyse"]["note"] == "3 causes: tone, waiting, repeats"
    assert doc["tasks"]["analyse"]["owner_name"] == "Aisha Khan"
    # the graph: tasks and objectives with statuses, dependency and objective edges
    nodes = {n["id"]: n for n in doc["graph"]["nodes"]}
    assert nodes["task:coach"]["status"] == "done"
    assert nodes["objective:happy"]["kind"] == "objective"
    assert ["task:analyse", "task:coach"] in doc["graph"]["edges"]
    assert ["task:coach", "objective:happy"] in doc["graph"]["edges"]
    assert [c["number"] for c in doc["cycles"]] == [1, 2]
    assert doc["cycles"][0]["decisions"]["fast"]["decision"] == "adjust"


def test_current_cycle_before_check_is_measured_fresh_with_ratcheted_baselines(
    desk: Pdca,
) -> None:
    doc = json.loads(desk.report("--format", "json", "--as-of", "2026-03-08"))
    assert doc["cycle"]["number"] == 2 and doc["cycle"]["phase"] == "plan"
    assert doc["cycle"]["latest"] is True
    assert doc["measured"]["source"] == "fresh" and doc["measured"]["as_of"] == "2026-03-08"
    nps = doc["metrics"]["nps"]
    past = json.loads(desk.report("--cycle", "1", "--format", "json"))["metrics"]["nps"]
    assert nps["baseline"] == past["value"] and nps["baseline_from"] == "cycle 1"
    assert nps["value"] is not None and nps["status"] != "not_measured"
    assert doc["tasks"]["coach"]["status"] == "pending" and doc["effects"] == []
    assert doc["objectives"]["happy"]["decision"] is None


def test_a_playbook_never_run_still_reports_from_a_fresh_check(
    tmp_path: Path, clock: Clock
) -> None:
    pdca = Pdca(make_desk(tmp_path), clock)
    doc = json.loads(pdca.report("--format", "json", "--as-of", "2026-03-01"))
    assert doc["cycle"] is None and doc["cycles"] == []
    assert doc["measured"]["source"] == "fresh"
    assert doc["metrics"]["nps"]["status"] == "met"
    assert doc["objectives"]["happy"]["status"] == "met"
    assert not (tmp_path / ".pdca" / "state.db").exists(), "a report never creates a state"
    html = pdca.report("--format", "html", "-o", "-", "--as-of", "2026-03-01")
    assert "No cycle opened yet" in html
    assert "pdca run" in html  # the next step says how to start


@pytest.mark.postgres
def test_a_shared_postgresql_state_reports_the_same_as_sqlite(
    desk: Pdca, tmp_path: Path, clock: Clock, pg_url: str
) -> None:
    from test_cli_engine import _fresh_pg_database

    for url in _fresh_pg_database(pg_url):
        shared = Pdca(make_desk(tmp_path), clock, state=url)
        drive_desk(shared)
        for args in (("--cycle", "1"), ()):
            got = json.loads(shared.report("--format", "json", "--as-of", "2026-03-08", *args))
            want = json.loads(desk.report("--format", "json", "--as-of", "2026-03-08", *args))
            assert normalise_document(got, tmp_path) == normalise_document(
                want, desk.playbook.parent
            )
        assert not (tmp_path / ".pdca" / "state.db").exists()


def test_asking_for_a_cycle_that_does_not_exist_is_a_clear_error(
    desk: Pdca, tmp_path: Path, clock: Clock
) -> None:
    err = desk("report", "--cycle", "9", code=1).stderr
    assert "has no cycle 9; its cycles are 1, 2" in err
    fresh = Pdca(make_desk(tmp_path), clock)
    err = fresh("report", "--cycle", "1", code=1).stderr
    assert "has no cycles yet" in err and "pdca run" in err


# -- snapshots --------------------------------------------------------------------------------


def test_markdown_snapshot_of_a_past_cycle(desk: Pdca) -> None:
    text = desk.report("--cycle", "1", "--format", "markdown", "--as-of", "2026-03-05")
    assert_snapshot("desk-cycle1.md", normalise(text, desk.playbook.parent))


def test_markdown_snapshot_of_the_current_cycle(desk: Pdca) -> None:
    text = desk.report("--format", "markdown", "--as-of", "2026-03-08")
    assert_snapshot("desk-cycle2.md", normalise(text, desk.playbook.parent))


def test_json_snapshot_of_a_past_cycle(desk: Pdca) -> None:
    doc = json.loads(desk.report("--cycle", "1", "--format", "json", "--as-of", "2026-03-05"))
    text = json.dumps(normalise_document(doc, desk.playbook.parent), indent=2) + "\n"
    assert_snapshot("desk-cycle1.json", text)


def test_reports_differ_between_runs_only_in_the_generation_time(desk: Pdca) -> None:
    a = desk.report("--cycle", "1", "--format", "markdown", "--as-of", "2026-03-05")
    b = desk.report("--cycle", "1", "--format", "markdown", "--as-of", "2026-03-05")
    changed = [x for x, y in zip(a.splitlines(), b.splitlines(), strict=True) if x != y]
    assert all(line.startswith("_Generated by pdca 0.1.0 at 20") for line in changed)
    folder = desk.playbook.parent
    assert normalise(a, folder) == normalise(b, folder)
    assert "<generated>" in normalise(a, folder)
    # SOURCE_DATE_EPOCH pins the generation time: then two runs are byte-identical
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1767225600")
        pinned = desk.report("--cycle", "1", "--format", "markdown", "--as-of", "2026-03-05")
        assert pinned == desk.report(
            "--cycle", "1", "--format", "markdown", "--as-of", "2026-03-05"
        )
        assert "at 2026-01-01T00:00:00.000Z" in pinned
    # normalising hides nothing else: another as-of date is another report
    c = desk.report("--cycle", "1", "--format", "markdown", "--as-of", "2026-03-06")
    assert normalise(c, folder) != normalise(a, folder)


# -- HTML -------------------------------------------------------------------------------------


def figures(html: str) -> dict[str, str]:
    """The inside of each chart figure, by metric id."""
    out = {}
    for match in re.finditer(
        r'<figure class="chart" data-metric="([^"]+)"[^>]*>(.*?)</figure>', html, re.S
    ):
        out[match[1]] = match[2]
    return out


def test_html_has_a_card_per_objective_a_chart_per_metric_and_a_row_per_task(
    desk: Pdca,
) -> None:
    html = desk.report("--cycle", "1", "-o", "-", "--as-of", "2026-03-05")
    doc = json.loads(desk.report("--cycle", "1", "--format", "json", "--as-of", "2026-03-05"))
    page = Page(html)
    cards = page.find("article", class_="objective-card")
    assert [c["data-objective"] for c in cards] == list(doc["objectives"])
    assert [c["data-status"] for c in cards] == ["met", "at_risk"]
    charts = figures(html)
    assert list(charts) == ["nps", "wait"]
    for mid, inner in charts.items():
        assert inner.count("<svg ") == 1, mid
        assert 'viewBox="0 0 720 ' in inner
        assert "pdca-series" in inner and "pdca-target" in inner  # the line and the target
        assert "pdca-centre" in inner and "pdca-upper" in inner and "pdca-lower" in inner
        assert 'class="pdca-marker"' in inner  # the countermeasure's date on the chart
        assert "pdca-signal-better" in inner  # signals marked, coloured as improvements
    rows = page.find("tr", class_="task")
    assert [r["data-task"] for r in rows] == list(doc["tasks"])
    assert len(page.find("section", id="graph")) == 1
    assert 'aria-label="Dependency graph, scrolls sideways"' in html
    assert html.count('class="pdca-edge') == len(doc["graph"]["edges"])
    # words a manager reads, next to the numbers
    text = " ".join(page.all_text.split())
    # the verdict over the chart, the evidence behind it under the chart
    assert "Improved · trend improving Current" in text
    assert "Cycle mean (up): the mean of the 8 judged periods, 30.51, is 5.5 standard" in text
    assert "Sustained run (up): the last 8 periods all lie above the baseline centre 4.029" in text
    assert (
        "On stable processes these 2 judged metrics would give about 0.05 false verdicts per "
        "cycle (5 % chance of at least one)." in text
    )
    assert "Coach agents on empathy done 2026-01-12: Net Promoter Score 4.51 → 33.3" in text
    assert "signal after: yes" in text
    assert "coaching works: make it part of onboarding" in text  # decision note
    assert "Industry survey 2025" in text  # benchmark source


def test_html_is_self_contained_and_print_friendly(desk: Pdca) -> None:
    html = desk.report("--cycle", "1", "-o", "-")
    page = Page(html)
    assert not page.find("script") and not page.find("link") and not page.find("img")
    assert not page.find("iframe") and not page.find("object")
    for tag, attrs in page.elements:
        for key in ("href", "src", "xlink:href", "action"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith("#"), (tag, key, value)  # in-page links only
    assert not re.search(r"url\((?!#)", html), "only in-page references (SVG arrow markers)"
    assert "@import" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    csp = page.find("meta", **{"http-equiv": "Content-Security-Policy"})
    assert csp and "default-src 'none'" in csp[0]["content"]
    assert "@media print" in html and "break-inside: avoid" in html


def test_overdue_tasks_are_highlighted_and_grouped_by_phase(desk: Pdca) -> None:
    html = desk.report("-o", "-", "--as-of", "2026-03-10")  # cycle 2: analyse is late
    page = Page(html)
    overdue = page.find("tr", class_="overdue")
    assert [r["data-task"] for r in overdue] == ["analyse"]
    tasks = html[html.index('<section id="tasks">') : html.index('<section id="graph">')]
    titles = [
        t.split("<")[0].strip() for t in re.findall(r'<h3 class="phase-title">(.*?)</h3>', tasks)
    ]
    assert titles == ["Plan", "Do", "Check", "Act"]
    assert '<span class="flag">overdue</span>' in html
    on_time = Page(desk.report("-o", "-", "--as-of", "2026-03-06"))
    assert not on_time.find("tr", class_="overdue")


def test_html_default_output_file_and_write_report(
    desk: Pdca, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = desk("report", "--cycle", "1")
    assert result.stdout == "" and "wrote report.html" in result.stderr
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    result = desk("report", "--cycle", "1", "--format", "a3")
    assert "wrote a3.html" in result.stderr and (tmp_path / "a3.html").exists()
    from pdca.report import write_report

    out = write_report(desk.playbook, "markdown", tmp_path / "sub" / "r.md", cycle=1)
    assert out == tmp_path / "sub" / "r.md"
    assert out.read_text(encoding="utf-8").startswith("# Support desk - happier customers")


# -- A3 ---------------------------------------------------------------------------------------


A3_BOXES = [
    "a3-background",
    "a3-current",
    "a3-target",
    "a3-causes",
    "a3-countermeasures",
    "a3-effect",
    "a3-followup",
]


def a3_box(html: str, ident: str) -> str:
    match = re.search(rf'<section class="box[^"]*" id="{ident}">(.*?)</section>', html, re.S)
    assert match, ident
    return match[1]


def test_a3_is_the_improvement_record_on_one_landscape_page(desk: Pdca) -> None:
    html = desk.report("--cycle", "1", "--format", "a3", "-o", "-")
    page = Page(html)
    assert [s["id"] for s in page.find("section") if s.get("id", "").startswith("a3-")] == A3_BOXES
    assert "@page { size: A3 landscape" in html
    assert "Customers wait too long" in a3_box(html, "a3-background")
    current = a3_box(html, "a3-current")
    assert "Net Promoter Score" in current and ">5<" in current  # the baseline
    assert "≥ 30<" in a3_box(html, "a3-target")  # the target condition, and which way
    causes, countermeasures = a3_box(html, "a3-causes"), a3_box(html, "a3-countermeasures")
    assert "Root-cause analysis of detractor comments" in causes  # plan tasks
    assert "Coach agents on empathy" not in causes
    assert "Coach agents on empathy" in countermeasures and "2026-01-12" in countermeasures
    effect = a3_box(html, "a3-effect")
    assert "improved (rule 2)" in effect  # the signal, in short
    assert "4.51 → <b>33.3</b>" in effect and "from 01-12, signal" in effect  # coaching
    charts = figures(effect)
    assert list(charts) == ["nps", "wait"]  # the charts of the metrics with countermeasures
    assert all('class="pdca-marker"' in c for c in charts.values())
    followup = a3_box(html, "a3-followup")
    assert "Standardize" in followup and "better, not there yet" in followup
    assert not page.find("script")


# -- text ---------------------------------------------------------------------------------------


def test_the_text_format_is_pdca_status(tmp_path: Path, clock: Clock) -> None:
    pdca = Pdca(make_desk(tmp_path), clock)
    pdca("run", "--as-of", "2026-01-05", at="2026-01-05T08:00:00.000Z")
    pdca("task", "done", "analyse", "--by", "aisha", at="2026-01-07T10:00:00.000Z")
    pdca("run", "--as-of", "2026-01-09", at="2026-01-09T09:00:00.000Z")
    pdca("task", "done", "coach", "--by", "tom", at="2026-01-12T16:00:00.000Z")
    pdca("task", "done", "staff", "--by", "tom", at="2026-01-19T09:30:00.000Z")
    pdca("run", "--as-of", "2026-03-01", at="2026-03-02T08:00:00.000Z")  # check: a snapshot
    status = pdca("status", "--as-of", "2026-03-02").stdout
    text = pdca.report("--format", "text", "--as-of", "2026-03-02")
    # the report is the status with what the charts say added: a READINGS block
    head, readings = text.split("\nREADINGS\n")
    readings, tail = readings.split("\n\n", 1)
    assert head + "\n" + tail == status
    assert "READINGS" not in status
    assert "cycle 1, check phase" in text and "review" in text
    assert readings.splitlines()[0].startswith("  nps: improved (the mean of the ")
    assert " ".join(readings.split()).endswith(
        "On stable processes these 2 judged metrics would give about 0.05 false verdicts per "
        "cycle (5 % chance of at least one)."
    )


# -- hostile input --------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
RUDE = "<b>rude</b>"
LINK = "[a](javascript:alert(1))"
IMG = "<img src=x onerror=alert(1)>"
TABLE = "| x |"
HEADING = "# heading"
FENCE = "```"


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


def hostile_playbook(folder: Path) -> Path:
    text = f"""\
playbook: evil
title: {q("Desk " + SCRIPT + " " + RUDE)}
description: {q(HEADING + " then " + LINK + " and " + IMG + " " + FENCE)}
owners:
  mal: {{name: {q("Mal " + SCRIPT)}}}
sources:
  surveys: {{type: csv, path: data/surveys.csv, timestamp: day, comments: comment}}
metrics:
  nps:
    title: {q("NPS " + TABLE + " " + RUDE)}
    source: surveys
    kpi: nps
    field: score
    target: 30
    warn: 20
    unit: {q("<u>pts</u>")}
    segment_by: channel
    benchmark: {{value: 32, source: {q(LINK + " " + SCRIPT)}}}
objectives:
  happy: {{title: {q(HEADING + " " + SCRIPT)}, owner: mal, metrics: [nps]}}
tasks:
  coach:
    title: {q("Coach " + IMG + " " + TABLE + " " + FENCE + " javascript:alert(1)")}
    owner: mal
    objective: happy
cycle: {{start: 2026-01-05}}
"""
    csv = survey_csv(
        channels=(SCRIPT, LINK, "- list item", "1. numbered"),
        comments=(RUDE, SCRIPT, "normal comment"),
    )
    return make_desk(folder, text, csv)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Pdca:
    pdca = Pdca(hostile_playbook(tmp_path_factory.mktemp("hostile")), clock)
    pdca("run", "--as-of", "2026-01-05", at="2026-01-05T08:00:00.000Z")  # straight to do
    pdca("task", "block", "coach", "--by", "mal", "--note", RUDE + " " + SCRIPT,
         at="2026-01-10T08:00:00.000Z")  # fmt: skip
    pdca("task", "reopen", "coach", "--by", "mal", at="2026-01-11T08:00:00.000Z")
    pdca("task", "done", "coach", "--by", "mal", "--note", f"{LINK} {TABLE} {HEADING} {IMG}",
         at="2026-01-12T08:00:00.000Z")  # fmt: skip
    pdca("run", "--as-of", "2026-03-01", at="2026-03-02T08:00:00.000Z")  # check
    pdca("run", "--as-of", "2026-03-01", at="2026-03-02T08:01:00.000Z")  # act
    pdca("act", "happy", "--decision", "adjust", "--by", "mal",
         "--note", f"{SCRIPT} {RUDE} {LINK} {TABLE}", at="2026-03-03T08:00:00.000Z")  # fmt: skip
    return pdca


HOSTILE = (SCRIPT, RUDE, IMG, "<u>pts</u>")


def with_themes(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as the themes analysis will fill it: comments quoted as examples."""
    doc["metrics"]["nps"]["themes"] = {
        "groups": [
            {
                "label": "detractors " + SCRIPT,
                "comments": 3,
                "themes": [{"term": RUDE, "count": 2, "examples": [SCRIPT + " " + IMG]}],
            },
            {"label": "promoters", "comments": 0, "themes": []},
        ]
    }
    return doc


def test_hostile_text_is_inert_in_html_and_a3(hostile: Pdca) -> None:
    from pdca.playbook import load_checked
    from pdca.plugins import build_registry, get_plugin_manager
    from pdca.report import render_document as render

    doc = with_themes(json.loads(hostile.report("--format", "json")))
    assert doc["tasks"]["coach"]["note"].startswith(LINK)  # the hostile text is really there
    assert {s["segment"] for s in doc["metrics"]["nps"]["segments"]} >= {SCRIPT, LINK}
    registry = build_registry(get_plugin_manager(entry_points=False))
    pb = load_checked(hostile.playbook).playbook
    for fmt in ("html", "a3"):
        html = render(doc, fmt, registry=registry, playbook_dir=pb.base_dir)
        page = Page(html)
        tags = {t for t, _ in page.elements}
        assert not tags & {"script", "img", "u", "iframe"}, fmt
        for tag, attrs in page.elements:
            assert not any(k.startswith("on") for k in attrs), (tag, attrs)
            assert not any("javascript:" in v for k, v in attrs.items() if k in ("href", "src"))
        # shown as text, exactly as written
        text = page.all_text
        for raw in (SCRIPT, RUDE, IMG):
            assert raw in text, (fmt, raw)
            assert raw not in html, (fmt, raw)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = render(doc, "html", registry=registry, playbook_dir=pb.base_dir)
    assert 'class="themes"' in html and "detractors &lt;script&gt;" in html


def test_hostile_text_cannot_add_markdown(hostile: Pdca) -> None:
    text = hostile.report("--format", "markdown")
    fence = [i for i, line in enumerate(text.splitlines()) if line.startswith("```")]
    assert len(fence) == 2, "only the mermaid fence: a title cannot open or close one"
    lines = text.splitlines()
    mermaid_block = lines[fence[0] + 1 : fence[1]]
    assert not any("`" in line or "<script" in line for line in mermaid_block)
    prose = lines[: fence[0]] + lines[fence[1] + 1 :]
    headings = [line for line in prose if line.lstrip().startswith("#")]
    assert all(re.match(r"^#{1,3} [A-Z]", h) for h in headings), headings
    assert not any(h.startswith("# heading") or "heading" in h.split(" ", 1)[0] for h in headings)
    body = "\n".join(prose)
    assert "<" not in body.replace("<br/>", ""), "no HTML tag can form"
    assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", body), "no link can form"
    for line in prose:
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line)
            header = next(h for h in reversed(prose[: prose.index(line) + 1]) if h.startswith("| "))
            assert len(cells) == len(re.split(r"(?<!\\)\|", header)), line
    # the text is still there, escaped, not dropped
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" not in body  # () are not escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "\\[a\\](javascript:alert(1))" in body
    assert "\\| x \\|" in body and "\\# heading" in body
    assert "\\`\\`\\`" in body


def test_md_filter_escapes_what_markdown_would_read() -> None:
    from pdca.report.render import md, mermaid_text

    assert md("Root-cause analysis (5 whys)") == "Root-cause analysis (5 whys)"
    assert md("34.5") == "34.5" and md("+28.8") == "+28.8"
    assert md("1. first") == "1\\. first" and md("- item") == "\\- item" and md("+ x") == "\\+ x"
    assert md("---") == "\\---"
    assert md("a\nb\r\n  c") == "a b c"
    assert md("x|y") == "x\\|y" and md("*a* _b_ ~c~ $d$") == "\\*a\\* \\_b\\_ \\~c\\~ \\$d\\$"
    assert md("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"
    assert md(None) == "–"
    assert mermaid_text('a "b" <c> `d` #e &f |g\nh') == (
        "a #quot;b#quot; #lt;c#gt; #96;d#96; #35;e #38;f #124;g h"
    )


# -- templates ----------------------------------------------------------------------------------


def with_templates(pdca: Pdca, files: dict[str, str], tmp_path: Path) -> Pdca:
    """A copy of the playbook folder (state included) with these templates in templates/."""
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(pdca.playbook.parent, folder)
    for name, text in files.items():
        path = folder / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return Pdca(folder / "playbook.yaml", pdca.clock)


def test_a_playbook_template_overrides_the_builtin_by_name(desk: Pdca, tmp_path: Path) -> None:
    team = with_templates(
        desk,
        {
            "report.html.j2": """\
                {% extends "builtin/report.html.j2" %}
                {% block objectives %}<p id="team">Our view of {{ report.title }}</p>{% endblock %}
                """,
            "custom.css.j2": "body { --accent: #6b2c91; }\n",
            "report.md.j2": "Only {{ report.title|md }} and {{ report.metrics|length }} metrics\n",
        },
        tmp_path,
    )
    html = team.report("--cycle", "1", "-o", "-")
    assert '<p id="team">Our view of Support desk - happier customers</p>' in html
    assert "objective-card" not in html  # the replaced block is gone
    assert 'class="pdca-series"' in html  # the rest of the built-in report is still there
    assert "body { --accent: #6b2c91; }" in html  # restyled without a plugin
    assert team.report("--format", "markdown", "--cycle", "1") == (
        "Only Support desk - happier customers and 2 metrics\n"
    )
    # the original playbook folder still gets the built-ins
    assert "objective-card" in desk.report("--cycle", "1", "-o", "-")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{% include '../../etc/passwd' %}", "template name '../../etc/passwd' is not allowed"),
        ("{% include '/etc/passwd' %}", "template name '/etc/passwd' is not allowed"),
        ("{% extends '../playbook.yaml' %}", "template name '../playbook.yaml' is not allowed"),
        ("{% include 'builtin/../../x' %}", "is not allowed"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "not allowed in a template"),
        ("{{ report.no_such_key }}", "report.md.j2:1: 'dict object' has no attribute"),
        ("{% if %}", "report.md.j2:1: template syntax error"),
        ("{% include 'missing.j2' %}", "template 'missing.j2' not found"),
    ],
)
def test_templates_cannot_leave_their_folder_and_errors_name_the_line(
    desk: Pdca, tmp_path: Path, template: str, message: str
) -> None:
    team = with_templates(desk, {"report.md.j2": template + "\n"}, tmp_path)
    err = team("report", "--format", "markdown", "--cycle", "1", code=1).stderr
    assert message in err, err
    assert err.startswith("error: ") and "Traceback" not in err
    assert "root:" not in err  # nothing of /etc/passwd leaks


def test_a_template_linked_to_a_file_outside_is_refused(desk: Pdca, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret\n", encoding="utf-8")
    team = with_templates(desk, {"report.md.j2": "{% include 'notes.md.j2' %}\n"}, tmp_path)
    (team.playbook.parent / "templates" / "notes.md.j2").symlink_to(secret)
    err = team("report", "--format", "markdown", "--cycle", "1", code=1).stderr
    assert "outside the playbook's templates folder" in err
    assert "top secret" not in err
    link = team.playbook.parent / "templates" / "report.md.j2"
    link.unlink()
    link.symlink_to(secret)  # the top-level template itself
    err = team("report", "--format", "markdown", "--cycle", "1", code=1).stderr
    assert "outside the playbook's templates folder" in err and "top secret" not in err


# -- plugins --------------------------------------------------------------------------------------

PLUGIN = """\
from pathlib import Path

from pdca import hookimpl
from pdca.report import Renderer, TemplateRenderer


class TaskCsv(Renderer):
    name = "task-csv"
    summary = "one CSV row per task"
    extension = "csv"
    media_type = "text/csv"

    def render(self, document, env):
        rows = ["task,owner,status"]
        rows += [f"{tid},{t['owner']},{t['status']}" for tid, t in document["tasks"].items()]
        return "\\n".join(rows) + "\\n"


class Memo(TemplateRenderer):
    name = "memo"
    summary = "a short memo from the plugin's own template"
    extension = "txt"
    default_output = "memo.txt"
    template = "memo.txt.j2"
    template_dir = Path(__file__).parent / "plugin_templates"


class Broken:
    name = "broken"
    summary = "registers, but cannot render"


@hookimpl
def pdca_register_renderers(register):
    register(TaskCsv())
    register(Memo())
    register(Broken())
"""

JINJA_PLUGIN = """\
from pdca import hookimpl


@hookimpl
def pdca_prepare_jinja_env(env):
    env.filters["shout"] = lambda text: str(text).upper() + "!"
    env.globals["team_motto"] = "measure twice"
"""


def with_plugins(pdca: Pdca, tmp_path: Path, files: dict[str, str]) -> Pdca:
    team = with_templates(pdca, {}, tmp_path)
    folder = team.playbook.parent
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    plugins = [n for n in files if n.endswith(".py")]
    text = team.playbook.read_text(encoding="utf-8")
    team.playbook.write_text(text + f"plugins: {json.dumps(plugins)}\n", encoding="utf-8")
    return team


def test_pdca_register_renderers(
    desk: Pdca, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = with_plugins(
        desk,
        tmp_path,
        {
            "report_plugin.py": PLUGIN,
            "plugin_templates/memo.txt.j2": "Memo: {{ report.title }}, "
            "{{ report.effects|length }} countermeasures\n",
        },
    )
    csv = team.report("--format", "task-csv", "--cycle", "1")
    assert csv.splitlines()[:2] == ["task,owner,status", "analyse,aisha,done"]
    assert len(csv.splitlines()) == 1 + 6
    err = team("report", "--format", "nope", code=2).stderr
    formats = err.split("formats: ")[1].split()
    formats = [f.rstrip(",") for f in formats]
    assert formats[:5] == ["html", "markdown", "json", "a3", "text"]
    assert {"broken", "memo", "task-csv"} <= set(formats)  # the playbook's plugin formats
    monkeypatch.chdir(tmp_path)
    result = team("report", "--format", "memo", "--cycle", "1")
    assert "wrote memo.txt" in result.stderr
    assert (tmp_path / "memo.txt").read_text() == (
        "Memo: Support desk - happier customers, 2 countermeasures\n"
    )
    err = team("report", "--format", "broken", code=1).stderr
    assert "renderer 'broken'" in err and "has no render(document, env) method" in err
    # the playbook's templates/ still come first, before the plugin's own
    (team.playbook.parent / "templates").mkdir(exist_ok=True)
    (team.playbook.parent / "templates" / "memo.txt.j2").write_text("team memo\n")
    assert team.report("--format", "memo", "-o", "-") == "team memo\n"


def test_pdca_prepare_jinja_env(desk: Pdca, tmp_path: Path) -> None:
    team = with_plugins(desk, tmp_path, {"jinja_plugin.py": JINJA_PLUGIN})
    (team.playbook.parent / "templates").mkdir(exist_ok=True)
    (team.playbook.parent / "templates" / "report.md.j2").write_text(
        "{{ report.title|shout }} ({{ team_motto }}; {{ report.as_of|md }})\n"
    )
    out = team.report("--format", "markdown", "--cycle", "1", "--as-of", "2026-03-05")
    assert out == "SUPPORT DESK - HAPPIER CUSTOMERS! (measure twice; 2026-03-05)\n"
    # without the plugin the filter does not exist, and the error says where it was used
    plain = with_templates(desk, {"report.md.j2": "{{ report.title|shout }}\n"}, tmp_path / "plain")
    err = plain("report", "--format", "markdown", "--cycle", "1", code=1).stderr
    assert "report.md.j2:1" in err and "shout" in err


# -- countermeasure effects ---------------------------------------------------------------------


def test_effects_are_those_of_the_analysis_for_every_completion_date(desk: Pdca) -> None:
    """Tasks done on many days (inside a week, on a week's first day, after the last
    period) get exactly what effects.countermeasure_effect says for their own date,
    though the document computes each metric and period once."""
    from dataclasses import replace

    from pdca.check.stats.effects import countermeasure_effect
    from pdca.playbook import load_checked
    from pdca.playbook.model import Task
    from pdca.report.context import build_document, read_cycle
    from pdca.state import open_store
    from pdca.state.model import TaskState

    pb = load_checked(desk.playbook).playbook
    with open_store(desk.playbook.parent / ".pdca" / "state.db", create=False) as store:
        state = read_cycle(store, "desk", 1)
    days = [date(2026, 1, 12) + timedelta(days=d) for d in (0, 1, 3, 6, 7, 9, 14, 21)]
    days += [date(2025, 9, 1), date(2026, 3, 2), date(2026, 3, 5), date(2026, 4, 20)]
    extra = {f"cm{i}": Task(f"cm{i}", f"Countermeasure {i}", "tom", objective="happy")
             for i in range(len(days))}  # fmt: skip
    pb = replace(pb, tasks={**pb.tasks, **extra})
    rows = {
        # recorded weeks later: the day it was done (on) is what the effect is about
        tid: TaskState(tid, "done", "do", "tom", "2026-04-30T12:00:00.000Z", on=day.isoformat())
        for (tid, _), day in zip(extra.items(), days, strict=True)
    }
    state = replace(state, tasks={**state.tasks, **rows})
    doc = build_document(pb, state, as_of=date(2026, 3, 5))
    series = [(date.fromisoformat(p["start"]), p["value"]) for p in doc["metrics"]["nps"]["series"]]
    effects = {e["task"]: e for e in doc["effects"] if e["metric"] == "nps"}
    assert set(effects) == {"coach", *extra}
    for tid, day in zip(extra, days, strict=True):
        want = countermeasure_effect(series, day, rules=pb.rules, direction="increase").to_json()
        got = effects[tid]
        assert got["completed"] == day.isoformat()
        for key in ("n_before", "n_after", "change", "excluded_period", "first_signal_date"):
            assert got[key] == want[key], (tid, day, key)
        assert (got["before"], got["after"], got["verdict"]) == (
            want["before_mean"],
            want["after_mean"],
            want["verdict"],
        )
    assert len({effects[t]["n_before"] for t in extra}) > 4  # the dates really differ
