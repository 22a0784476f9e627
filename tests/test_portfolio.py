"""The review across playbooks: portfolio status, a person's inbox, check-ins, the agenda.

Three small playbooks with the same people: ``a`` and ``b`` side by side, ``c``
in a sub-folder (as ``c.pdca.yaml``). Dates are fixed, so each due date, each
urgency and each quiet spell is worked out by hand below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pdca.cli import cli
from pdca.engine.confidence import confidence, watermelon
from pdca.engine.portfolio import agenda, urgency
from pdca.state.checkins import Checkin, falling
from pg_server import fresh_database

START = "2026-01-05"  # a Monday


def playbook(pid: str, extra: str = "") -> str:
    return f"""\
playbook: {pid}
title: Desk {pid.upper()}
owners:
  maria: {{name: Maria}}
  tom: {{name: Tom}}
  ops: {{name: Ops, members: [tom]}}
objectives:
  happy: {{title: Happy customers, owner: maria, due: 2026-03-31}}
tasks:
  analyse: {{title: Analyse, owner: tom, phase: plan, due: 2026-01-09}}
  fix: {{title: Fix the rota, owner: ops, phase: plan, due: 2026-01-16, depends_on: [analyse]}}
  train: {{title: Train agents, owner: maria, phase: plan, depends_on: [fix]}}
