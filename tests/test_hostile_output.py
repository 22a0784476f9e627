"""Output cannot be turned against its reader: no password, no markup, no terminal control.

A playbook, its data and the notes people type are written by others. What
pdca prints from them is read in a terminal, pasted into a wiki or opened in a
browser, so each test here feeds hostile text through the real commands and
greps what comes out:

* state and source URLs, in every form a password can take (``?password=``,
  ``?sslpassword=``, ``?token=``, a password holding ``:`` or an unencoded
  ``@``), are never printed with it: not in messages, not in ``pdca status``,
  not in the HTML or Markdown report;
* ``pdca status --format markdown`` escapes titles and notes as the Markdown
  report does (no HTML, images or ``javascript:`` links);
* the text outputs (status, history, check, report, run, error messages) show
  control characters as escapes: OSC window titles, OSC 52 clipboard writes,
  clear-screen and C1 controls such as U+009B never reach the terminal.

CliRunner runs with ``color=True``: click strips escape sequences from output
that is not a terminal unless asked not to, which would hide the problem.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pdca.cli import cli
from pdca.state.location import redact, redact_url, unencoded_at
from pg_server import fresh_database

# -- passwords ------------------------------------------------------------------------

DEAD = "127.0.0.1:1"  # nothing listens on port 1: the connection is refused at once

# (URL, the secret text that must never be printed), one per form a password takes
SECRET_URLS = [
    (f"postgresql+psycopg://u@{DEAD}/db?password=Qpw1secret", "Qpw1secret"),
    (f"postgresql+psycopg://u@{DEAD}/db?sslmode=disable&pass=Qpw2secret", "Qpw2secret"),
    (f"postgresql+psycopg://u@{DEAD}/db?sslpassword=Qpw3secret&sslmode=require", "Qpw3secret"),
    (f"postgresql+psycopg://u@{DEAD}/db?token=Qpw4secret", "Qpw4secret"),
    (f"postgresql+psycopg://u@{DEAD}/db?api_key=Qpw5secret;access_token=Qpw5b", "Qpw5secret"),
    (f"postgresql+psycopg://u:p@ss:w@rd6@{DEAD}/db", "w@rd6"),
    (f"postgresql+psycopg://u:pa:ss7word@{DEAD}/db", "ss7word"),
    (f"postgresql+psycopg://u:Qpw8%40enc@{DEAD}/db", "Qpw8"),
    (f"postgres://u:Qpw9secret@{DEAD}/db?password=Qpw9other", "Qpw9"),
]


def test_redact_url_hides_every_form_of_password() -> None:
    """Hand-written answers for each form, and text that is no URL left alone."""
    assert redact_url("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact_url("postgresql://u:p@ss:w@rd@h/db") == "postgresql://u:***@h/db"
    assert redact_url("postgresql://u:pa:ss@h/db") == "postgresql://u:***@h/db"
    assert (
        redact_url("postgresql://u@h/db?sslmode=require&password=x&PASSWD=y;pwd=z")
        == "postgresql://u@h/db?sslmode=require&password=***&PASSWD=***;pwd=***"
    )
    assert (
        redact_url("postgresql://u@h/db?sslpassword=a&sslkey=/k&client_secret=b&auth_token=c")
        == "postgresql://u@h/db?sslpassword=***&sslkey=/k&client_secret=***&auth_token=***"
    )
    assert redact_url("postgresql://u@h/db?application_name=desk") == (
        "postgresql://u@h/db?application_name=desk"
    )
    assert redact_url("/srv/pdca/state.db") == "/srv/pdca/state.db"
    assert redact_url("sqlite:////srv/state.db") == "sqlite:////srv/state.db"
    # a driver's message quoting the password or a piece of it read as the host
    url = "postgresql://u:p%40ss@h/db?token=t0ken"
    assert redact("cannot use postgresql://u:p%40ss@h/db?token=t0ken: bad p@ss t0ken", url) == (
        "cannot use postgresql://u:***@h/db?token=***: bad *** ***"
    )
    assert unencoded_at("postgresql://u:p@ss@h/db")
    assert not unencoded_at("postgresql://u:p%40ss@h/db")
    assert not unencoded_at("postgresql://u@h/db?application_name=a@b")


def _leaks(secret: str, *texts: str) -> list[str]:
    return [t for t in texts if secret in t]


@pytest.mark.parametrize(("url", "secret"), SECRET_URLS)
def test_a_state_url_is_never_printed_with_its_password(
    tmp_path: Path, url: str, secret: str
) -> None:
    playbook = _playbook(tmp_path, SOURCE_CSV)
    runner = CliRunner()
    for argv in (
        ["status", str(playbook), "--state", url],
        ["history", str(playbook), "--state", url],
        ["run", str(playbook), "--state", url, "--as-of", "2026-01-11"],
        ["state", "export", str(playbook), "--state", url],
    ):
        result = runner.invoke(cli, argv, color=True)
        assert result.exit_code == 1, (argv, result.output)
        assert "error:" in result.stderr
        assert "Traceback" not in result.output
        assert not _leaks(secret, result.output), (argv, result.output)


@pytest.mark.parametrize(("url", "secret"), SECRET_URLS)
def test_a_source_url_is_never_printed_with_its_password(
    tmp_path: Path, url: str, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In ``pdca check``'s message, and in the HTML and Markdown report that carry it."""
    monkeypatch.setenv("PDCA_TEST_DB", url)
    playbook = _playbook(tmp_path, "{type: sql, url_env: PDCA_TEST_DB, table: t, timestamp: day}")
    runner = CliRunner()
    checked = runner.invoke(cli, ["check", str(playbook), "--as-of", "2026-01-11"], color=True)
    assert checked.exit_code == 1
    assert "source 'scores'" in checked.stderr and "Traceback" not in checked.output
    html, md = tmp_path / "report.html", tmp_path / "report.md"
    for fmt, out in (("html", html), ("markdown", md)):
        made = runner.invoke(
            cli, ["report", str(playbook), "--format", fmt, "-o", str(out), "--as-of", "2026-01-11"]
        )
        assert made.exit_code == 0, made.output
    texts = (checked.output, html.read_text(), md.read_text())
    assert "source &#39;scores&#39;" in texts[1] or "source 'scores'" in texts[1]
    assert "source \\'scores\\'" in texts[2] or "source 'scores'" in texts[2]
    assert not _leaks(secret, *texts)


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[str]:
    yield from fresh_database(pg_url, "hostile")


