"""pdca-webhook: tell a team's chat when a metric's status or signal changes, or a task is late.

It posts Slack- or Teams-style JSON to an incoming-webhook URL through pdca's
lifecycle hooks, and follows three rules:

* **Changes only.** pdca fires ``pdca_metric_evaluated`` on every check and
  ``pdca_cycle_reviewed`` on every review. The plugin keeps a small memory
  file of what it has announced (``webhook-<playbook>.json`` in
  ``PDCA_WEBHOOK_STATE_DIR``, or ``.pdca/`` beside the playbook) and posts
  only what is new. The memory is updated only when a post got through, so a
  message lost to an outage is sent by the next run instead.
* **Never fatal.** A chat outage must not fail the team's nightly run: every
  failure is retried with backoff, then logged, and the hook returns
  normally. After a failure the URL rests for a minute, so a run with many
  metrics does not wait out the retries once per metric.
* **No secrets in playbooks.** The URL (which for Slack and Teams *is* the
  credential) comes from the environment only; log lines name its host, never
  its path.

Settings, all environment variables:

``PDCA_WEBHOOK_URL``              where to post; without it the plugin does nothing
``PDCA_WEBHOOK_URL_<PLAYBOOK>``   a URL for one playbook (id upper-cased, ``-`` as ``_``)
``PDCA_WEBHOOK_FORMAT``           ``slack`` (default), ``teams`` or ``json``
``PDCA_WEBHOOK_EVENTS``           any of ``metric,overdue,phase,task`` (default: the first three)
``PDCA_WEBHOOK_STATE_DIR``        folder for the memory files (default: ``.pdca/`` by the playbook)
``PDCA_WEBHOOK_RETRIES``          retries after a failed post (default 3)
``PDCA_WEBHOOK_BACKOFF``          seconds before the first retry, doubled each time (default 1)
``PDCA_WEBHOOK_TIMEOUT``          seconds to wait for the server (default 10)
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pdca import hookimpl

__version__ = "0.1.0"

log = logging.getLogger("pdca_webhook")

URL_ENV = "PDCA_WEBHOOK_URL"
FORMAT_ENV = "PDCA_WEBHOOK_FORMAT"
EVENTS_ENV = "PDCA_WEBHOOK_EVENTS"
STATE_ENV = "PDCA_WEBHOOK_STATE_DIR"
RETRIES_ENV = "PDCA_WEBHOOK_RETRIES"
BACKOFF_ENV = "PDCA_WEBHOOK_BACKOFF"
TIMEOUT_ENV = "PDCA_WEBHOOK_TIMEOUT"

FORMATS = ("slack", "teams", "json")
EVENTS = ("metric", "overdue", "phase", "task")
DEFAULT_EVENTS = frozenset({"metric", "overdue", "phase"})
MAX_DELAY = 30.0
"""Longest wait between two attempts, also when the server asks for more (Retry-After)."""
REST = 60.0
"""Seconds a URL that failed is not tried again by this process."""
QUIET_VERDICTS = frozenset({"no_signal", "insufficient_data", None})
"""Verdicts that say "nothing to see": moving between them is not news."""
ALERT_TASK_STATES = frozenset({"blocked", "failed"})

_resting: dict[str, float] = {}


# -- settings ---------------------------------------------------------------------------------


def url_variable(playbook_id: str) -> str:
    """``PDCA_WEBHOOK_URL_SERVICE_DESK_Q1`` for playbook ``service-desk-q1``."""
    return f"{URL_ENV}_{re.sub(r'[^A-Za-z0-9]', '_', playbook_id).upper()}"


def _number(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        log.warning(
            "pdca-webhook: %s=%r is not a number >= %g; using %g", name, raw, minimum, default
        )
        return default
    return value


@dataclass(frozen=True)
class Settings:
    """The plugin's settings for one playbook, read from the environment at each hook call."""

    url: str
    format: str
    events: frozenset[str]
    retries: int
    backoff: float
    timeout: float
    state_dir: Path

    @classmethod
    def from_env(cls, playbook: Any) -> Settings | None:
        """None when no URL is set: then the plugin stays silent and writes nothing."""
        url = os.environ.get(url_variable(playbook.id)) or os.environ.get(URL_ENV)
        if not url:
            return None
        if not url.startswith(("https://", "http://")):
            log.warning("pdca-webhook: the webhook URL must start with https://; nothing sent")
            return None
        fmt = os.environ.get(FORMAT_ENV, "slack").strip().lower() or "slack"
        if fmt not in FORMATS:
            log.warning(
                "pdca-webhook: %s=%r is not one of %s; using slack", FORMAT_ENV, fmt, FORMATS
            )
            fmt = "slack"
        events = DEFAULT_EVENTS
        raw_events = os.environ.get(EVENTS_ENV)
        if raw_events:
            named = {e.strip().lower() for e in raw_events.replace(",", " ").split()}
            unknown = named - set(EVENTS) - {"all"}
            if unknown:
                log.warning(
                    "pdca-webhook: unknown %s %s (known: %s)",
                    EVENTS_ENV,
                    ", ".join(sorted(unknown)),
                    ", ".join(EVENTS),
                )
            events = frozenset(EVENTS) if "all" in named else frozenset(named & set(EVENTS))
        state = os.environ.get(STATE_ENV)
        return cls(
            url=url,
            format=fmt,
            events=events,
            retries=int(_number(RETRIES_ENV, 3, 0)),
            backoff=_number(BACKOFF_ENV, 1.0, 0),
            timeout=_number(TIMEOUT_ENV, 10.0, 0.001),
            state_dir=Path(state) if state else Path(playbook.path).resolve().parent / ".pdca",
        )

    @property
    def host(self) -> str:
        """The URL's host, for messages: the path of a chat webhook URL is its secret."""
        from urllib.parse import urlsplit

        return urlsplit(self.url).netloc or "the webhook"


