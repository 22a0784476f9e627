"""Excluded points and rebased limits: ``pdca exclude``, ``pdca include``, ``pdca rebase``.

One weekly series, made by hand, one row a week (so each week's mean is that
row): 18 baseline weeks alternating 9 and 11 (centre 10, every moving range 2)
with week 5 (an 11) replaced by an outlier of 30; then, from the cycle's start
on 2026-01-05, 12 weeks alternating 19 and 21, a new process.

By hand:

* as measured, the baseline's centre is (180 - 11 + 30) / 18 = 199 / 18, and
  rule 1 fires on week 5 inside the baseline;
* with week 5 excluded, the centre is 169 / 17 and the moving ranges are the 15
  of 2 plus |9 - 9| = 0 across the gap (week 4 to week 6): 30 / 16 = 1.875;
* rebased on 2026-01-05 with ``min_baseline: 8``, the new limits rest on the
  first 8 weeks of the new process: centre 20, mean moving range 2, limits
  20 -/+ 2.66 x 2 = 14.68 to 25.32. The target 14 is below them: MDC's assurance
  is ``pass``; on the old limits (10 -/+ 5.32 from the clean baseline) it was
  ``hit_or_miss``.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pdca.check import readout
from pdca.check.phases import Recorded, frozen_length, starts
from pdca.cli import cli
from pdca.playbook import load
from pdca.playbook.model import Metric
from pdca.state.annotations import Annotations, MetricNotes, Note
from pdca.state.model import Event, State, TaskState
from pg_server import fresh_database

START = date(2025, 9, 1)  # a Monday
CYCLE = date(2026, 1, 5)  # week 18
AS_OF = "2026-03-29"  # a Sunday: week 29 is complete
BASE = [9.0 if w % 2 == 0 else 11.0 for w in range(18)]
BASE[5] = 30.0
NEW = [19.0 if w % 2 == 0 else 21.0 for w in range(12)]
VALUES = BASE + NEW

PLAYBOOK = f"""\
playbook: p
title: Phases
owners:
  maria: {{name: Maria}}
  tom: {{name: Tom}}
sources: {{t: {{type: csv, path: weeks.csv, timestamp: ts}}}}
metrics:
  wait: {{source: t, kpi: mean, field: minutes, target: 14, chart: xmr}}
objectives:
  fast: {{title: Fast, owner: maria, metrics: [wait]}}
tasks:
  rota: {{title: New rota, owner: tom, objective: fast}}