def test_status_of_a_reachable_store_shows_its_url_without_the_password(
    tmp_path: Path, pg_database: str
) -> None:
    """A real PostgreSQL server (trust authentication takes any password)."""
    playbook = _playbook(tmp_path, SOURCE_CSV)
    url = f"{pg_database}?password=Qpg1secret&sslmode=disable"
    runner = CliRunner()
    ran = runner.invoke(cli, ["run", str(playbook), "--state", url, "--as-of", "2026-01-11"])
    assert ran.exit_code == 0, ran.output
    shown = runner.invoke(
        cli, ["status", str(playbook), "--state", url, "--format", "json", "--as-of", "2026-01-11"]
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["state"].endswith("?password=***&sslmode=disable")
    for fmt in ("text", "markdown"):
        text = runner.invoke(cli, ["status", str(playbook), "--state", url, "--format", fmt])
        assert text.exit_code == 0 and "Qpg1secret" not in text.output
    assert "Qpg1secret" not in shown.output


# -- markup and terminal control ------------------------------------------------------

OSC_TITLE = "\x1b]0;owned\x07"
OSC_CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"
CLEAR = "\x1b[2J"
C1_CSI = "\x9b2J"
HOSTILE_NOTE = f"<img src=x onerror=alert(1)> {OSC_TITLE} [a](javascript:alert(1)) {C1_CSI}"

SOURCE_CSV = "{type: csv, path: data/scores.csv, timestamp: day, comments: comment}"

PLAYBOOK = """\
playbook: desk
title: "Desk <img src=x onerror=alert(1)> [pwn](javascript:alert(1)) ![i](http://e.example/i.png)"
owners:
  maria: {{name: "Maria <b>Lopez</b>"}}
sources:
  scores: {source}
metrics:
  score:
    source: scores
    kpi: mean
    field: score
    baseline: 5
    target: 9
    warn: 7
    window: 7d
    segment_by: team
objectives:
  happy: {{title: "Happy <script>alert(1)</script> | customers", owner: maria, metrics: [score]}}
tasks:
  analyse: {{title: "Analyse [x](javascript:alert(2))", owner: maria, phase: plan}}
cycle: {{start: 2026-01-05, length: 7d}}
"""

# data that carries every kind of control: a segment label, a comment
SCORES = (
    "day,score,team,comment\n"
    f"2026-01-05,4,{OSC_TITLE}north,slow {CLEAR}\n"
    f"2026-01-07,6,south{C1_CSI},ok {OSC_CLIPBOARD}\n"
    "2026-01-09,8,south,fine\n"
)


def _playbook(folder: Path, source: str) -> Path:
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "scores.csv").write_text(SCORES, encoding="utf-8")
    path = folder / "desk.yaml"
    path.write_text(PLAYBOOK.format(source=source), encoding="utf-8")
    return path