# -- memory -----------------------------------------------------------------------------------


class Memory:
    """What was last announced for one playbook, in a small JSON file."""

    def __init__(self, settings: Settings, playbook_id: str):
        self.path = settings.state_dir / f"webhook-{playbook_id}.json"
        self.data: dict[str, Any] = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("pdca-webhook: ignoring unreadable memory %s (%s)", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def save(self) -> None:
        """Write atomically: a run killed mid-write leaves the previous memory, not half of one."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            text = json.dumps(self.data, indent=1, sort_keys=True, default=str)
            temp.write_text(text, encoding="utf-8")
            os.replace(temp, self.path)
        except OSError as exc:
            log.warning(
                "pdca-webhook: cannot save %s (%s); the same changes will be announced again",
                self.path,
                exc,
            )


def _newer(as_of: Any, last: Any) -> bool:
    """Is this observation at least as recent as the last one remembered?

    ``pdca check --as-of`` an earlier date is analysis, not news: it must
    neither post nor move the memory back in time.
    """
    return last is None or as_of is None or str(as_of) >= str(last)


# -- messages ---------------------------------------------------------------------------------

STATUS_WORDS: Mapping[str | None, str] = {
    "met": "met",
    "at_risk": "at risk",
    "off_track": "off track",
    "no_data": "without data",
    "error": "in error",
    None: "not measured",
}
VERDICT_WORDS: Mapping[str | None, str] = {
    "improved": "improved",
    "deteriorated": "deteriorated",
    "no_signal": "no signal",
    "insufficient_data": "not enough data",
    None: "none",
}


def _number_text(value: Any, unit: str | None) -> str:
    if value is None:
        return "no value"
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}" if unit else text


def metric_message(
    playbook: Any,
    metric: Any,
    result: Mapping[str, Any],
    before: Mapping[str, Any],
    now: Mapping[str, Any],
    *,
    status: bool,
    verdict: bool,
) -> str:
    """One line per change: the status (with value and target), the Check verdict."""
    label = f"{metric.title} ({metric.id})" if metric.title else metric.id
    lines = []
    if status:
        was = STATUS_WORDS.get(before.get("status"), str(before.get("status")))
        lines.append(
            f"[{playbook.id}] {label} is now {STATUS_WORDS.get(now['status'], now['status'])} "
            f"(was {was}): {_number_text(result.get('value'), metric.unit)} against a target "
            f"of {_number_text(metric.target, metric.unit)}"
        )
        if now["status"] == "error" and result.get("error"):
            lines.append(f"error: {result['error']}")
    if verdict:
        lines.append(
            f"[{playbook.id}] {label}: Check reads the series as "
            f"{VERDICT_WORDS.get(now['verdict'], now['verdict'])} "
            f"(was {VERDICT_WORDS.get(before.get('verdict'), before.get('verdict'))})"
        )
    return "\n".join(lines)


def overdue_message(playbook: Any, cycle: int, tasks: Mapping[str, Mapping[str, Any]]) -> str:
    count = len(tasks)
    head = f"[{playbook.id}] cycle {cycle}: {count} task{'s' if count > 1 else ''} turned overdue"
    lines = [head]
    for tid, task in tasks.items():
        owner_id = task.get("owner")
        owner = playbook.owners.get(owner_id) if owner_id else None
        who = owner_id or "nobody"
        handle = (getattr(owner, "extra", None) or {}).get("slack") if owner else None
        if handle:
            who += f" ({handle})"  # the owner's `slack:` key, so the chat can mention them
        title = f" ({task['title']})" if task.get("title") else ""
        lines.append(f"- {tid}{title}: {who}, due {task.get('due')}, {task.get('status')}")
    return "\n".join(lines)


def phase_message(playbook: Any, cycle: int, old: str | None, new: str) -> str:
    if old is None:
        return f"[{playbook.id}] cycle {cycle} opened: {new} phase"
    if new == "closed":
        return f"[{playbook.id}] cycle {cycle} closed"
    return f"[{playbook.id}] cycle {cycle} moved from {old} to {new}"


def task_message(
    playbook: Any, cycle: int, task: str, new: str, by: str | None, note: str | None
) -> str:
    entry = playbook.tasks.get(task)
    title = f" ({entry.title})" if entry is not None else ""
    who = f" by {by}" if by else ""
    why = f": {note}" if note else ""
    return f"[{playbook.id}] cycle {cycle}: task {task}{title} is {new}{who}{why}"


def payload(fmt: str, text: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body: Slack's ``text``, a Teams Adaptive Card, or text plus the event."""
    if fmt == "teams":
        return {
            "type": "message",
            "text": text,
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": [
                            {"type": "TextBlock", "text": line, "wrap": True}
                            for line in text.splitlines()
                        ],
                    },
                }
            ],
        }
    if fmt == "json":
        return {"text": text, "event": dict(event)}
    return {"text": text}


