"""Colour on a terminal, and never where it is not wanted: ``--color``/``--no-color``,
``NO_COLOR``, ``TERM=dumb``, and whether standard output is a terminal, in that order.

Real processes: on a pipe, and on a pseudo-terminal (what a user's shell gives).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pdca_process import pdca

ESC = "\x1b["
BOLD_NAME = "\x1b[1mpdca.builtins.sources\x1b[0m"
"""How ``pdca plugins`` prints the first plugin's name in colour."""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    env["TERM"] = "xterm-256color"
    env.update(extra)
    return env


def on_terminal(cwd: Path, *args: str, env: dict[str, str]) -> str:
    """``python -m pdca ARGS`` with standard output and error on a pseudo-terminal."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pdca", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the process closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ((), {}, True),
        ((), {"NO_COLOR": "1"}, False),
        ((), {"NO_COLOR": ""}, True),  # empty is unset, as no-color.org says
        ((), {"TERM": "dumb"}, False),
        (("--no-color",), {}, False),
        (("--color",), {"TERM": "dumb"}, True),
        (("--color",), {"NO_COLOR": "yes"}, True),
    ],
)
def test_on_a_terminal_the_option_wins_then_no_color_then_term(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], coloured: bool
) -> None:
    out = on_terminal(tmp_path, *args, "plugins", env=_env(**env))
    assert "pdca.builtins.sources" in out
    assert (BOLD_NAME in out) is coloured
    assert (ESC in out) is coloured


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ((), {}, False),
        (("--color",), {}, True),
        (("--color",), {"NO_COLOR": "1", "TERM": "dumb"}, True),
        (("--no-color",), {}, False),
    ],
)
def test_on_a_pipe_colour_only_when_asked_for(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], coloured: bool
) -> None:
    result = pdca(tmp_path, *args, "plugins", env=_env(**env))
    assert result.returncode == 0, result.stderr
    assert (BOLD_NAME in result.stdout) is coloured
    assert (ESC in result.stdout) is coloured


SCORES = "ts,score\n2026-03-05,8\n2026-03-06,4\n2026-03-10,6\n"


def _check_playbook(folder: Path) -> None:
    (folder / "scores.csv").write_text(SCORES)
    (folder / "p.yaml").write_text(
        "playbook: p\ntitle: Scores\n"
        "sources: {s: {type: csv, path: scores.csv, timestamp: ts}}\n"
        "metrics:\n  avg: {source: s, kpi: mean, field: score, target: 7, warn: 5, window: 14d}\n"
        "objectives:\n  o: {title: Good scores, metrics: [avg]}\n"
    )


def test_check_paints_statuses_on_a_terminal_and_not_with_no_color(tmp_path: Path) -> None:
    """The mean of 8, 4 and 6 is 6: at risk (5 <= 6 < 7), in yellow and bold."""
    _check_playbook(tmp_path)
    argv = ("check", "p.yaml", "--as-of", "2026-03-11")
    at_risk = "\x1b[33m\x1b[1mat risk\x1b[0m"
    assert at_risk in on_terminal(tmp_path, *argv, env=_env())
    plain = on_terminal(tmp_path, *argv, env=_env(NO_COLOR="1"))
    assert "at risk" in plain and ESC not in plain
    piped = pdca(tmp_path, "--color", *argv, env=_env())
    assert at_risk in piped.stdout
    dumb = on_terminal(tmp_path, *argv, env=_env(TERM="dumb"))
    assert "at risk" in dumb and ESC not in dumb


def test_status_follows_the_same_rule(tmp_path: Path) -> None:
    _check_playbook(tmp_path)
    argv = ("status", "p.yaml", "--as-of", "2026-03-11")
    painted = on_terminal(tmp_path, *argv, env=_env())
    assert ESC in painted
    for env in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
        assert ESC not in on_terminal(tmp_path, *argv, env=_env(**env))
    assert ESC not in on_terminal(tmp_path, "--no-color", *argv, env=_env())