cycle: {{start: {START}, length: 90d}}
{extra}"""


@pytest.fixture
def desks(tmp_path: Path) -> Path:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "deep" / "c").mkdir(parents=True)
    (tmp_path / "a" / "playbook.yaml").write_text(playbook("a"))
    (tmp_path / "b" / "playbook.yaml").write_text(playbook("b", "review: {stale_after: 3d}\n"))
    (tmp_path / "deep" / "c" / "c.pdca.yaml").write_text(playbook("c"))
    # a hidden folder is never searched
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "playbook.yaml").write_text("not: a playbook")
    for pid in ("a", "b"):
        pdca("run", tmp_path / pid / "playbook.yaml", "--as-of", START)
    return tmp_path


def pdca(*argv: Any, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in argv])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def status(*argv: Any) -> dict[str, Any]:
    return json.loads(pdca("status", *argv, "--format", "json").stdout)


def test_a_portfolio_is_each_playbooks_status_unchanged_and_a_roll_up(desks: Path) -> None:
    a, b = desks / "a" / "playbook.yaml", desks / "b" / "playbook.yaml"
    pdca("task", a, "start", "analyse", "--by", "tom", "--on", START)
    both = status(a, b, "--as-of", "2026-01-12")
    assert list(both) == ["as_of", "playbooks", "summary"]
    assert both["as_of"] == "2026-01-12"
    assert list(both["playbooks"]) == ["a", "b"]
    assert both["playbooks"]["a"] == status(a, "--as-of", "2026-01-12")
    assert both["playbooks"]["b"] == status(b, "--as-of", "2026-01-12")
    s = both["summary"]
    assert s["playbooks"] == 2
    assert s["objectives"] == {"not_measured": 2}
    # analyse (due 9 Jan) is overdue on 12 Jan in both; in a it is in progress since 5 Jan
    assert [(i["playbook"], i["task"]) for i in s["overdue"]] == [
        ("a", "analyse"),
        ("b", "analyse"),
    ]
    assert s["stale_work"] == [
        {"playbook": "a", "task": "analyse", "owner": "tom", "due": "2026-01-09", "quiet_days": 7}
    ]
    assert s["attention"] == 2

    # a folder: every playbook.yaml and *.pdca.yaml below it, hidden folders left out
    found = status(desks, "--as-of", "2026-01-12")
    assert list(found["playbooks"]) == ["a", "b", "c"]
    assert found["playbooks"]["c"]["cycle"] is None


def test_text_and_markdown_have_a_section_per_playbook_and_escape_titles(desks: Path) -> None:
    hostile = desks / "x"
    hostile.mkdir()
    text = playbook("x").replace("title: Desk X", 'title: "<img src=x> [a](javascript:1)"')
    (hostile / "playbook.yaml").write_text(text)
    # a note is text people type: it may hold anything, and reaches the terminal inert
    note = "fine \x1b]0;owned\x07"
    pdca(
        "checkin",
        hostile / "playbook.yaml",
        "happy",
        "--confidence",
        5,
        "--note",
        note,
        "--by",
        "maria",
    )
    result = CliRunner().invoke(cli, ["status", str(desks), "--as-of", "2026-01-12"], color=True)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "4 playbooks, as of 2026-01-12" in out
    assert "Desk A (a): cycle 1, plan phase" in out and "Desk C (c): no cycle yet" in out
    assert "ALL PLAYBOOKS" in out and "overdue: 2 (a/analyse, b/analyse)" in out
    assert "\x1b" not in out and "happy: confidence 5/10 (maria, " in out
    assert "fine \\x1b]0;owned\\x07" in out
    md = pdca("status", desks, "--as-of", "2026-01-12", "--format", "markdown").stdout
    assert "<img" not in md and "&lt;img src=x&gt;" in md
    assert "\\[a\\](javascript:1)" in md  # escaped: no link
    assert "| Desk A (a) | 1, plan | 1 not measured | 1 | 1 |" in md


def test_refusals_say_what_to_do(desks: Path) -> None:
    a = desks / "a" / "playbook.yaml"
    (desks / "empty").mkdir()
    err = pdca("status", desks / "empty", code=1).output
    assert "no playbook.yaml or *.pdca.yaml below this folder" in err
    twin = desks / "twin.pdca.yaml"
    twin.write_text(playbook("a"))
    err = pdca("status", a, twin, code=1).output
    assert "playbook id 'a' is also the id of" in err
    err = pdca("status", a, desks / "b" / "playbook.yaml", "--owner", "nobody", code=1).output
    assert "unknown owner 'nobody'" in err


# -- a person's inbox ----------------------------------------------------------------------


def test_the_inbox_ranks_a_persons_items_across_playbooks_and_explains(desks: Path) -> None:
    a, b = desks / "a" / "playbook.yaml", desks / "b" / "playbook.yaml"
    pdca("task", a, "start", "analyse", "--by", "tom", "--on", START)
    pdca("task", b, "done", "analyse", "--by", "tom", "--on", START)
    doc = status(a, b, "--owner", "tom", "--as-of", "2026-01-12", "--explain")
    items = [(i["playbook"], i["id"], i["urgency"]) for i in doc["inbox"]]
    # a/analyse: overdue 3 days 12 + 1.5, blocks fix and train 2, in progress 4, quiet 7 days
    #   (a's stale_after is the default 7) 3: 22.5
    # b/fix (tom through ops): due 16 Jan, in 4 days 12 x (1 - 4/14) = 8.571, blocks train 1,
    #   ready 2: 11.571
    assert items == [("a", "analyse", 22.5), ("b", "fix", pytest.approx(11.5714285714))]
    why = [w["reason"] for w in doc["inbox"][0]["why"]]
    assert why == ["overdue 3 days", "blocks 2 tasks", "in progress", "no update for 7 days"]
    text = pdca("status", a, b, "--owner", "tom", "--as-of", "2026-01-12", "--explain").stdout
    assert "22.5  a: task analyse (in progress, due 2026-01-09)" in text
    assert "overdue 3 days +13.5, blocks 2 tasks +2.0, in progress +4.0" in text
    # one playbook: the single document, with the inbox only when asked to explain
    single = status(a, "--owner", "tom", "--as-of", "2026-01-12")
    assert "inbox" not in single
    assert status(a, "--owner", "tom", "--as-of", "2026-01-12", "--explain")["inbox"][0]["id"] == (
        "analyse"
    )


def test_urgency_terms_by_hand() -> None:
    day = __import__("datetime").date(2026, 1, 12)
    points, why = urgency({"status": "blocked", "due": "2026-01-12", "blocks": 12}, day)
    assert points == 12.0 + 8.0 - 5.0
    assert [w["reason"] for w in why] == [
        "due today",
        "blocks 12 tasks",
        "blocked: waits on others",
    ]
    far, why = urgency({"status": "ready", "due": "2026-03-01"}, day)
    assert (far, why) == (2.0, [{"reason": "ready to start", "points": 2.0}])
    late, _ = urgency({"status": "failed", "due": "2025-12-01", "overdue": True}, day)
    assert late == 12.0 + 7.0 + 6.0  # 42 days late: the extra stops at 7


# -- check-ins and the watermelon ----------------------------------------------------------


def test_checkins_are_kept_with_their_history_and_a_fall_needs_attention(desks: Path) -> None:
    a = desks / "a" / "playbook.yaml"
    for day, c in (("2026-01-06", 8), ("2026-01-07", 6), ("2026-01-08", 4)):
        pdca(
            "checkin",
            a,
            "happy",
            "--confidence",
            c,
            "--note",
            f"said {c}",
            "--by",
            "maria",
            "--on",
            day,
        )
    doc = status(a, "--as-of", "2026-01-12")
    o = doc["objectives"]["happy"]
    assert o["checkin"]["confidence"] == 4 and o["checkin"]["on"] == "2026-01-08"
    assert [c["confidence"] for c in o["checkins"]] == [8, 6, 4]
    assert o["confidence_falling"] is True and doc["falling_confidence"] == ["happy"]
    kinds = [i["kind"] for i in status(a, "--agenda", "--as-of", "2026-01-12")["agenda"]]
    assert "falling_confidence" in kinds
    text = pdca("status", a, "--as-of", "2026-01-12").stdout
    assert "confidence 4/10 (maria, 2026-01-08): said 4" in text
    assert "confidence fell at each of the last two check-ins (8 -> 6 -> 4)" in text
    events = json.loads(pdca("history", a, "--format", "json").stdout)["events"]
    assert [e["new"] for e in events if e["kind"] == "objective_checkin"] == ["8", "6", "4"]
    # tom does not own the objective; 11 is out of range
    pdca("checkin", a, "happy", "--confidence", "5", "--note", "x", "--by", "tom", code=1)
    pdca("checkin", a, "happy", "--confidence", "11", "--note", "x", "--by", "maria", code=2)


def ck(*values: int) -> tuple[Checkin, ...]:
    return tuple(Checkin("o", v, "", "maria", "2026-01-01", "2026-01-01T00:00:00Z") for v in values)


def test_falling_needs_two_drops_in_a_row() -> None:
    assert falling(ck(8, 6, 4)) and falling(ck(9, 9, 8, 7))
    assert not falling(ck(8, 6)) and not falling(ck(8, 6, 6)) and not falling(ck(4, 6, 5))


def test_the_watermelon_is_a_confident_owner_against_the_data() -> None:
    fail = {"m": {"target": 30, "signal": {"assurance": "fail", "variation": "common_cause"}}}
    objective = {"metrics": ["m"], "status": "at_risk"}
    said = confidence(objective, fail, ck(8))["watermelon"]
    assert said == (
        "the data says the current process cannot reach 30 (m: the target lies beyond its "
        "process limits); a higher confidence needs a change to the process, not more effort"
    )
    assert confidence(objective, fail, ck(6))["watermelon"] is None  # not confident
    assert confidence(objective, fail, ())["watermelon"] is None
    off = {"m": {"target": 30, "signal": {"assurance": "hit_or_miss", "variation": "common_cause"}}}
    assert "off track and none of its metrics" in str(
        watermelon({"metrics": ["m"], "status": "off_track"}, off)
    )
    better = {
        "m": {"target": 30, "signal": {"assurance": "hit_or_miss", "variation": "improvement"}}
    }
    assert watermelon({"metrics": ["m"], "status": "off_track"}, better) is None


# -- stale work and the agenda ---------------------------------------------------------------


def test_work_in_progress_goes_quiet_after_stale_after(desks: Path) -> None:
    b = desks / "b" / "playbook.yaml"  # review: {stale_after: 3d}
    pdca("task", b, "start", "analyse", "--by", "tom", "--on", START)
    t = status(b, "--as-of", "2026-01-07")["tasks"]["analyse"]
    assert (t["quiet_days"], t["stale"]) == (2, False)
    doc = status(b, "--as-of", "2026-01-08")
    assert (doc["tasks"]["analyse"]["quiet_days"], doc["tasks"]["analyse"]["stale"]) == (3, True)
    assert doc["stale_work"] == ["analyse"]
    assert "no update for 3 days: gone quiet?" in pdca("status", b, "--as-of", "2026-01-08").stdout
    assert "stale" not in doc["tasks"]["fix"]  # not in progress


def test_nothing_needs_discussing_is_an_answer(desks: Path) -> None:
    c = desks / "deep" / "c" / "c.pdca.yaml"
    assert status(c, "--agenda", "--as-of", "2026-01-05")["agenda"] == []
    assert "Nothing needs discussing." in pdca("status", c, "--agenda").stdout
    docs = {"a": status(desks / "a" / "playbook.yaml", "--as-of", "2026-01-12")}
    assert [(i["kind"], i["subject"]) for i in agenda(docs)] == [("work", "analyse")]


@pytest.mark.postgres
def test_one_postgresql_store_holds_every_playbook_of_a_portfolio(desks: Path, pg_url: str) -> None:
    a, b = desks / "a" / "playbook.yaml", desks / "b" / "playbook.yaml"
    for url in fresh_database(pg_url, "pdca_portfolio"):
        for path in (a, b):
            pdca("run", path, "--as-of", START, "--state", url)
        pdca(
            "checkin",
            a,
            "happy",
            "--confidence",
            "9",
            "--note",
            "ok",
            "--by",
            "maria",
            "--state",
            url,
        )
        doc = status(a, b, "--as-of", "2026-01-12", "--state", url)
        assert doc["playbooks"]["a"]["objectives"]["happy"]["checkin"]["confidence"] == 9
        assert doc["playbooks"]["b"]["objectives"]["happy"]["checkin"] is None
        assert doc["playbooks"]["a"]["state"] == doc["playbooks"]["b"]["state"]
        assert [(i["playbook"], i["task"]) for i in doc["summary"]["overdue"]] == [
            ("a", "analyse"),
            ("b", "analyse"),
        ]


def test_reports_show_the_owners_confidence_beside_the_data(desks: Path, tmp_path: Path) -> None:
    a = desks / "a" / "playbook.yaml"
    for c in (9, 8, 7):
        pdca(
            "checkin", a, "happy", "--confidence", c, "--note", f"<b>fine</b> {c}", "--by", "maria"
        )
    html = tmp_path / "r.html"
    pdca("report", a, "-o", html)
    text = html.read_text()
    section = text[text.index('id="objective-happy"') :]
    assert (
        '<p class="checkin" data-confidence="7"><b>Owner\'s confidence: 7/10</b> (Maria, '
        in section
    )
    assert "&lt;b&gt;fine&lt;/b&gt; 7" in section and "<b>fine</b>" not in text
    assert "(before: 9, 8)" in section
    assert "confidence fell at each of the last two check-ins" in section
    md = pdca("report", a, "--format", "markdown", "-o", "-").stdout
    assert "- Happy customers: 7/10 (maria, " in md and "&lt;b&gt;fine&lt;/b&gt; 7" in md


# -- many playbooks at the cost of fewer: what is shared changes no answer ---------------------


@pytest.mark.parametrize(
    ("title", "risky"),
    [
        ("Plain title", False),
        ('"A \\x1b[2J escape"', True),  # an escape in a double-quoted string
        ('"bell \\a and \\e"', True),
        ('"next line \\N"', True),  # NEL, a C1 control
        ("raw \x1b]0;x\x07 bytes", True),
        ("'single \\x1b quoted'", True),  # no escape in single quotes, but a backslash
    ],
)
def test_a_file_without_backslash_or_control_cannot_hold_a_control(
    tmp_path: Path, title: str, risky: bool
) -> None:
    from pdca.playbook import inspect, storable

    path = tmp_path / "playbook.yaml"
    text = playbook("a").replace("title: Desk A", f"title: {title}")
    path.write_text(text)
    assert storable.may_hold_controls(text) is risky
    found = inspect(path, plugins=False)
    if found.playbook is None:  # raw control characters: YAML itself refuses the file
        assert title.startswith("raw") and found.errors
        return
    # the full walk and the shortcut find the same: nothing in a file that cannot hold one
    walked = [str(p) for p in storable.problems(found.playbook)]
    assert [str(p) for p in storable.problems(found.playbook, text)] == walked
    if title in ("Plain title", "'single \\x1b quoted'"):
        assert walked == []
    else:
        assert walked and "holds the control character" in walked[0]
    # a carriage return in the file (CRLF line ends) takes the full walk too
    assert storable.may_hold_controls(text.replace("\n", "\r\n"))


def test_one_dialect_serves_every_sqlite_state_and_each_reads_its_own(desks: Path) -> None:
    from pdca.state import open_store
    from pdca.state.sqlite import COMPILED

    a, b = desks / "a" / "playbook.yaml", desks / "b" / "playbook.yaml"
    pdca("task", a, "start", "analyse", "--by", "tom", "--on", START)
    pdca("task", b, "done", "analyse", "--by", "tom", "--on", START)
    first, second = (open_store(p.parent / ".pdca" / "state.db", create=False) for p in (a, b))
    with first, second:
        assert first.engine.dialect is second.engine.dialect
        assert first.read("a").tasks["analyse"].status == "in_progress"
        cached = len(COMPILED)
        assert second.read("b").tasks["analyse"].status == "done"
        assert len(COMPILED) == cached  # the second state's reads were compiled already


def test_a_playbook_with_plugin_files_keeps_its_own_plugins_in_a_portfolio(desks: Path) -> None:
    # 'x' names a local KPI plugin and uses it; a and b, without plugin files, share one manager
    x = desks / "x"
    x.mkdir()
    (x / "spread.py").write_text(
        "import pdca\nfrom pdca.kpi import FunctionKpi\n\n\n@pdca.hookimpl\n"
        "def pdca_register_kpis(register):\n"
        "    register(FunctionKpi('spread', lambda v: max(v) - min(v), 'max minus min'))\n"
    )
    (x / "data.csv").write_text("day,score\n2026-01-05,3\n")
    extra = (
        "plugins: [spread.py]\n"
        "sources:\n  s: {type: csv, path: data.csv, timestamp: day}\n"
        "metrics:\n  m: {source: s, kpi: spread, field: score, baseline: 1, target: 2}\n"
    )
    (x / "playbook.yaml").write_text(playbook("x", extra))
    doc = status(desks / "a" / "playbook.yaml", x / "playbook.yaml", "--as-of", "2026-01-12")
    assert list(doc["playbooks"]) == ["a", "x"]
    assert doc["playbooks"]["x"]["metrics"]["m"]["status"] == "not_measured"
    # and the one without plugin files next to it does not see the KPI
    y = desks / "y"
    y.mkdir()
    (y / "data.csv").write_text("day,score\n2026-01-05,3\n")
    (y / "playbook.yaml").write_text(playbook("y", extra.replace("plugins: [spread.py]\n", "")))
    err = pdca("status", x / "playbook.yaml", y / "playbook.yaml", code=1).output
    assert "spread" in err and str(y / "playbook.yaml") in err


@pytest.mark.postgres
def test_stores_on_one_postgresql_url_share_what_was_compiled(desks: Path, pg_url: str) -> None:
    from pdca.state import open_store

    a, b = desks / "a" / "playbook.yaml", desks / "b" / "playbook.yaml"
    for url in fresh_database(pg_url, "pdca_shared"):
        pdca("run", a, "--as-of", START, "--state", url)
        pdca("run", b, "--as-of", START, "--state", url)
        pdca("task", b, "start", "analyse", "--by", "tom", "--on", START, "--state", url)
        with open_store(url, create=False) as first:
            assert first.read("a").tasks["analyse"].status == "ready"
            engine = first.engine
            cached = len(engine._compiled_cache)
        with open_store(url, create=False) as second:  # the first one's connections are closed
            assert second.engine is engine
            assert second.read("b").tasks["analyse"].status == "in_progress"
            assert len(engine._compiled_cache) == cached