# -- delivery ---------------------------------------------------------------------------------


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None  # an HTTP date: the doubling backoff will do


def post(
    settings: Settings, body: Mapping[str, Any], sleep: Callable[[float], None] = time.sleep
) -> bool:
    """POST ``body``; retry connection errors, 5xx and 429 with doubling delays. True if sent.

    A 4xx other than 429 is not retried: the URL or the payload is wrong, and
    asking again will not make it right.
    """
    import urllib.error
    import urllib.request

    data = json.dumps(body, default=str).encode("utf-8")
    attempts = settings.retries + 1
    problem = "no attempt"
    for attempt in range(attempts):
        request = urllib.request.Request(
            settings.url,
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"pdca-webhook/{__version__}",
            },
        )
        wait_at_least = None
        try:
            with urllib.request.urlopen(request, timeout=settings.timeout) as response:
                response.read(65536)
                return True
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code} {exc.reason}"
            if exc.code != 429 and exc.code < 500:
                log.warning(
                    "pdca-webhook: %s refused the message (%s); check the webhook URL",
                    settings.host,
                    problem,
                )
                return False
            wait_at_least = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            problem = (
                f"{type(reason).__name__}: {reason}" if not isinstance(reason, str) else reason
            )
        if attempt + 1 < attempts:
            delay = settings.backoff * 2**attempt
            if wait_at_least is not None:
                delay = max(delay, wait_at_least)
            sleep(min(delay, MAX_DELAY))
    log.warning(
        "pdca-webhook: could not notify %s after %d attempt%s (%s); pdca carries on",
        settings.host,
        attempts,
        "s" if attempts > 1 else "",
        problem,
    )
    return False


def deliver(settings: Settings, text: str, event: Mapping[str, Any]) -> bool:
    """Send one message unless its URL failed moments ago; True when it got through."""
    until = _resting.get(settings.url)
    if until is not None and time.monotonic() < until:
        log.warning(
            "pdca-webhook: not sent, %s failed moments ago: %s", settings.host, text.splitlines()[0]
        )
        return False
    if post(settings, payload(settings.format, text, event)):
        _resting.pop(settings.url, None)
        return True
    _resting[settings.url] = time.monotonic() + REST
    return False


# -- the hooks --------------------------------------------------------------------------------


def _guarded(hook: str, work: Callable[[], None]) -> None:
    """Run a hook's work; a bug or an odd input is logged, never raised into pdca's run."""
    try:
        work()
    except Exception as exc:
        log.warning(
            "pdca-webhook: %s failed (%s: %s); pdca carries on", hook, type(exc).__name__, exc
        )


def on_metric(settings: Settings, playbook: Any, metric: Any, result: Mapping[str, Any]) -> None:
    signal = result.get("signal")
    window = result.get("window")
    end = window.get("end") if isinstance(window, Mapping) else None
    now = {
        "status": result.get("status"),
        "verdict": signal.get("verdict") if isinstance(signal, Mapping) else None,
        "as_of": None if end is None else str(end),
    }
    memory = Memory(settings, playbook.id)
    metrics = memory.data.setdefault("metrics", {})
    before = metrics.get(metric.id)
    if before is None:  # first sighting: remember, announce nothing
        metrics[metric.id] = now
        memory.save()
        return
    if not _newer(now["as_of"], before.get("as_of")):
        return
    if now["status"] == "error":
        # a metric in error has no verdict: keep the last one, so that recovering to the
        # same verdict is not news; the status line says everything about the error
        now["verdict"] = before.get("verdict")
    status_changed = before.get("status") != now["status"]
    verdict_changed = before.get("verdict") != now["verdict"] and not (
        before.get("verdict") in QUIET_VERDICTS and now["verdict"] in QUIET_VERDICTS
    )
    if status_changed or verdict_changed:
        text = metric_message(
            playbook, metric, result, before, now, status=status_changed, verdict=verdict_changed
        )
        event = {
            "type": "metric_changed",
            "playbook": playbook.id,
            "metric": metric.id,
            "old": {"status": before.get("status"), "verdict": before.get("verdict")},
            "new": {"status": now["status"], "verdict": now["verdict"]},
            "value": result.get("value"),
            "target": metric.target,
            "as_of": now["as_of"],
        }
        if not deliver(settings, text, event):
            return  # remembered as before: the next run announces it again
    if now != before:
        metrics[metric.id] = now
        memory.save()


