"""The progress line of a long check: on a terminal only, counts only, cleared at the end."""

from __future__ import annotations

import io

import pytest

from pdca.check import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_counts_rewritten_in_place_then_cleared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    out = Terminal()
    line = progress.Progress(3, stream=out)
    line.step(1)
    line.step(2)
    line.close()
    assert out.getvalue() == (
        "\r\x1b[Kpdca check: 1/3 metrics\r\x1b[Kpdca check: 2/3 metrics\r\x1b[K"
    )


def test_a_pipe_sees_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    out = io.StringIO()  # not a terminal
    line = progress.Progress(3, stream=out)
    line.step(1)
    line.close()
    assert out.getvalue() == ""


def test_a_quick_check_prints_nothing_before_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 1e9)  # a check quicker than the delay
    out = Terminal()
    line = progress.Progress(3, stream=out)
    line.step(1)
    line.close()
    assert out.getvalue() == ""