def _controls(text: str) -> list[str]:
    """Every control character in ``text`` but the line break: C0, DEL and C1."""
    return sorted({c for c in text if c != "\n" and unicodedata.category(c) == "Cc"})


def _pdca(runner: CliRunner, *argv: str, code: int = 0) -> Result:
    result = runner.invoke(cli, list(argv), color=True)
    assert result.exit_code == code, (argv, result.output)
    return result


@pytest.fixture
def decided(tmp_path: Path) -> Path:
    """A cycle in act: a blocked-then-done task and a decision, with hostile notes."""
    playbook = _playbook(tmp_path, SOURCE_CSV)
    runner = CliRunner()
    pb = str(playbook)
    _pdca(runner, "run", pb, "--as-of", "2026-01-11")
    _pdca(runner, "task", pb, "start", "analyse", "--by", "maria")
    _pdca(runner, "task", pb, "block", "analyse", "--by", "maria", "--note", HOSTILE_NOTE)
    _pdca(runner, "task", pb, "reopen", "analyse", "--by", "maria", "--note", OSC_CLIPBOARD)
    _pdca(runner, "task", pb, "done", "analyse", "--by", "maria", "--note", CLEAR)
    for _ in range(3):  # plan -> do -> check -> act
        _pdca(runner, "run", pb, "--as-of", "2026-01-11")
    _pdca(
        runner, "act", pb, "happy", "--decision", "adjust", "--by", "maria", "--note", HOSTILE_NOTE
    )
    return playbook


def test_status_markdown_escapes_titles_names_and_notes(decided: Path) -> None:
    out = _pdca(
        CliRunner(), "status", str(decided), "--format", "markdown", "--as-of", "2026-01-11"
    ).stdout
    for markup in ("<img", "<script", "<b>"):
        assert markup not in out, markup
    assert "\\| customers" in out and not re.search(r"(?<!\\)\| customers", out)
    # a link or an image needs an unescaped "](" or "!["; every one here is escaped
    assert re.findall(r"(?<!\\)\]\(|(?<!\\)!\[", out) == []
    assert "\\!\\[i\\](http://e.example/i.png)" in out
    assert "Happy &lt;script&gt;alert(1)&lt;/script&gt; \\| customers" in out
    assert "Desk &lt;img src=x onerror=alert(1)&gt; \\[pwn\\](javascript:alert(1))" in out
    lesson = next(line for line in out.splitlines() if line.startswith("- cycle 1, happy"))
    assert lesson.startswith("- cycle 1, happy: **adjust** (maria): &lt;img src=x")
    assert "\\[a\\](javascript:alert(1))" in lesson
    assert _controls(out) == []


def test_text_outputs_show_control_characters_and_never_send_them(decided: Path) -> None:
    runner = CliRunner()
    pb = str(decided)
    outputs = {
        "status": _pdca(runner, "status", pb, "--as-of", "2026-01-11"),
        "history": _pdca(runner, "history", pb),
        "history --task": _pdca(runner, "history", pb, "--task", "analyse"),
        "check": _pdca(runner, "check", pb, "--as-of", "2026-01-11"),
        "report": _pdca(runner, "report", pb, "--format", "text", "-o", "-"),
        "run": _pdca(runner, "run", pb, "--as-of", "2026-01-11"),
    }
    for name, result in outputs.items():
        assert _controls(result.output) == [], (name, result.output)
    # what was written is shown, as escapes a person can read
    assert "\\x1b]0;owned\\x07" in outputs["status"].stdout  # the decision's note
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07" in outputs["history"].stdout  # the reopen note
    assert "\\x1b[2J" in outputs["history"].stdout
    assert "\\x9b2J" in outputs["history"].stdout
    assert "weakest team is '\\x1b]0;owned\\x07north'" in outputs["check"].stdout