def on_review(settings: Settings, playbook: Any, review: Mapping[str, Any]) -> None:
    cycle = (review.get("cycle") or {}).get("number")
    if cycle is None:
        return
    memory = Memory(settings, playbook.id)
    remembered = memory.data.get("overdue") or {}
    if remembered.get("cycle") != cycle:
        remembered = {"cycle": cycle, "tasks": [], "as_of": None}
    if not _newer(review.get("as_of"), remembered.get("as_of")):
        return
    tasks: Mapping[str, Mapping[str, Any]] = review.get("tasks") or {}
    seen = set(remembered.get("tasks", []))
    overdue = {tid for tid, t in tasks.items() if t.get("overdue")}
    # a task missing from the review (pdca status --owner) keeps what was known about it
    seen -= {tid for tid in tasks if tid not in overdue}
    new = [tid for tid in tasks if tid in overdue and tid not in seen]
    if new:
        event = {
            "type": "tasks_overdue",
            "playbook": playbook.id,
            "cycle": cycle,
            "tasks": {tid: dict(tasks[tid]) for tid in new},
            "as_of": review.get("as_of"),
        }
        text = overdue_message(playbook, cycle, {tid: tasks[tid] for tid in new})
        if deliver(settings, text, event):
            seen |= set(new)
    memory.data["overdue"] = {"cycle": cycle, "tasks": sorted(seen), "as_of": review.get("as_of")}
    memory.save()


def _settings(playbook: Any, event: str) -> Settings | None:
    settings = Settings.from_env(playbook)
    return settings if settings is not None and event in settings.events else None


def _metric_evaluated(playbook: Any, metric: Any, result: Mapping[str, Any]) -> None:
    settings = _settings(playbook, "metric")
    if settings is not None:
        on_metric(settings, playbook, metric, result)


def _cycle_reviewed(playbook: Any, review: Mapping[str, Any]) -> None:
    settings = _settings(playbook, "overdue")
    if settings is not None:
        on_review(settings, playbook, review)


def _phase_changed(playbook: Any, cycle: int, old: str | None, new: str) -> None:
    settings = _settings(playbook, "phase")
    if settings is not None:
        event = {"type": "phase_changed", "playbook": playbook.id, "cycle": cycle}
        deliver(
            settings, phase_message(playbook, cycle, old, new), {**event, "old": old, "new": new}
        )


def _task_changed(
    playbook: Any,
    cycle: int,
    task: str,
    old: str | None,
    new: str,
    by: str | None,
    note: str | None,
) -> None:
    settings = _settings(playbook, "task")
    if settings is not None and new in ALERT_TASK_STATES:
        event = {"type": "task_changed", "playbook": playbook.id, "cycle": cycle, "task": task}
        event.update(old=old, new=new, by=by, note=note)
        deliver(settings, task_message(playbook, cycle, task, new, by, note), event)


@hookimpl
def pdca_metric_evaluated(playbook: Any, metric: Any, result: dict[str, Any]) -> None:
    _guarded("pdca_metric_evaluated", lambda: _metric_evaluated(playbook, metric, result))


@hookimpl(optionalhook=True)  # so the plugin also loads in a pdca without this hook
def pdca_cycle_reviewed(playbook: Any, review: dict[str, Any]) -> None:
    _guarded("pdca_cycle_reviewed", lambda: _cycle_reviewed(playbook, review))


@hookimpl
def pdca_phase_changed(playbook: Any, cycle: int, old: str | None, new: str) -> None:
    _guarded("pdca_phase_changed", lambda: _phase_changed(playbook, cycle, old, new))


@hookimpl
def pdca_task_changed(
    playbook: Any,
    cycle: int,
    task: str,
    old: str | None,
    new: str,
    by: str | None,
    note: str | None,
) -> None:
    _guarded("pdca_task_changed", lambda: _task_changed(playbook, cycle, task, old, new, by, note))
