"""Rule presets and lengths, Wheeler's two rules, and MDC's variation and assurance.

Every series is made by hand against one set of limits: centre 10, mean moving
range 2, so sigma = 2 / 1.128 = 1.773, 1.5 sigma = 2.660, 2 sigma = 3.546, the
natural process limits 10 -/+ 5.32 and the mR chart's limit 3.268 x 2 = 6.536.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pdca.check.stats.mdc import assurance, variation
from pdca.check.stats.spc import Limits, RuleSet, detect_signals
from pdca.cli import cli
from pdca.playbook import load
from pdca.playbook.model import RULE_PRESETS
from test_check_charts import FCR, check_json, playbook, write_tickets

L = Limits(centre=10.0, mr_bar=2.0, baseline_points=20)


def found(values: list[float | None], rules: RuleSet) -> list[tuple[int, tuple[int, ...]]]:
    return [(s.rule, s.periods) for s in detect_signals(values, L, rules)]


# -- lengths of the shift and the trend -------------------------------------------------------


def test_a_shift_of_7_fires_at_7_and_not_at_6_and_nelson_needs_9() -> None:
    nhs = RuleSet((2,), shift_points=7)
    assert found([10.5] * 7, nhs) == [(2, (0, 1, 2, 3, 4, 5, 6))]
    assert found([10.5] * 6 + [9.5], nhs) == []
    assert found([10.5] * 8, RuleSet((2,))) == []  # Nelson: 9
    assert found([10.5] * 9, RuleSet((2,))) == [(2, tuple(range(9)))]
    # a point on the centre line breaks the shift
    assert found([10.5] * 3 + [10.0] + [10.5] * 3, nhs) == []


def test_a_trend_of_7_counts_its_endpoints() -> None:
    seven = [8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0]  # 6 rising steps
    nhs = RuleSet((3,), trend_points=7)
    assert found(seven, nhs) == [(3, tuple(range(7)))]
    assert found(seven[:6], nhs) == []
    assert found(seven[:6], RuleSet((3,))) == [(3, tuple(range(6)))]  # Nelson: 6
    # an equal neighbour breaks it
    assert found([8.0, 8.5, 9.0, 9.0, 10.0, 10.5, 11.0], nhs) == []


def test_descriptions_say_the_lengths_in_use() -> None:
    sig = detect_signals([10.5] * 7, L, RuleSet((2,), shift_points=7))
    assert sig[0].description == "7 points in a row on the same side of the centre line"
    sig = detect_signals([8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0], L, RuleSet((3,), 9, 7))
    assert sig[0].description == "7 points in a row steadily rising or falling"


# -- Wheeler's rules ------------------------------------------------------------------------------


def test_rule_9_is_3_of_4_beyond_one_and_a_half_sigma_on_one_side() -> None:
    rule9 = RuleSet((9,))
    assert found([13.0, 10.0, 13.0, 13.0], rule9) == [(9, (0, 2, 3))]
    assert found([13.0, 10.0, 13.0, 10.0], rule9) == []
    # 12.6 is inside 10 + 2.660: not beyond
    assert found([12.6, 13.0, 13.0, 10.0], rule9) == []
    # three beyond, but not on the same side
    assert found([13.0, 7.0, 13.0, 10.0], rule9) == []
    assert found([7.0, 6.0, 10.0, 7.0], rule9) == [(9, (0, 1, 3))]


def test_rule_10_is_a_moving_range_above_the_mr_limit() -> None:
    rule10 = RuleSet((10,))
    assert found([10.0, 17.0, 17.0], rule10) == [(10, (0, 1))]  # a jump of 7 > 6.536
    assert found([10.0, 16.5, 16.5], rule10) == []  # 6.5 is not
    # consecutive jumps are one signal; a missing period is skipped, not a break
    assert found([10.0, 17.0, 10.0], rule10) == [(10, (0, 1, 2))]
    assert found([10.0, None, 17.0], rule10) == [(10, (0, 2))]
    assert detect_signals([10.0, 17.0], L, rule10)[0].direction is None


def test_unknown_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="1 to 10"):
        detect_signals([1.0], L, RuleSet((11,)))


# -- presets in the playbook --------------------------------------------------------------------


def write(tmp_path: Path, check: str) -> Path:
    (tmp_path / "s.csv").write_text("ts,x\n2026-01-05,1\n")
    path = tmp_path / "playbook.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nsources: {s: {type: csv, path: s.csv, timestamp: ts}}\n"
        f"metrics:\n  m: {{source: s, kpi: mean, field: x, target: 3}}\ncheck: {check}\n"
    )
    return path


@pytest.mark.parametrize(
    ("check", "rules", "lengths"),
    [
        ("{rules: nhs}", (1, 2, 3, 5), (7, 7)),
        ("{rules: wheeler}", (1, 2, 9, 10), (8, 6)),
        ("{rules: western_electric}", (1, 2, 5, 6), (8, 6)),
        ("{rules: nelson}", (1, 2, 3, 5), (9, 6)),
        ("{rules: nhs, shift_points: 8}", (1, 2, 3, 5), (8, 7)),
        ("{rules: [1, 2], trend_points: 7}", (1, 2), (9, 7)),
        ("{}", (1, 2, 3, 5), (9, 6)),
    ],
)
def test_presets_and_lengths(tmp_path: Path, check: str, rules: tuple, lengths: tuple) -> None:
    pb = load(write(tmp_path, check))
    assert pb.rules == rules and pb.rule_lengths == lengths


def test_bad_presets_and_lengths_are_located_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "{rules: nsh, shift_points: 5, trend_points: 10}")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{path}:6:16: error: 'rules' must be one of nhs | wheeler | western_electric | " \
        "nelson, got 'nsh'; did you mean 'nhs'?" in lines  # fmt: skip
    assert f"{path}:6:35: error: 'shift_points' must be at least 6, got 5" in lines
    assert any(
        line.startswith(f"{path}:6:52: error: 'trend_points' must be from 6 to 9") for line in lines
    )
    assert set(RULE_PRESETS) == {"nhs", "wheeler", "western_electric", "nelson"}


# -- variation ----------------------------------------------------------------------------------


def read(values: list[float | None], rules: RuleSet, direction: str = "increase") -> tuple:
    v = variation(values, L.centre, detect_signals(values, L, rules), direction)
    assert v is not None
    return (v.kind, v.side, v.rules)


def test_common_cause_improvement_and_concern() -> None:
    rules = RuleSet((1, 2, 3, 5), 7, 7)
    assert read([10.0, 11.0, 9.0, 12.0], rules) == ("common_cause", "high", ())
    assert read([10.0, 11.0, 9.0, 16.0], rules) == ("improvement", "high", (1,))
    assert read([10.0, 11.0, 9.0, 16.0], rules, "decrease") == ("concern", "high", (1,))
    assert read([10.0, 11.0, 9.0, 4.0], rules, "decrease") == ("improvement", "low", (1,))
    # a missing latest period: the latest point with a value is read
    assert read([10.0, 16.0, None], rules) == ("improvement", "high", (1,))
    # a signal earlier in the series does not make the latest point special
    assert read([16.0, 10.0, 11.0], rules) == ("common_cause", "high", ())


def test_the_clash_a_rising_trend_still_below_the_centre_is_concern() -> None:
    values = [4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 9.5]  # rising (good) and a shift below (bad)
    rules = RuleSet((2, 3), 7, 7)
    sig = detect_signals(values, L, rules)
    assert {(s.rule, s.direction) for s in sig} == {(2, "down"), (3, "up")}
    assert read(values, rules) == ("concern", "low", (2, 3))
    # the same trend where lower is better: the level is good news
    assert read(values, rules, "decrease") == ("improvement", "low", (2, 3))


def test_a_point_on_the_centre_takes_the_way_of_its_signals() -> None:
    rising = [7.0, 8.0, 8.5, 9.0, 9.5, 9.8, 10.0]  # ends on the centre line
    assert read(rising, RuleSet((3,), 9, 7)) == ("improvement", None, (3,))
    assert read(rising, RuleSet((3,), 9, 7), "decrease") == ("concern", None, (3,))
    # only an undirected rule (a jump on the mR chart): neither, with its side
    assert read([10.0, 17.0], RuleSet((10,))) == ("neither", "high", (10,))
    assert read([3.0, 10.0], RuleSet((10,))) == ("neither", None, (10,))


def test_no_variation_without_a_point_or_a_centre() -> None:
    assert variation([None, None], 10.0, (), "increase") is None
    assert variation([1.0], math.nan, (), "increase") is None


# -- assurance ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "direction", "expected"),
    [
        (3.0, "increase", "pass"),  # below both limits: every point meets it
        (20.0, "increase", "fail"),
        (10.0, "increase", "hit_or_miss"),
        (4.68, "increase", "hit_or_miss"),  # on the lower limit: compared strictly
        (15.32, "increase", "hit_or_miss"),
        (3.0, "decrease", "fail"),
        (20.0, "decrease", "pass"),
        (None, "increase", None),
    ],
)
def test_assurance(target: float | None, direction: str, expected: str | None) -> None:
    assert assurance(target, 4.68, 15.32, direction) == expected


def test_no_assurance_without_limits() -> None:
    assert assurance(5.0, None, 15.0, "increase") is None
    assert assurance(5.0, math.nan, 15.0, "increase") is None


# -- in pdca check ------------------------------------------------------------------------------


def test_check_json_has_variation_assurance_phase_and_the_rule_set(tmp_path: Path) -> None:
    write_tickets(tmp_path)
    doc = check_json(playbook(tmp_path, FCR, "check: {rules: nhs}\n"))
    sig = doc["metrics"]["fcr"]["signal"]
    assert sig["rule_set"] == {
        "preset": "nhs",
        "rules": [1, 2, 3, 5],
        "shift_points": 7,
        "trend_points": 7,
    }
    assert sig["phase"] == "baseline"
    assert sig["variation"] in ("common_cause", "improvement", "concern", "neither")
    # a per-n chart's assurance uses the latest week's own limits, by hand
    last = [p for p in doc["metrics"]["fcr"]["series"] if not p.get("partial")][-1]
    target = 80
    expected = (
        "pass" if target < last["lower"] else "fail" if target > last["upper"] else "hit_or_miss"
    )
    assert sig["assurance"] == expected
    json.dumps(doc, allow_nan=False)


def test_a_run_chart_has_no_assurance_or_phase(tmp_path: Path) -> None:
    write_tickets(tmp_path)
    doc = check_json(playbook(tmp_path, FCR, "check: {min_baseline: 20}\n"))
    sig = doc["metrics"]["fcr"]["signal"]
    assert sig["limits"]["chart"] == "run"
    assert sig["assurance"] is None and sig["phase"] is None and sig["variation"] is None


# -- the mR chart under the X chart ---------------------------------------------------------------


def test_wheeler_draws_the_moving_range_chart_with_its_limit(tmp_path: Path) -> None:
    from datetime import date, timedelta

    weeks = [30, 31, 29, 30, 32, 30, 29, 31, 30, 28, 30, 31, 29, 30, 31, 30, 29, 30]
    weeks += [30, 45, 31, 30]  # one big jump up, and back
    start = date(2025, 9, 1)
    rows = ["ts,x"] + [f"{start + timedelta(weeks=i)},{v}" for i, v in enumerate(weeks)]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    cycle = start + timedelta(weeks=18)
    path = tmp_path / "playbook.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nsources: {s: {type: csv, path: s.csv, timestamp: ts}}\n"
        "metrics:\n  m: {title: Handle, source: s, kpi: mean, field: x, target: 25,"
        " direction: decrease}\n"
        f"cycle: {{start: {cycle}}}\ncheck: {{rules: wheeler}}\n"
    )
    as_of = str(start + timedelta(weeks=len(weeks)) - timedelta(days=1))
    args = ["--as-of", as_of]
    doc = json.loads(
        CliRunner().invoke(cli, ["check", str(path), "--format", "json", *args]).stdout
    )
    sig = doc["metrics"]["m"]["signal"]
    # by hand: the baseline's 17 moving ranges sum to 24 (no screening: 3.267 x 24/17 = 4.6)
    mr_bar = sum(abs(a - b) for a, b in itertools.pairwise(weeks[:18])) / 17
    assert mr_bar == pytest.approx(24 / 17)
    assert sig["limits"]["mr_upper"] == pytest.approx(3.268 * 24 / 17)  # 4.61
    jumps = [r for r in sig["rules"] if r["rule"] == 10]
    assert [r["indices"] for r in jumps] == [[18, 19, 20]]  # 30 -> 45 -> 31: two jumps of 15, 14
    html = CliRunner().invoke(cli, ["report", str(path), "-o", "-", *args]).stdout
    figure = re.search(r'<figure class="chart" data-metric="m"[^>]*>(.*?)</figure>', html, re.S)
    assert figure
    svgs = figure.group(1).split("<svg ")[1:]
    assert len(svgs) == 2, "the X chart and, under it, the mR chart"
    mr = svgs[1]
    assert "Moving range: Handle" in mr
    values = [
        float(v) for v in re.findall(r'<g class="pdca-point[^"]*"[^>]*? data-value="([^"]+)"', mr)
    ]
    assert values == [float(abs(a - b)) for a, b in itertools.pairwise(weeks)]
    centre = re.search(r'class="pdca-ref pdca-centre" data-value="([^"]+)"', mr)
    upper = re.search(r'class="pdca-ref pdca-upper" data-value="([^"]+)"', mr)
    assert centre and float(centre.group(1)) == pytest.approx(24 / 17)
    assert upper and float(upper.group(1)) == pytest.approx(3.268 * 24 / 17)
    ringed = re.findall(r'<g class="pdca-point pdca-signal[^"]*"[^>]*? data-index="(\d+)"', mr)
    assert ringed == ["19", "20"]
    # the default rules do not read the mR chart, so it is not drawn
    path.write_text(path.read_text().replace("check: {rules: wheeler}\n", ""))
    html = CliRunner().invoke(cli, ["report", str(path), "-o", "-", *args]).stdout
    assert "Moving range:" not in html


# -- segments against their own n (a funnel view) -------------------------------------------------


def test_segments_are_read_against_the_limits_of_their_own_n(tmp_path: Path) -> None:
    import random
    from datetime import date, timedelta

    rng = random.Random(3)
    rows, start = ["ts,resolved,team,minutes"], date(2025, 9, 1)
    for week in range(30):
        for i in range(60):
            team = rng.choice("aaabc")
            p = 0.3 if team == "c" and week >= 18 else 0.7  # team c falls in the cycle
            day = start + timedelta(weeks=week, days=i % 5)
            rows.append(f"{day} 09:00,{'yes' if rng.random() < p else 'no'},{team},{i % 7}")
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "playbook.yaml"
    path.write_text(
        "playbook: f\ntitle: F\nsources: {t: {type: csv, path: t.csv, timestamp: ts}}\n"
        "metrics:\n"
        "  fcr: {source: t, kpi: rate, field: resolved, target: 80, segment_by: team}\n"
        "  handle: {source: t, kpi: mean, field: minutes, target: 2, segment_by: team}\n"
        "cycle: {start: 2026-01-05}\n"
    )
    args = ["--as-of", "2026-03-29"]
    doc = json.loads(
        CliRunner().invoke(cli, ["check", str(path), "--format", "json", *args]).stdout
    )
    fcr = doc["metrics"]["fcr"]
    # by hand from the rows: the window is the last 4 weeks (2026-03-02 to 03-29)
    window = [r.split(",") for r in rows[1:] if "2026-03-02" <= r[:10] <= "2026-03-29"]
    centre = 100 * sum(r[1] == "yes" for r in window) / len(window)
    assert fcr["value"] == pytest.approx(centre)
    sigma = fcr["signal"]["limits"]["unit_sigma"]
    by_team = {s["segment"]: s for s in fcr["segments"]}
    for team, seg in by_team.items():
        mine = [r for r in window if r[2] == team]
        assert seg["n"] == len(mine)
        assert seg["value"] == pytest.approx(100 * sum(r[1] == "yes" for r in mine) / len(mine))
        half = 3 * sigma / math.sqrt(len(mine))
        assert (seg["lower"], seg["upper"]) == (
            pytest.approx(centre - half),
            pytest.approx(centre + half),
        )
    assert by_team["c"]["beyond"] == "below" and by_team["c"]["value"] < by_team["c"]["lower"]
    assert by_team["a"]["beyond"] is None
    # a mean has no per-answer sigma on its chart: its segments are as before
    assert all("lower" not in s for s in doc["metrics"]["handle"]["segments"])
    result = CliRunner().invoke(cli, ["report", str(path), "-o", "-", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    html = result.stdout
    assert '<tr class="beyond beyond-below" data-beyond="below"><td>c</td>' in html
    assert "(below what its n explains)" in html