cycle: {{start: {CYCLE}}}
check: {{min_baseline: 8}}
"""


def week(i: int) -> str:
    return (START + timedelta(weeks=i)).isoformat()


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    rows = ["ts,minutes"] + [f"{week(i)} 10:00,{v}" for i, v in enumerate(VALUES)]
    (tmp_path / "weeks.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "playbook.yaml"
    path.write_text(PLAYBOOK)
    return path


def pdca(*argv: Any, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in argv])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def wait(path: Path, *state: str) -> dict[str, Any]:
    out = pdca("check", path, "--format", "json", "--as-of", AS_OF, *state).stdout
    return json.loads(out)["metrics"]["wait"]


# -- excluded points ------------------------------------------------------------------------


def test_an_excluded_point_leaves_the_limits_and_rules_and_stays_on_the_chart(
    desk: Path,
) -> None:
    before = wait(desk)["signal"]
    assert before["limits"]["centre"] == pytest.approx(199 / 18, rel=1e-12)
    # the outlier is a signal inside the baseline, and lifts the centre above 9 of every 2
    assert (1, ["2025-W41"]) in [(r["rule"], r["periods"]) for r in before["baseline_rules"]]
    assert before["excluded"] == []

    out = pdca(
        "exclude", desk, "wait", "2025-W41", "--reason", "survey sent twice", "--by", "maria"
    )
    assert "2025-W41 excluded by maria: survey sent twice" in out.stdout
    entry = wait(desk)
    sig = entry["signal"]
    assert sig["limits"]["centre"] == pytest.approx(169 / 17, rel=1e-12)
    assert sig["limits"]["mr_bar"] == pytest.approx(1.875, rel=1e-12)
    assert sig["limits"]["baseline_points"] == 17
    assert sig["baseline_rules"] == []
    assert sig["excluded"] == ["2025-W41"]
    point = entry["series"][5]
    assert point["value"] == 30.0  # the value is kept, only not counted
    assert point["excluded"]["reason"] == "survey sent twice"
    assert point["excluded"]["by"] == "maria"

    # a day inside the week (its Wednesday) names the same period; include undoes it
    pdca("include", desk, "wait", "2025-10-08", "--reason", "was real", "--by", "maria")
    again = wait(desk)["signal"]
    assert again["limits"]["centre"] == pytest.approx(199 / 18, rel=1e-12)
    assert again["excluded"] == []
    history = pdca("history", desk, "--format", "json").stdout
    kinds = [e["kind"] for e in json.loads(history)["events"]]
    assert kinds == ["point_excluded", "point_included"]


def test_an_excluded_point_is_drawn_hollow_with_its_reason(desk: Path, tmp_path: Path) -> None:
    pdca("exclude", desk, "wait", "2025-W41", "--reason", "<b>twice</b>", "--by", "maria")
    html = tmp_path / "r.html"
    pdca("report", desk, "-o", html, "--as-of", AS_OF)
    text = html.read_text()
    chart = text[text.index('id="metric-wait"') :]
    found = re.findall(r'<g class="pdca-point[^"]* pdca-excluded".*?</g>', chart, re.S)
    assert len(found) == 1
    hollow = found[0]
    assert 'data-index="5"' in hollow
    assert 'fill="#ffffff"' in hollow
    assert "Excluded from limits and rules: &lt;b&gt;twice&lt;/b&gt;" in hollow
    assert "<b>twice</b>" not in text
    assert "2025-W41 left out of the limits and rules: &lt;b&gt;twice&lt;/b&gt;" in text
    md = pdca("report", desk, "--format", "markdown", "-o", "-", "--as-of", AS_OF).stdout
    assert "2025-W41 left out of the limits and rules:" in md and "<b>" not in md


# -- rebase ---------------------------------------------------------------------------------


def test_a_rebase_reads_the_new_process_on_its_own_limits(desk: Path) -> None:
    pdca("exclude", desk, "wait", "2025-W41", "--reason", "outage", "--by", "maria")
    old = wait(desk)["signal"]
    assert old["phase"] == "baseline"
    assert old["limits"]["centre"] == pytest.approx(169 / 17)
    assert old["assurance"] == "hit_or_miss"  # 14 inside 9.94 -/+ 2.66 x 1.875

    out = pdca("rebase", desk, "wait", "--on", CYCLE, "--reason", "new rota", "--by", "maria")
    assert "limits rebased from 2026-01-05 by maria: new rota" in out.stdout
    entry = wait(desk)
    sig = entry["signal"]
    assert sig["phase"] == "2026-01-05"
    assert sig["limits"]["centre"] == pytest.approx(20.0, rel=1e-12)
    assert sig["limits"]["mr_bar"] == pytest.approx(2.0, rel=1e-12)
    assert sig["limits"]["lower"] == pytest.approx(20 - 2.66 * 2, rel=1e-12)
    assert sig["limits"]["baseline_points"] == 8
    assert sig["assurance"] == "pass"
    assert sig["verdict"] == "no_signal"  # weeks 26-29 against the new limits
    first, second = sig["phases"]
    assert (first["phase"], first["first"], first["last"], first["periods"]) == (
        "baseline",
        "2025-W36",
        "2026-W01",
        18,
    )
    # an earlier phase's limits rest on all of its periods, the excluded one left out
    assert first["centre"] == pytest.approx(169 / 17, rel=1e-12)
    assert (second["phase"], second["first"], second["reason"], second["by"]) == (
        "2026-01-05",
        "2026-W02",
        "new rota",
        "maria",
    )
    # every point carries its phase's lines, so the chart steps at the rebase
    points = entry["series"]
    assert {p["centre"] for p in points[:18]} == {first["centre"]}
    assert {p["centre"] for p in points[18:]} == {20.0}
    assert all(p["upper"] == pytest.approx(20 + 2.66 * 2, rel=1e-12) for p in points[18:])

    pdca(
        "rebase", desk, "wait", "--on", CYCLE, "--reason", "too early", "--by", "maria", "--remove"
    )
    assert wait(desk)["signal"]["phase"] == "baseline"
    err = pdca(
        "rebase", desk, "wait", "--on", CYCLE, "--reason", "x", "--by", "maria", "--remove", code=1
    ).output
    assert "has no rebase on 2026-01-05; it has no rebases" in err


def test_the_rebased_chart_steps_its_centre_and_limits(desk: Path, tmp_path: Path) -> None:
    pdca("rebase", desk, "wait", "--on", CYCLE, "--reason", "new rota", "--by", "maria")
    html = tmp_path / "r.html"
    pdca("report", desk, "-o", html, "--as-of", AS_OF)
    text = html.read_text()
    chart = text[text.index('id="metric-wait"') :]
    chart = chart[: chart.index("</svg>", chart.index('<figure class="chart"'))]
    assert chart.count("pdca-centre-step") == 1
    assert "Centre and limits of each phase" in chart
    assert "Process limits were recalculated at each rebase" in chart
    assert "Limits rebased from 2026-01-05 (2026-W02 on): new rota (maria)." in text


def test_people_who_do_not_answer_for_the_metric_are_refused(desk: Path) -> None:
    err = pdca("exclude", desk, "wait", "2025-W41", "--reason", "x", "--by", "tom", code=1).output
    assert "tom may not change how metric 'wait' is read; who may: maria" in err
    err = pdca("exclude", desk, "wiat", "2025-W41", "--reason", "x", "--by", "maria", code=1).output
    assert "no metric 'wiat'" in err and "wait" in err
    err = pdca("exclude", desk, "wait", "2025-13", "--reason", "x", "--by", "maria", code=1).output
    assert "weekly periods: name one as 2026-W05" in err
    err = pdca("include", desk, "wait", "2025-W41", "--reason", "x", "--by", "maria", code=1).output
    assert "2025-W41 of metric 'wait' is not excluded; it has no excluded periods" in err


# -- Check proposes a rebase ------------------------------------------------------------------


METRIC = Metric(id="wait", source="t", kpi="mean", target=14.0)


def series(values: list[float]) -> list[dict[str, Any]]:
    return [{"period": f"P{i}", "start": week(i), "value": v, "n": 1} for i, v in enumerate(values)]


def read(values: list[float], changes: list[tuple[str, str]], metric: Metric = METRIC) -> Any:
    clean = [10.0 if w % 2 == 0 else 11.0 for w in range(18)] + NEW
    return readout.signal(
        metric, series(values or clean), [1, 2], CYCLE, min_baseline=8, changes=changes
    )


def test_check_proposes_a_rebase_after_a_good_shift_that_follows_a_countermeasure() -> None:
    sig = read([], [(week(18), "rota")])
    proposal = sig["rebase_proposal"]
    assert proposal["on"] == week(18) and proposal["period"] == "P18"
    assert proposal["periods"] == 12
    assert proposal["after"] == {"task": "rota", "done_on": week(18)}
    # the run began a week early (week 17, an 11, is above the centre 10.5 by chance)
    rules = {r["rule"]: r["indices"] for r in sig["rules"]}
    assert rules[2][0] == 17
    # a countermeasure with fewer than 9 weeks of the run after it did not cause it
    assert read([], [(week(22), "rota")])["rebase_proposal"] is None  # 8 weeks after it
    later = read([], [(week(21), "rota")])["rebase_proposal"]  # 9 weeks after it
    assert (later["on"], later["periods"]) == (week(21), 9)
    # of two countermeasures, the latest one with a shift's length after it
    both = read([], [(week(10), "audit"), (week(18), "rota")])["rebase_proposal"]
    assert both["after"]["task"] == "rota"
    # nor does a shift without any countermeasure
    assert read([], [])["rebase_proposal"] is None
    # a shift the bad way is a concern, never a new normal to rebase on
    lower = Metric(id="wait", source="t", kpi="mean", target=5.0, direction="decrease")
    assert read([], [(week(18), "rota")], lower)["rebase_proposal"] is None
    # a shift that has ended (the last 3 weeks back at the old level) is not sustained
    ended = [10.0 if w % 2 == 0 else 11.0 for w in range(18)] + NEW[:9] + [10.0, 11.0, 10.0]
    assert read(ended, [(week(18), "rota")])["rebase_proposal"] is None


def test_check_text_shows_the_proposal_with_the_command(desk: Path) -> None:
    pdca("run", desk, "--as-of", "2026-01-05")
    pdca("task", desk, "start", "rota", "--by", "tom", "--on", "2026-01-05")
    pdca("task", desk, "done", "rota", "--by", "tom", "--on", "2026-01-05")
    entry = wait(desk)
    assert entry["signal"]["rebase_proposal"]["after"] == {"task": "rota", "done_on": "2026-01-05"}
    text = pdca("check", desk, "--as-of", AS_OF).stdout
    assert "A sustained shift the good way since 2026-W02" in text
    assert "pdca rebase PLAYBOOK wait --on 2026-01-05" in " ".join(text.split())


# -- the parts ------------------------------------------------------------------------------


def note(reason: str) -> Note:
    return Note(reason, "maria", "2026-01-01", "2026-01-01T00:00:00Z", reason)


def test_phases_start_at_the_first_period_on_or_after_the_rebase_day() -> None:
    points = series([1.0] * 6)
    rebased = MetricNotes(rebases={week(2): note("a"), "2025-09-17": note("mid-week")})
    # 2025-09-17 is a Wednesday of week 2: the change is in week 3's first day on
    assert starts(points, rebased) == [(0, None), (2, week(2)), (3, "2025-09-17")]
    assert starts(points, MetricNotes(rebases={"2030-01-01": note("later")})) == [(0, None)]
    assert starts(points, MetricNotes(rebases={"2020-01-01": note("first")})) == [(0, "2020-01-01")]


def test_a_rebased_phase_freezes_its_limits_after_min_baseline_values() -> None:
    assert frozen_length([1.0, None, 2.0, 3.0, 4.0], 3) == 4
    assert frozen_length([1.0, None], 3) == 2


def test_the_latest_event_for_a_period_wins() -> None:
    def ev(kind: str, new: str, reason: str) -> Event:
        return Event(kind=kind, at="2026-01-01T00:00:00Z", subject="wait", new=new, note=reason)

    folded = Annotations.fold(
        [
            ev("point_excluded", week(1), "first"),
            ev("point_excluded", week(1), "second"),
            ev("point_excluded", week(2), "other"),
            ev("point_included", week(2), "back"),
            ev("metric_rebased", week(3), "rota"),
            ev("task_changed", week(3), "not mine"),
        ]
    )
    notes = folded.of("wait")
    assert {k: v.reason for k, v in notes.excluded.items()} == {week(1): "second"}
    assert list(notes.rebases) == [week(3)]
    assert not folded.of("other")


def test_countermeasures_come_from_every_cycle_the_latest_status_deciding(desk: Path) -> None:
    pb = load(desk)
    done = TaskState("rota", "done", "do", "tom", "2026-01-05T00:00:00Z", on="2026-01-05")
    assert Recorded.from_state(pb, State("p", tasks={"rota": done})).changes == {
        "wait": (("2026-01-05", "rota"),)
    }

    def ev(cycle: int, new: str, on: str) -> Event:
        return Event("task_changed", on + "T09:00:00Z", cycle=cycle, subject="rota", new=new, on=on)

    events = [
        ev(1, "done", "2025-11-03"),
        ev(2, "done", "2026-01-05"),
        ev(2, "ready", "2026-01-06"),
    ]
    assert Recorded.from_state(pb, State("p"), events).changes == {
        "wait": (("2025-11-03", "rota"),)
    }


# -- across stores ------------------------------------------------------------------------------


@pytest.mark.postgres
def test_exclusions_and_rebases_survive_export_and_import_between_sqlite_and_postgresql(
    desk: Path, tmp_path: Path, pg_url: str
) -> None:
    pdca("exclude", desk, "wait", "2025-W41", "--reason", "outage ünïcødé", "--by", "maria")
    pdca("rebase", desk, "wait", "--on", CYCLE, "--reason", "new rota", "--by", "maria")
    expected = wait(desk)["signal"]
    saved = tmp_path / "state.json"
    pdca("state", "export", desk, "-o", saved)
    for url in fresh_database(pg_url, "pdca_phases"):
        pdca("state", "import", desk, saved, "--state", url)
        on_pg = wait(desk, "--state", url)["signal"]
        assert on_pg == expected
        back = tmp_path / "back.json"
        pdca("state", "export", desk, "-o", back, "--state", url)
    target = tmp_path / "again.db"
    pdca("state", "import", desk, back, "--state", target)
    assert wait(desk, "--state", str(target))["signal"] == expected


def test_a_per_n_chart_steps_with_each_period_n_inside_each_phase() -> None:
    values = [50.0, 60.0] * 6 + [80.0, 90.0] * 6
    points = [
        {"period": f"P{i}", "start": week(i), "value": v, "n": 100 + 50 * (i % 3)}
        for i, v in enumerate(values)
    ]
    metric = Metric(id="fcr", source="t", kpi="rate", target=70.0)
    sig = readout.signal(
        metric,
        points,
        [1, 2],
        None,
        chart="p",
        min_baseline=8,
        notes=MetricNotes(rebases={week(12): note("new script")}),
    )
    assert sig["phase"] == week(12)
    # the new phase's centre is its first 8 periods' pooled rate, by hand
    n = [100 + 50 * (i % 3) for i in range(12, 20)]
    pooled = sum(values[12 + k] * n[k] for k in range(8)) / sum(n)
    assert sig["limits"]["centre"] == pytest.approx(pooled, rel=1e-12)
    # the first phase rests on all 12 of its periods
    n0 = [100 + 50 * (i % 3) for i in range(12)]
    first = sum(values[i] * n0[i] for i in range(12)) / sum(n0)
    assert sig["phases"][0]["centre"] == pytest.approx(first, rel=1e-12)
    for p in points:
        centre = first if p["start"] < week(12) else pooled
        assert p["centre"] == pytest.approx(centre, rel=1e-12)
        assert p["upper"] - centre == pytest.approx(centre - p["lower"], rel=1e-9)
    # a bigger week has narrower limits, within a phase
    assert points[13]["upper"] - points[13]["lower"] < points[12]["upper"] - points[12]["lower"]


def test_a_report_from_a_check_snapshot_reads_the_chart_again_after_an_exclusion(
    desk: Path,
) -> None:
    pdca("run", desk, "--as-of", "2026-01-05")
    pdca("task", desk, "start", "rota", "--by", "tom", "--on", "2026-01-05")
    pdca("task", desk, "done", "rota", "--by", "tom", "--on", "2026-01-05")
    pdca("run", desk, "--as-of", AS_OF)
    doc = json.loads(pdca("report", desk, "--format", "json", "-o", "-").stdout)
    assert doc["measured"]["source"] == "snapshot"
    stored = doc["metrics"]["wait"]["signal"]
    assert "reread_after_check" not in stored and stored["excluded"] == []
    measured = {k: doc["metrics"]["wait"][k] for k in ("value", "status", "n")}

    pdca("exclude", desk, "wait", "2025-W41", "--reason", "outage", "--by", "maria")
    doc = json.loads(pdca("report", desk, "--format", "json", "-o", "-").stdout)
    sig = doc["metrics"]["wait"]["signal"]
    assert sig["excluded"] == ["2025-W41"]
    assert sig["limits"]["centre"] == pytest.approx(169 / 17, rel=1e-12)
    assert sig["reread_after_check"] > doc["measured"]["taken"]
    # the values and statuses stay as Check measured them
    assert {k: doc["metrics"]["wait"][k] for k in measured} == measured

    # undone, the chart reads as Check read it, and says it was read again
    pdca("include", desk, "wait", "2025-W41", "--reason", "was real", "--by", "maria")
    doc = json.loads(pdca("report", desk, "--format", "json", "-o", "-").stdout)
    again = doc["metrics"]["wait"]["signal"]
    assert again["excluded"] == [] and "reread_after_check" in again
    assert {k: v for k, v in again.items() if k != "reread_after_check"} == stored


def test_status_reads_the_chart_again_after_a_rebase(desk: Path) -> None:
    pdca("run", desk, "--as-of", "2026-01-05")
    pdca("task", desk, "start", "rota", "--by", "tom", "--on", "2026-01-05")
    pdca("task", desk, "done", "rota", "--by", "tom", "--on", "2026-01-05")
    pdca("run", desk, "--as-of", AS_OF)
    before = json.loads(pdca("status", desk, "--format", "json").stdout)
    assert before["metrics"]["wait"]["signal"]["phase"] == "baseline"
    pdca("rebase", desk, "wait", "--on", CYCLE, "--reason", "new rota", "--by", "maria")
    after = json.loads(pdca("status", desk, "--format", "json").stdout)
    sig = after["metrics"]["wait"]["signal"]
    assert sig["phase"] == "2026-01-05" and sig["assurance"] == "pass"
    assert after["metrics"]["wait"]["value"] == before["metrics"]["wait"]["value"]
