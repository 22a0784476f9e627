"""The act proposal reads Check's evidence: met targets, special-cause signals, possible luck."""

from __future__ import annotations

from pathlib import Path

import pytest

from pdca.engine.transitions import propose
from pdca.playbook import load_checked


@pytest.fixture
def playbook(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nowners: {o: {name: O}}\n"
        "sources: {s: {type: csv, path: s.csv, timestamp: ts}}\n"
        "metrics:\n"
        "  nps: {source: s, kpi: nps, field: score, target: 30}\n"
        "  csat: {source: s, kpi: csat, field: sat, target: 80}\n"
        "objectives:\n  loyal: {title: Loyal, owner: o, metrics: [nps, csat]}\n"
    )
    return load_checked(path).playbook


def report(nps: tuple[str, str | None], csat: tuple[str, str | None]) -> dict:
    def entry(status: str, verdict: str | None) -> dict:
        return {"status": status, "signal": {"verdict": verdict} if verdict else None}

    return {"metrics": {"nps": entry(*nps), "csat": entry(*csat)}}


def test_met_with_improvement_signals_is_standardize(playbook) -> None:
    assert propose(playbook, "loyal", report(("met", "improved"), ("met", "improved"))) == (
        "standardize",
        "target met, with an improvement signal",
    )


def test_met_without_improvement_signal_is_flagged_as_possible_luck(playbook) -> None:
    decision, reason = propose(playbook, "loyal", report(("met", "improved"), ("met", "no_signal")))
    assert decision == "standardize"
    assert reason == (
        "target met, but csat shows no improvement signal: possibly luck; "
        "confirm it holds next cycle"
    )


def test_met_but_deteriorating_is_adjust(playbook) -> None:
    decision, reason = propose(
        playbook, "loyal", report(("met", "improved"), ("met", "deteriorated"))
    )
    assert decision == "adjust"
    assert reason == "target met, but csat got worse (sustained evidence)"


def test_met_but_moving_both_ways_is_adjust(playbook) -> None:
    decision, reason = propose(playbook, "loyal", report(("met", "improved"), ("met", "mixed")))
    assert decision == "adjust"
    assert reason.startswith("target met, but csat moved both ways within the cycle")


def test_missed_target_is_adjust_whatever_the_signals(playbook) -> None:
    assert propose(playbook, "loyal", report(("at_risk", "improved"), ("met", "improved"))) == (
        "adjust",
        "objective is at risk",
    )
    assert propose(playbook, "loyal", {"metrics": {}})[0] == "adjust"
