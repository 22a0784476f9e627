"""Built-in action types: ``shell`` runs a command for an automated task."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from pdca import hookimpl
from pdca.action import OUTPUT_TAIL, ActionContext, ActionResult, ActionType, tail
from pdca.builtins.processes import run_in_group

DEFAULT_TIMEOUT = 3600.0
OUTPUT_TAIL_BYTES = OUTPUT_TAIL * 4
"""Bytes of output kept while the command runs: the stored characters at up to 4 bytes each."""


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
            done = run_in_group(
                str(options["command"]),
                cwd=cwd,
                env=env,
                timeout=timeout,
                keep=OUTPUT_TAIL_BYTES,
                on_start=ctx.on_process,
            )
        except OSError as exc:
            return ActionResult(
                False, None, "", time.monotonic() - started, f"cannot run the command: {exc}"
            )
        took = time.monotonic() - started
        output = done.output
        if done.leftovers:
            count = len(done.leftovers)
            if output and not output.endswith("\n"):
                output += "\n"
            output += (
                f"[pdca: the command exited and left {count} "
                f"process{'es' if count > 1 else ''} running in its group "
                f"({', '.join(map(str, done.leftovers))}); pdca ended "
                f"{'them' if count > 1 else 'it'}]"
            )
        if done.timed_out:
            return ActionResult(
                False, None, tail(output), took, f"stopped after {timeout:g} s (timeout)"
            )
        ok = done.returncode == 0
        return ActionResult(
            ok,
            done.returncode,
            tail(output),
            took,
            None if ok else f"exit status {done.returncode}",
        )


@hookimpl
def pdca_register_actions(register: Any) -> None:
    register(ShellAction())
