"""How honest ``pdca check``'s verdicts are: false verdicts on stable metrics, found improvements.

Per KPI kind (rate: yes/no answers; csat: 1-5 scores; mean: handling minutes;
count: complaints per week) and AR(1) phi of the weekly level (0, 0.3, 0.5):
400 stable metrics and 200 with a sustained 1.5-sd improvement from the cycle
start, each with 26 baseline weeks and one 13-week cycle (generator:
``tests/honesty_sim.py``). The rows are written as CSV files and a playbook,
one folder per phi, and each folder is checked by ``pdca check --format json``
in a separate process, as a team would run it.

Printed per group, with n and Wilson 95 % intervals: the share of stable
metrics given a verdict (improved, deteriorated or mixed; goal <= 5 %), the
share of improvements called improved (goal >= 80 %) and called deteriorated
(goal 0). The goals are for independent noise (phi 0); the AR(1) rows show
how far autocorrelation moves the shares.

Reference: the same weekly values, computed from the rows with numpy (and
checked equal to the series pdca's check reports, to 1e-9, before anything is
counted), read in-process by a plain re-implementation of the Shewhart rules
1, 2, 3 and 5 on frozen XmR limits with the most recent signal deciding
(``honesty_suite.reference_verdict``). This reference is meant to give other
verdicts: the figures are shares, not times, and the question is how often
each way of reading the same numbers is right, so the classic reading a team
would otherwise use is the fair thing to set beside pdca's. Its verdicts are
not asserted equal to pdca's; ``agree`` counts where they are. Its shares sit beside pdca's with the
ratio pdca / reference, and ``agree`` counts the metrics whose pdca verdict is
the reference's: where pdca reads the chart by those rules alone, every metric
agrees; any other verdict logic shows its effect as the difference.

    python bench/bench_honesty.py [--stable 400] [--shifted 200] [--phi 0 0.3 0.5] [--keep DIR]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchkit import same
from harness import header, result

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from honesty_suite import (
    KINDS,
    VERDICT_GIVEN,
    Suite,
    Tally,
    direction_of,
    plan_suite,
    reference_verdict,
    run_check,
    tally,
    wilson,
    write_suite,
)

SEED = 20261203
MEASURES = (
    ("stable", VERDICT_GIVEN, "stable, any verdict", "<= 5 %"),
    ("shifted", ("improved",), "shifted, improved", ">= 80 %"),
    ("shifted", ("deteriorated",), "shifted, deteriorated", "0"),
)
GOALS = (  # (RESULT name, measure, goal as written, holds for a share in %)
    ("stable_any_verdict", MEASURES[0], "pdca<=5%", lambda pct: pct <= 5.0),
    ("shifted_improved", MEASURES[1], "pdca>=80%", lambda pct: pct >= 80.0),
    ("shifted_deteriorated", MEASURES[2], "pdca==0%", lambda pct: pct == 0.0),
)


def reference_tally(suite: Suite) -> tuple[Tally, float]:
    out = Tally()
    start = time.perf_counter()
    for sim in suite.metrics:
        out.add(sim, reference_verdict(sim.weekly, direction_of(sim.kind)))
    return out, time.perf_counter() - start


def share(hits: int, n: int) -> str:
    lo, hi = wilson(hits, n)
    return f"{100 * hits / n:5.1f} % [{100 * lo:4.1f}, {100 * hi:5.1f}]" if n else "   -"


def ratio(a: tuple[int, int], b: tuple[int, int]) -> str:
    if not b[0]:
        return "   -" if a[0] else "1.00"
    return f"{(a[0] / a[1]) / (b[0] / b[1]):4.2f}"


def print_group(label: str, pdca: Tally, ref: Tally, phi: float, kind: str | None) -> None:
    for group, verdicts, name, goal in MEASURES:
        got = pdca.count(group, verdicts, phi=phi, kind=kind)
        want = ref.count(group, verdicts, phi=phi, kind=kind)
        print(
            f"  {label:6} {name:22} n={got[1]:5}  pdca {share(*got)}   "
            f"reference {100 * want[0] / want[1]:5.1f} %   ratio {ratio(got, want)}"
            f"   goal {goal}"
        )


def bench_phi(phi: float, stable: int, shifted: int, folder: Path) -> None:
    t0 = time.perf_counter()
    suite = write_suite(folder, plan_suite(stable=stable, shifted=shifted, phis=(phi,), seed=SEED))
    t_write = time.perf_counter() - t0
    rows = sum(s.rows for s in suite.metrics)
    report, t_check = run_check(suite.playbook)
    for sim in suite.metrics:  # the reference reads the weekly values pdca's chart shows
        shown = [p["value"] for p in report["metrics"][sim.metric]["series"]]
        assert same(shown, sim.weekly.tolist()), f"{sim.metric}: weekly values differ"
    pdca = tally(suite, report)
    ref, t_ref = reference_tally(suite)
    agree = sum(
        report["metrics"][s.metric]["signal"]["verdict"]
        == reference_verdict(s.weekly, direction_of(s.kind))
        for s in suite.metrics
    )
    m = len(suite.metrics)
    print(f"phi {phi}: {m} metrics, {rows:,} rows (written in {t_write:.1f} s)")
    print(
        f"  pdca check (subprocess, cache built)  {t_check:6.1f} s  "
        f"({1000 * t_check / m:.1f} ms/metric)   reference in-process {t_ref:.2f} s"
    )
    print(f"  verdicts agreeing with the reference: {agree} of {m}")
    for kind in KINDS:
        print_group(kind, pdca, ref, phi, kind)
    print_group("all", pdca, ref, phi, None)
    if phi == 0.0:  # the goals are for independent noise
        for name, (group, verdicts, _, _), goal, holds in GOALS:
            hits, n = pdca.count(group, verdicts, phi=phi)
            ref_hits, ref_n = ref.count(group, verdicts, phi=phi)
            pct, ref_pct = 100 * hits / n, 100 * ref_hits / ref_n
            result(f"honesty.{name}_phi0", pct, ref_pct, "%", goal, holds(pct))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stable", type=int, default=400, help="stable metrics per kind and phi")
    parser.add_argument("--shifted", type=int, default=200, help="shifted metrics per kind and phi")
    parser.add_argument("--phi", type=float, nargs="+", default=[0.0, 0.3, 0.5])
    parser.add_argument("--keep", type=Path, help="folder for the generated playbooks (kept)")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="pdca-honesty-"))
    header("bench_honesty: how honest pdca check's verdicts are")
    print(
        f"seed {SEED}: per kind and phi {args.stable} stable + {args.shifted} shifted by 1.5 sd;"
        " 26 baseline weeks, one 13-week cycle; Wilson 95 % intervals"
    )
    try:
        for phi in args.phi:
            bench_phi(phi, args.stable, args.shifted, root / f"phi{round(phi * 10)}")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
