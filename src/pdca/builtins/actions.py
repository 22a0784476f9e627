"""Built-in action types: ``shell`` runs a command for an automated task."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from pdca import hookimpl
from pdca.action import ActionContext, ActionResult, ActionType, tail

DEFAULT_TIMEOUT = 3600.0


class ShellAction(ActionType):
    """Runs ``command`` with the system shell in the playbook's folder.

    The command sees PDCA_PLAYBOOK, PDCA_TASK, PDCA_CYCLE and PDCA_AS_OF, so a
    script can label its output; secrets come from the environment pdca runs in,
    never from the playbook.
    """

    name = "shell"
    summary = "run a shell command; success is exit status 0"
    option_docs: ClassVar[Mapping[str, str]] = {
        "command": "the command line, run by /bin/sh in the playbook's folder",
        "timeout": "seconds before the command is stopped and counted as failed (default 3600)",
        "cwd": "folder to run in, relative to the playbook",
        "env": "extra environment variables (values must not be secrets)",
    }
    required = ("command",)

    def check(self, options: Mapping[str, Any]) -> list[tuple[str | None, str]]:
        problems = super().check(options)
        command = options.get("command")
        if command is not None and not isinstance(command, str):
            problems.append(("command", "'command' must be text"))
        timeout = options.get("timeout")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
        ):
            problems.append(("timeout", "'timeout' must be a positive number of seconds"))
        env = options.get("env")
        if env is not None and not isinstance(env, Mapping):
            problems.append(("env", "'env' must be a mapping of NAME: value"))
        return problems

    def run(self, options: Mapping[str, Any], ctx: ActionContext) -> ActionResult:
        env = dict(os.environ)
        env.update({str(k): str(v) for k, v in (options.get("env") or {}).items()})
        env.update(ctx.env)
        env.update(
            PDCA_PLAYBOOK=ctx.playbook_id,
            PDCA_TASK=ctx.task_id,
            PDCA_CYCLE=str(ctx.cycle),
            PDCA_AS_OF=ctx.as_of or "",
        )
        cwd = ctx.cwd / str(options["cwd"]) if options.get("cwd") else ctx.cwd
        timeout = float(options.get("timeout") or DEFAULT_TIMEOUT)
        started = time.monotonic()
        try:
            # Own session so a timeout can end everything the shell started,
            # not only /bin/sh itself.
            proc = subprocess.Popen(
                str(options["command"]),
                shell=True,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            return ActionResult(
                False, None, "", time.monotonic() - started, f"cannot run the command: {exc}"
            )
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            partial = _end_group(proc)
            return ActionResult(
                False,
                None,
                tail(partial.decode("utf-8", "replace")),
                time.monotonic() - started,
                f"stopped after {timeout:g} s (timeout)",
            )
        output = tail(stdout.decode("utf-8", "replace"))
        ok = proc.returncode == 0
        return ActionResult(
            ok,
            proc.returncode,
            output,
            time.monotonic() - started,
            None if ok else f"exit status {proc.returncode}",
        )


def _end_group(proc: subprocess.Popen[bytes]) -> bytes:
    """Ends the command's whole process group: SIGTERM, then SIGKILL after a grace.

    Returns what the command wrote before it was stopped, so the record keeps it.
    """
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            out, _ = proc.communicate(timeout=grace)
            return out or b""
        except subprocess.TimeoutExpired:
            continue
    return b""


@hookimpl
def pdca_register_actions(register: Any) -> None:
    register(ShellAction())
