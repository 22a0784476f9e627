"""pdca-webhook against a real HTTP server on 127.0.0.1, through pdca's own commands.

The contract: post on *changes* only (a status or signal that moved, a task
that turned overdue, a new phase), retry with backoff, log failures and let
pdca's run carry on with its exit code untouched, and take the URL from the
environment only.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pdca
import pluggy
import pytest
from pdca.plugins import notify
from pdca.plugins.check import check_plugins
from pdca.testing import CliResult, PlaybookBuilder, run_check, run_cycle

import pdca_webhook
from conftest import SECRET_PATH, Hook

ROWS = [
    {"day": "2026-01-05", "score": 4},
    {"day": "2026-01-06", "score": 6},
    {"day": "2026-01-07", "score": 8},
    {"day": "2026-01-14", "score": 9},
    {"day": "2026-01-15", "score": 10},
]
AT_RISK_DAY = "2026-01-07"  # 7 days: mean(4, 6, 8) = 6, between warn 5 and target 9
MET_DAY = "2026-01-15"  # 7 days: mean(9, 10) = 9.5


def desk(build: Callable[..., PlaybookBuilder], **extra_metrics: dict[str, Any]) -> Path:
    builder = (
        build("desk", "Support desk")
        .owner("aisha", "Aisha Khan", slack="@aisha")
        .source("scores", rows=ROWS, timestamp="day")
        .metric(
            "score",
            title="Score",
            source="scores",
            kpi="mean",
            field="score",
            target=9,
            warn=5,
            window="7d",
            unit="pts",
        )
        .task("analyse", owner="aisha", phase="plan", due="2026-01-06", title="Analyse")
        .task("coach", owner="tom", depends_on=["analyse"], due="2026-01-09", title="Coach")
        .cycle("2026-01-05", "28d")
    )
    for mid, keys in extra_metrics.items():
        builder.metric(mid, source="scores", **keys)
    return builder.write()


def memory_files(path: Path) -> list[Path]:
    return sorted((path.parent / ".pdca").glob("webhook-*.json"))


@pytest.fixture
def hook(webhook_server: Callable[..., Hook], monkeypatch: pytest.MonkeyPatch) -> Hook:
    server = webhook_server()
    monkeypatch.setenv("PDCA_WEBHOOK_URL", server.url)
    return server


def check(path: Path, day: str) -> dict[str, Any]:
    return run_check(path, as_of=day, plugins=[pdca_webhook])


# -- metrics ----------------------------------------------------------------------------------


def test_without_a_url_nothing_is_sent_or_written(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = desk(playbook_builder)
    assert check(path, AT_RISK_DAY)["metrics"]["score"]["status"] == "at_risk"
    assert check(path, MET_DAY)["metrics"]["score"]["status"] == "met"
    assert memory_files(path) == []


def test_a_status_change_is_posted_once(
    hook: Hook, playbook_builder: Callable[..., PlaybookBuilder]
) -> None:
    path = desk(playbook_builder)
    check(path, AT_RISK_DAY)  # first sighting: remembered, not announced
    check(path, AT_RISK_DAY)
    assert hook.received == []
    assert memory_files(path) == [path.parent / ".pdca" / "webhook-desk.json"]
    check(path, MET_DAY)
    assert hook.texts == [
        "[desk] Score (score) is now met (was at risk): 9.5 pts against a target of 9 pts"
    ]
    assert hook.received[0]["path"] == SECRET_PATH
    assert hook.received[0]["content_type"] == "application/json"
    check(path, MET_DAY)  # no change: nothing new
    check(path, AT_RISK_DAY)  # an earlier date is analysis, not news
    assert len(hook.received) == 1
    remembered = json.loads(memory_files(path)[0].read_text())["metrics"]["score"]
    assert remembered["status"] == "met"


@pytest.fixture
def fire(
    playbook_builder: Callable[..., PlaybookBuilder],
    pdca_plugin_manager: Callable[..., pluggy.PluginManager],
) -> Callable[..., None]:
    """Fire pdca_metric_evaluated for 'score' with a hand-made result, as pdca check would."""
    path = desk(playbook_builder)
    pm = pdca_plugin_manager(pdca_webhook)
    playbook = pdca.load_playbook(path, plugin_manager=pm)

    def fire_it(
        status: str, verdict: str | None, day: str, value: float = 7.0, **more: Any
    ) -> None:
        result = {
            "status": status,
            "value": value,
            "window": {"end": day},
            "signal": {"verdict": verdict} if verdict else None,
            **more,
        }
        notify(
            pm,
            "pdca_metric_evaluated",
            playbook=playbook,
            metric=playbook.metrics["score"],
            result=result,
        )

    return fire_it


def test_a_signal_change_is_posted_but_not_quiet_to_quiet(
    hook: Hook, fire: Callable[..., None]
) -> None:
    fire("at_risk", "insufficient_data", "2026-01-10")
    fire("at_risk", "no_signal", "2026-01-11")  # between two "nothing to see" verdicts
    assert hook.received == []
    fire("at_risk", "deteriorated", "2026-01-12")
    fire("at_risk", "deteriorated", "2026-01-13")
    fire("at_risk", "no_signal", "2026-01-14")
    assert hook.texts == [
        "[desk] Score (score): Check reads the series as deteriorated (was no signal)",
        "[desk] Score (score): Check reads the series as no signal (was deteriorated)",
    ]


def test_status_and_signal_together_and_errors(hook: Hook, fire: Callable[..., None]) -> None:
    fire("at_risk", "no_signal", "2026-01-10")
    fire("met", "improved", "2026-01-11", value=9.25)
    fire("error", None, "2026-01-12", value=None, error="source 'scores': file not found")
    fire("met", "improved", "2026-01-13", value=9.5)  # back as before the error
    assert hook.texts == [
        "[desk] Score (score) is now met (was at risk): 9.25 pts against a target of 9 pts\n"
        "[desk] Score (score): Check reads the series as improved (was no signal)",
        "[desk] Score (score) is now in error (was met): no value against a target of 9 pts\n"
        "error: source 'scores': file not found",
        "[desk] Score (score) is now met (was in error): 9.5 pts against a target of 9 pts",
    ]


# -- overdue tasks ----------------------------------------------------------------------------


def test_overdue_tasks_are_posted_when_they_turn_overdue(
    hook: Hook,
    monkeypatch: pytest.MonkeyPatch,
    playbook_builder: Callable[..., PlaybookBuilder],
    pdca_plugin_manager: Callable[..., pluggy.PluginManager],
    pdca_cli: Callable[..., CliResult],
) -> None:
    monkeypatch.setenv("PDCA_WEBHOOK_EVENTS", "overdue")
    path = desk(playbook_builder)
    pm = pdca_plugin_manager(pdca_webhook)
    playbook = pdca.load_playbook(path, plugin_manager=pm)

    def reviewed(day: str) -> None:
        # what pdca run / pdca status hand to pdca_cycle_reviewed: the status JSON
        review = run_cycle(path, as_of=day, plugins=[pdca_webhook])["review"]
        notify(pm, "pdca_cycle_reviewed", playbook=playbook, review=review)

    reviewed("2026-01-06")  # due today: not overdue yet
    assert hook.received == []
    reviewed("2026-01-08")
    reviewed("2026-01-08")
    assert hook.texts == [
        "[desk] cycle 1: 1 task turned overdue\n- analyse (Analyse): aisha (@aisha), due "
        "2026-01-06, ready"
    ]
    assert pdca_cli("task", path, "done", "analyse", "--by", "aisha").exit_code == 0
    run_cycle(path, as_of="2026-01-08")  # plan -> do: coach is ready
    reviewed("2026-01-10")  # coach was due on the 9th
    assert hook.texts[1:] == [
        "[desk] cycle 1: 1 task turned overdue\n- coach (Coach): tom, due 2026-01-09, ready"
    ]
    memory = json.loads(memory_files(path)[0].read_text())
    assert memory["overdue"] == {"cycle": 1, "tasks": ["coach"], "as_of": "2026-01-10"}


def test_a_review_without_a_cycle_is_ignored(
    hook: Hook,
    playbook_builder: Callable[..., PlaybookBuilder],
    pdca_plugin_manager: Callable[..., pluggy.PluginManager],
) -> None:
    pm = pdca_plugin_manager(pdca_webhook)
    playbook = pdca.load_playbook(desk(playbook_builder), plugin_manager=pm)
    review = {"cycle": None, "tasks": {"analyse": {"overdue": True}}, "as_of": "2026-01-08"}
    notify(pm, "pdca_cycle_reviewed", playbook=playbook, review=review)
    assert hook.received == []


# -- phases and tasks, end to end through the engine ------------------------------------------


def test_pdca_run_posts_the_phase_changes(
    hook: Hook, playbook_builder: Callable[..., PlaybookBuilder], pdca_cli: Callable[..., CliResult]
) -> None:
    path = desk(playbook_builder)
    first = run_cycle(path, as_of="2026-01-06", plugins=[pdca_webhook])
    assert first["exit_code"] == 0
    assert hook.texts == ["[desk] cycle 1 opened: plan phase"]
    pdca_cli("task", path, "done", "analyse", "--by", "aisha", plugins=[pdca_webhook])
    run_cycle(path, as_of="2026-01-06", plugins=[pdca_webhook])
    assert hook.texts[1:] == ["[desk] cycle 1 moved from plan to do"]


def test_blocked_tasks_are_posted_when_asked_for(
    hook: Hook,
    monkeypatch: pytest.MonkeyPatch,
    playbook_builder: Callable[..., PlaybookBuilder],
    pdca_cli: Callable[..., CliResult],
) -> None:
    path = desk(playbook_builder)
    run_cycle(path, as_of="2026-01-06", plugins=[pdca_webhook])
    monkeypatch.setenv("PDCA_WEBHOOK_EVENTS", "task")
    args = ("task", path, "block", "analyse", "--by", "aisha", "--note", "no export access")
    assert pdca_cli(*args, plugins=[pdca_webhook]).exit_code == 0
    pdca_cli("task", path, "reopen", "analyse", "--by", "aisha", plugins=[pdca_webhook])
    assert hook.texts[1:] == [
        "[desk] cycle 1: task analyse (Analyse) is blocked by aisha: no export access"
    ]


# -- delivery ---------------------------------------------------------------------------------


def test_failed_posts_are_retried_with_backoff(
    webhook_server: Callable[..., Hook],
    monkeypatch: pytest.MonkeyPatch,
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    server = webhook_server(fail_first=2)
    monkeypatch.setenv("PDCA_WEBHOOK_URL", server.url)
    result = run_cycle(desk(playbook_builder), as_of="2026-01-06", plugins=[pdca_webhook])
    assert result["exit_code"] == 0
    assert server.texts == ["[desk] cycle 1 opened: plan phase"] * 3  # 500, 500, 200


def test_the_backoff_doubles_honours_retry_after_and_is_capped(
    webhook_server: Callable[..., Hook], caplog: pytest.LogCaptureFixture
) -> None:
    waits: list[float] = []

    def settings(url: str, backoff: float) -> pdca_webhook.Settings:
        return pdca_webhook.Settings(url, "slack", frozenset(), 3, backoff, 5.0, Path("."))

    ok = webhook_server(fail_first=3)
    assert pdca_webhook.post(settings(ok.url, 1.0), {"text": "x"}, sleep=waits.append)
    assert (len(ok.received), waits) == (4, [1.0, 2.0, 4.0])

    waits.clear()
    busy = webhook_server(fail_first=1, fail_status=429, retry_after="7")
    assert pdca_webhook.post(settings(busy.url, 1.0), {"text": "x"}, sleep=waits.append)
    assert waits == [7.0]

    waits.clear()
    broken = webhook_server(always=503)
    with caplog.at_level(logging.WARNING, logger="pdca_webhook"):
        assert not pdca_webhook.post(settings(broken.url, 20.0), {"text": "x"}, sleep=waits.append)
    assert (len(broken.received), waits) == (4, [20.0, 30.0, 30.0])
    port = broken.url.split(":")[2].split("/")[0]
    assert caplog.messages == [
        f"pdca-webhook: could not notify 127.0.0.1:{port} after 4 attempts "
        "(HTTP 503 Service Unavailable); pdca carries on"
    ]


def test_a_refused_message_is_not_retried_and_the_secret_stays_out_of_the_log(
    webhook_server: Callable[..., Hook],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    server = webhook_server(always=404)
    monkeypatch.setenv("PDCA_WEBHOOK_URL", server.url)
    with caplog.at_level(logging.WARNING, logger="pdca_webhook"):
        result = run_cycle(desk(playbook_builder), as_of="2026-01-06", plugins=[pdca_webhook])
    assert result["exit_code"] == 0
    assert len(server.received) == 1
    assert "refused the message (HTTP 404 Not Found); check the webhook URL" in caplog.text
    assert "s3cr3t" not in caplog.text


def test_a_server_that_is_down_is_logged_and_the_run_goes_on(
    down_url: str,
    webhook_server: Callable[..., Hook],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    playbook_builder: Callable[..., PlaybookBuilder],
    pdca_cli: Callable[..., CliResult],
) -> None:
    path = desk(
        playbook_builder, again={"kpi": "max", "field": "score", "target": 9, "window": "7d"}
    )
    up = webhook_server()
    monkeypatch.setenv("PDCA_WEBHOOK_URL", up.url)
    check(path, AT_RISK_DAY)  # first sighting: remembered
    monkeypatch.setenv("PDCA_WEBHOOK_URL", down_url)
    with caplog.at_level(logging.WARNING, logger="pdca_webhook"):
        result = pdca_cli(
            "check", path, "--as-of", MET_DAY, "--fail-on", "off_track", plugins=[pdca_webhook]
        )
    assert result.exit_code == 0, result  # both metrics met: the outage changes nothing
    assert result.stderr == ""
    warnings = caplog.messages
    assert warnings[0].startswith("pdca-webhook: could not notify 127.0.0.1:")
    assert "after 4 attempts" in warnings[0]
    # the second change does not wait out the retries again
    assert warnings[1].startswith("pdca-webhook: not sent, 127.0.0.1:")
    assert len(warnings) == 2
    assert "s3cr3t" not in caplog.text

    # back up: the changes the outage swallowed are announced by the next run
    pdca_webhook._resting.clear()
    monkeypatch.setenv("PDCA_WEBHOOK_URL", up.url)
    check(path, MET_DAY)
    assert [t.split(" is now ")[0] for t in up.texts] == [
        "[desk] Score (score)",
        "[desk] again",
    ]


@pytest.mark.skipif(
    "pdca-webhook" not in [ep.name for ep in entry_points(group="pdca")],
    reason="needs the plugin installed: pip install -e plugins/pdca-webhook",
)
def test_a_real_pdca_process_prints_the_failure_and_exits_0(
    down_url: str, playbook_builder: Callable[..., PlaybookBuilder]
) -> None:
    path = desk(playbook_builder)
    env = {**os.environ, "PDCA_WEBHOOK_URL": down_url, "PDCA_WEBHOOK_RETRIES": "1"}
    command = [sys.executable, "-m", "pdca", "run", str(path), "--as-of", "2026-01-06"]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "cycle 1 opened" in proc.stdout
    assert "pdca-webhook: could not notify 127.0.0.1:" in proc.stderr
    assert "after 2 attempts" in proc.stderr
    assert "s3cr3t" not in proc.stderr


# -- settings ---------------------------------------------------------------------------------


def test_teams_and_json_payloads(
    webhook_server: Callable[..., Hook],
    monkeypatch: pytest.MonkeyPatch,
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = desk(playbook_builder)
    teams, raw = webhook_server(), webhook_server()
    monkeypatch.setenv("PDCA_WEBHOOK_URL", teams.url)
    monkeypatch.setenv("PDCA_WEBHOOK_FORMAT", "teams")
    run_cycle(path, as_of="2026-01-06", plugins=[pdca_webhook])
    card = teams.received[0]["body"]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"] == [
        {"type": "TextBlock", "text": "[desk] cycle 1 opened: plan phase", "wrap": True}
    ]
    monkeypatch.setenv("PDCA_WEBHOOK_URL", raw.url)
    monkeypatch.setenv("PDCA_WEBHOOK_FORMAT", "json")
    monkeypatch.setenv("PDCA_WEBHOOK_EVENTS", "all")
    run_cycle(path, as_of="2026-01-06", plugins=[pdca_webhook])
    assert raw.received == []  # nothing changed since the first run
    check(path, AT_RISK_DAY)
    check(path, MET_DAY)
    assert raw.received[0]["body"]["event"] == {
        "type": "metric_changed",
        "playbook": "desk",
        "metric": "score",
        "old": {"status": "at_risk", "verdict": "insufficient_data"},
        "new": {"status": "met", "verdict": "insufficient_data"},
        "value": 9.5,
        "target": 9.0,
        "as_of": MET_DAY,
    }


def test_a_playbooks_own_url_wins_and_the_state_dir_can_move(
    webhook_server: Callable[..., Hook],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    general, own = webhook_server(), webhook_server()
    monkeypatch.setenv("PDCA_WEBHOOK_URL", general.url)
    monkeypatch.setenv("PDCA_WEBHOOK_URL_DESK", own.url)
    monkeypatch.setenv("PDCA_WEBHOOK_STATE_DIR", str(tmp_path / "memory"))
    path = desk(playbook_builder)
    check(path, AT_RISK_DAY)
    check(path, MET_DAY)
    assert (len(general.received), len(own.received)) == (0, 1)
    assert (tmp_path / "memory" / "webhook-desk.json").is_file()
    assert memory_files(path) == []
    assert pdca_webhook.url_variable("service-desk-q1") == "PDCA_WEBHOOK_URL_SERVICE_DESK_Q1"


def test_bad_settings_are_logged_not_fatal(
    webhook_server: Callable[..., Hook],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = desk(playbook_builder)
    monkeypatch.setenv("PDCA_WEBHOOK_URL", "ftp://example.invalid/hook")
    with caplog.at_level(logging.WARNING, logger="pdca_webhook"):
        assert run_cycle(path, as_of="2026-01-06", plugins=[pdca_webhook])["exit_code"] == 0
    assert "the webhook URL must start with https://; nothing sent" in caplog.text

    server = webhook_server()
    caplog.clear()
    monkeypatch.setenv("PDCA_WEBHOOK_URL", server.url)
    monkeypatch.setenv("PDCA_WEBHOOK_FORMAT", "discord")
    monkeypatch.setenv("PDCA_WEBHOOK_RETRIES", "many")
    monkeypatch.setenv("PDCA_WEBHOOK_EVENTS", "metric, weather")
    with caplog.at_level(logging.WARNING, logger="pdca_webhook"):
        check(path, AT_RISK_DAY)
    assert "PDCA_WEBHOOK_FORMAT='discord' is not one of" in caplog.text
    assert "PDCA_WEBHOOK_RETRIES='many' is not a number >= 0; using 3" in caplog.text
    assert "unknown PDCA_WEBHOOK_EVENTS weather" in caplog.text


def test_an_unreadable_memory_is_replaced(
    hook: Hook, caplog: pytest.LogCaptureFixture, playbook_builder: Callable[..., PlaybookBuilder]
) -> None:
    path = desk(playbook_builder)
    memory = path.parent / ".pdca" / "webhook-desk.json"
    memory.parent.mkdir()
    memory.write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="pdca_webhook"):
        check(path, AT_RISK_DAY)
    assert "ignoring unreadable memory" in caplog.text
    assert json.loads(memory.read_text())["metrics"]["score"]["status"] == "at_risk"


def test_the_plugin_meets_pdcas_contracts(
    pdca_plugin_manager: Callable[..., pluggy.PluginManager],
) -> None:
    assert check_plugins(pdca_plugin_manager(pdca_webhook)) == []
