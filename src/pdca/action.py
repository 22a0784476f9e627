"""The contract for action plugins: what automated tasks run.

An automated task names an action type (``shell`` is built in). The engine
calls ``run`` when the task is ready, records the result, and retries a failed
run up to the task's ``retries``. Actions should be idempotent where they can:
after a crash the engine reruns a task whose result it never recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

OUTPUT_TAIL = 4000
"""Characters of output kept per run: enough to see the error, small enough to store."""


@dataclass(frozen=True)
class ActionContext:
    """Where and for what an action runs."""

    playbook_id: str
    task_id: str
    cycle: int
    cwd: Path
    as_of: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    on_process: Callable[[int], None] | None = None
    """Call it with the process group id of a command the action starts (in a session
    of its own): pdca records it, so a later run can end the group should pdca be
    killed while it runs. None when nobody listens."""


@dataclass(frozen=True)
class ActionResult:
    """The outcome of one run."""

    ok: bool
    exit_code: int | None = None
    output: str = ""
    duration: float = 0.0
    error: str | None = None


def tail(text: str, limit: int = OUTPUT_TAIL) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]


_UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters but newline and tab (C0, DEL, C1), and lone surrogates."""


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    return "\ufffd" if char >= "\ud800" else f"\\x{ord(char):02x}"


def storable(text: str) -> str:
    """``text`` as every state backend stores and exports it faithfully.

    PostgreSQL refuses NUL in text, an export refuses it too, and a terminal
    acts on escape sequences; so carriage returns become newlines and every
    other control character but newline and tab is written out as ``\\xNN``
    (an ESC shows as ``\\x1b``). A lone surrogate, which no UTF-8 encoder takes,
    becomes U+FFFD.
    """
    if not _UNSTORABLE.search(text):
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSTORABLE.sub(_visible, text)


class ActionType:
    """Base of every action plugin. Subclasses set ``name``, ``summary``, ``option_docs``."""

    name: str = ""
    summary: str = ""
    option_docs: ClassVar[Mapping[str, str]] = {}
    required: tuple[str, ...] = ()

    def check(self, options: Mapping[str, Any]) -> list[tuple[str | None, str]]:
        """Problems with the task's ``action`` options, found by ``pdca validate``."""
        problems: list[tuple[str | None, str]] = []
        for key in self.required:
            if options.get(key) in (None, ""):
                problems.append((None, f"action type '{self.name}' needs '{key}'"))
        for key in options:
            if key not in self.option_docs:
                known = ", ".join(sorted(self.option_docs)) or "none"
                problems.append(
                    (key, f"action type '{self.name}' has no option '{key}' (known: {known})")
                )
        return problems

    def run(self, options: Mapping[str, Any], ctx: ActionContext) -> ActionResult:
        raise NotImplementedError