def test_error_messages_quoting_data_send_no_control_character(tmp_path: Path) -> None:
    """A data error quotes a column name; it reaches the terminal as escapes."""
    playbook = _playbook(tmp_path, SOURCE_CSV)
    (tmp_path / "data" / "scores.csv").write_text(
        f"day,{OSC_TITLE}points{C1_CSI}\n2026-01-05,4\n", encoding="utf-8"
    )
    result = _pdca(CliRunner(), "check", str(playbook), "--as-of", "2026-01-11", code=1)
    assert _controls(result.output) == []
    assert "\\x1b]0;owned\\x07points\\x9b2J" in result.stderr


# -- what validate refuses ------------------------------------------------------------


def test_validate_refuses_ids_the_store_cannot_hold_and_control_characters(
    tmp_path: Path,
) -> None:
    """At their line, before anything runs; 200 characters is the store's id column."""
    from pdca.state.schema import tasks

    width = tasks.c.task.type.length
    assert width == 200
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\n"
        'title: "Desk\\0"\n'
        "owners:\n"
        f'  {"o" * width}: {{name: "Maria \\e]0;owned\\a"}}\n'
        "tasks:\n"
        f"  {'t' * (width + 1)}: {{title: T, owner: {'o' * width}}}\n"
        f'  ok: {{title: "tab\\there", owner: {"o" * width}, description: "two\\nlines"}}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["validate", str(path)], color=True)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (
        f"{path}:2:8: error: the playbook: 'title' holds the control character '\\x00' "
        "(character 5); remove it: text is stored in the state and shown on terminals, which "
        "would obey it (write a tab or a line break as such)"
    )
    assert any(
        line.startswith(f"{path}:4:212: error: owner '") and "'\\x1b'" in line for line in lines
    )
    assert any(
        line.startswith(f"{path}:6:3: error: task id 'tttt")
        and "(201 characters)' is longer than the 200 characters the state store keeps" in line
        for line in lines
    )
    assert not any("owner id" in line for line in lines)  # 200 characters fit
    assert not any(":7:" in line for line in lines)  # a tab and a line break are text
    assert _controls(result.output) == []


def test_json_outputs_escape_every_control_character_and_keep_the_text(decided: Path) -> None:
    """json escapes C0 itself; DEL and C1 (U+009B, a CSI to a terminal) are escaped too,
    and the document still reads back as the note that was written."""
    runner = CliRunner()
    pb = str(decided)
    status = _pdca(runner, "status", pb, "--format", "json", "--as-of", "2026-01-11")
    history = _pdca(runner, "history", pb, "--format", "json")
    check = _pdca(runner, "check", pb, "--format", "json", "--as-of", "2026-01-11")
    for result in (status, history, check):
        assert _controls(result.output) == []
    assert json.loads(status.stdout)["objectives"]["happy"]["note"] == HOSTILE_NOTE
    assert "\\u009b2J" in status.stdout and "\\u001b]0;owned\\u0007" in status.stdout
    notes = [e["note"] for e in json.loads(history.stdout)["events"]]
    assert HOSTILE_NOTE in notes and OSC_CLIPBOARD in notes
    labels = {s["segment"] for s in json.loads(check.stdout)["metrics"]["score"]["segments"]}
    assert labels == {f"{OSC_TITLE}north", f"south{C1_CSI}", "south"}


def test_a_one_letter_password_is_hidden_in_the_url_without_garbling_the_message() -> None:
    url = "postgresql://u:e@h/db"
    assert redact(f"cannot use {url}: the server refused the connection", url) == (
        "cannot use postgresql://u:***@h/db: the server refused the connection"
    )
