"""Every command, fed what a user may type, pipe or point it at, answers with an error.

The walk covers each command ``pdca --help`` lists (and the ``state``
subcommands): playbooks that are missing, folders, empty, binary or not
UTF-8; data files that are missing or garbage; dates that do not exist or
that no calendar arithmetic survives; numbers beyond any integer column;
state locations that are not URLs, name no file, or are not databases;
ids nobody defined; output files that cannot be written. Each must end in a
message and exit 1 (an input pdca cannot use) or 2 (a usage error), never the
"internal error" handler and never a traceback. A test checks that the walk
covers every command, so a new command joins it or fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pdca.cli import cli

PLAYBOOK = """\
playbook: desk
title: Support desk
owners:
  maria: {name: Maria Lopez}
  tom: {name: Tom Becker}
sources:
  scores: {type: csv, path: data/scores.csv, timestamp: day, comments: comment}
metrics:
  score: {source: scores, kpi: mean, field: score, baseline: 5, target: 9, warn: 7, window: 7d}
objectives:
  happy: {title: Happy customers, owner: maria, metrics: [score]}
tasks:
  export:
    title: Export the survey data
    owner: tom
    phase: plan
    action: {type: shell, command: "echo exported"}
  analyse: {title: Analyse, owner: maria, phase: plan, depends_on: [export]}
  coach: {title: Coach agents, owner: tom, objective: happy, depends_on: [analyse]}
cycle: {start: 2026-01-05, length: 7d}
"""

SCORES = """\
day,score,comment
2026-01-05,4,slow answer
2026-01-07,6,slow answer again
2026-01-09,8,friendly
"""

GARBAGE = bytes(range(256)) * 4
BAD_DATES = ["2026-02-30", "banana", "9999-12-31", "0001-01-01", "99999-01-01", ""]
HUGE = "99999999999999999999999"
BAD_STATES = [
    "postgresql+psycopg://u:secret@[::1",
    "postgresql+psycopg://u@host:99999/db",
    "postgresql+nodriver://u@host/db",
    "sqlite://",
    "sqlite:///:memory:",
    "mysql://u@host/db",
    "@@@://",
    "{garbage}",
    "{empty_dir}/sub\x00name",
    "x" * 5000,
]


@dataclass(frozen=True)
class Workspace:
    root: Path
    playbook: Path
    state: Path

    def fill(self, text: str) -> str:
        return text.format(
            pb=self.playbook,
            root=self.root,
            missing=self.root / "missing.yaml",
            folder=self.root / "folder.yaml",
            empty=self.root / "empty.yaml",
            garbage=self.root / "garbage.bin",
            latin1=self.root / "latin1.yaml",
            nodata=self.root / "nodata" / "playbook.yaml",
            baddata=self.root / "baddata" / "playbook.yaml",
            empty_dir=self.root / "empty-dir",
            state_json=self.root / "export.json",
        )


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("hostile")
    (root / "data").mkdir()
    (root / "data" / "scores.csv").write_text(SCORES, encoding="utf-8")
    playbook = root / "playbook.yaml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    (root / "folder.yaml").mkdir()
    (root / "empty.yaml").write_bytes(b"")
    (root / "garbage.bin").write_bytes(GARBAGE)
    (root / "latin1.yaml").write_bytes("playbook: d\ntitle: Caf\xe9\n".encode("latin-1"))
    (root / "empty-dir").mkdir()
    for name, data in (("nodata", None), ("baddata", GARBAGE)):
        (root / name).mkdir()
        (root / name / "playbook.yaml").write_text(PLAYBOOK, encoding="utf-8")
        if data is not None:
            (root / name / "data").mkdir()
            (root / name / "data" / "scores.csv").write_bytes(data)
    runner = CliRunner()
    opened = runner.invoke(cli, ["run", str(playbook), "--as-of", "2026-01-05"])
    assert opened.exit_code == 0, opened.output
    exported = runner.invoke(cli, ["state", "export", str(playbook), "-o", str(root / "x.json")])
    assert exported.exit_code == 0, exported.output
    shutil.move(root / "x.json", root / "export.json")
    yield Workspace(root, playbook, root / ".pdca" / "state.db")


# -- the cases: (command words, arguments) -------------------------------------------------

PLAYBOOK_COMMANDS = {
    "validate": [],
    "validate --data": [],
    "graph": [],
    "check": ["--as-of", "2026-01-11"],
    "run": ["--as-of", "2026-01-05"],
    "status": [],
    "digest": [],
    "history": [],
    "report": ["--format", "json"],
    "themes": ["score", "--as-of", "2026-01-11"],
    "task": ["start", "analyse", "--by", "maria"],
    "act": ["happy", "--decision", "adjust", "--note", "n", "--by", "maria"],
    "state backup": ["-o", "{root}/backup.db"],
    "state export": [],
    "state import": ["{state_json}", "--replace"],
    "plugins --playbook": [],
    "exclude": ["score", "2026-W01", "--reason", "outage", "--by", "maria"],
    "include": ["score", "2026-W01", "--reason", "back", "--by", "maria"],
    "rebase": ["score", "--on", "2026-01-05", "--reason", "new rota", "--by", "maria"],
    "checkin": ["happy", "--confidence", "7", "--note", "on track", "--by", "maria"],
}
"""Commands that take a playbook, with arguments that work on the good one."""

BAD_PLAYBOOKS = [
    "{missing}",
    "{folder}",
    "{empty}",
    "{garbage}",
    "{latin1}",
    "{nodata}",
    "{baddata}",
]

READ_DATA = ["validate --data", "check", "themes"]
"""Commands that read the data now; ``run`` and ``report`` measure only when the cycle
enters check (the walk's cycle is in plan)."""
AS_OF_COMMANDS = ["validate --data", "check", "run", "status", "digest", "report", "themes"]
STATE_COMMANDS = [
    "run",
    "status",
    "digest",
    "history",
    "report",
    "task",
    "act",
    "state backup",
    "state export",
    "state import",
    "exclude",
    "rebase",
    "checkin",
]


def _argv(ws: Workspace, words: str, args: list[str], playbook: str = "{pb}") -> list[str]:
    head = [*words.split(), ws.fill(playbook)] if playbook else words.split()
    return [*head, *(ws.fill(a) for a in args)]


def _label(text: str) -> str:
    return text.replace("{", "").replace("}", "").replace("\x00", "NUL")


def _cases() -> Iterator[tuple[str, str, list[str], str]]:
    """(test id, command words, arguments, playbook placeholder)."""
    for words, args in PLAYBOOK_COMMANDS.items():
        for bad in BAD_PLAYBOOKS:
            if bad in ("{nodata}", "{baddata}") and words not in READ_DATA:
                continue  # the others do not read the data: a good playbook there is fine
            yield f"{words}:{_label(bad)}", words, args, bad
    for words in AS_OF_COMMANDS:
        for bad in BAD_DATES:
            args = [a for a in PLAYBOOK_COMMANDS[words]]
            if "--as-of" in args:
                i = args.index("--as-of")
                del args[i : i + 2]
            yield f"{words}:as-of={bad or 'blank'}", words, [*args, "--as-of", bad], "{pb}"
    for words in STATE_COMMANDS:
        for bad in BAD_STATES:
            label = _label(bad[:30])
            args = [*PLAYBOOK_COMMANDS[words], "--state", bad]
            yield f"{words}:state={label}", words, args, "{pb}"
    numbers = {
        "history": [["--cycle", "99999999999"], ["--cycle", "-1"], ["--limit", HUGE]],
        "report": [["--cycle", "99999999999"], ["--cycle", HUGE]],
        "themes": [
            ["score", "--top", HUGE],
            ["score", "--min-count", HUGE],
            ["score", "--days", HUGE],
            ["score", "--days", "99999999"],
            ["score", "--min-z", "nan"],
            ["score", "--min-z", "inf"],
        ],
    }
    for words, variants in numbers.items():
        for args in variants:
            yield f"{words}:{'='.join(args[-2:])}", words, args, "{pb}"
    unknown = {
        "task": [["start", "nope", "--by", "maria"], ["start", "analyse", "--by", "nobody"]],
        "act": [
            ["nope", "--decision", "adjust", "--note", "n", "--by", "maria"],
            ["happy", "--decision", "adjust", "--note", "n", "--by", "nobody"],
        ],
        "themes": [["nope"], ["score", "--comments", "nope"], ["score", "--by", "nope"]],
        "check": [["--metric", "nope"]],
        "status": [["--owner", "nobody"]],
        "digest": [["--owner", "nobody"], ["--since", "2026-02-30"], ["--since", "9999-12-31"]],
        "history": [["--task", "nope"]],
        "report": [["--format", "nope"]],
        "exclude": [
            ["nope", "2026-W01", "--reason", "r", "--by", "maria"],
            ["score", "2026-13", "--reason", "r", "--by", "maria"],
            ["score", "2026-W60", "--reason", "r", "--by", "maria"],
            ["score", "2099-W01", "--reason", "r", "--by", "maria"],
            ["score", "2026-W01", "--reason", " ", "--by", "maria"],
            ["score", "2026-W01", "--reason", "r", "--by", "nobody"],
            ["score", "2026-W01", "--reason", "r", "--by", "tom"],
        ],
        "include": [["score", "2025-W40", "--reason", "r", "--by", "maria"]],
        "checkin": [
            ["nope", "--confidence", "7", "--note", "n", "--by", "maria"],
            ["happy", "--confidence", "0", "--note", "n", "--by", "maria"],
            ["happy", "--confidence", "7", "--note", " ", "--by", "maria"],
            ["happy", "--confidence", "7", "--note", "n", "--by", "tom"],
            ["happy", "--confidence", "7", "--note", "n", "--by", "maria", "--on", "2999-01-01"],
        ],
        "rebase": [
            ["nope", "--on", "2026-01-05", "--reason", "r", "--by", "maria"],
            ["score", "--on", "2026-02-30", "--reason", "r", "--by", "maria"],
            ["score", "--on", "2099-01-05", "--reason", "r", "--by", "maria"],
            ["score", "--on", "2026-01-05", "--reason", "r", "--by", "maria", "--remove"],
        ],
    }
    for words, variants in unknown.items():
        for args in variants:
            yield f"{words}:unknown={'_'.join(args[:2])}", words, args, "{pb}"
    outputs = {
        "report": ["--format", "html", "-o"],
        "state export": ["-o"],
        "state backup": ["-o"],
    }
    for words, args in outputs.items():
        for target in ("{empty_dir}", "{garbage}/inside"):
            yield f"{words}:output={_label(target)}", words, [*args, target], "{pb}"
    imports = ["{missing}", "{folder}", "{empty}", "{garbage}", "{latin1}", "{pb}"]
    for source in imports:
        yield f"state import:file={_label(source)}", "state import", [source, "--replace"], "{pb}"
    # commands without a playbook argument: the first word is the command, the rest as typed
    for target in ("{empty_dir}", "{garbage}/inside"):
        yield f"schema:output={_label(target)}", "schema", ["-o", target], ""
    for target in ("{garbage}", "{garbage}/inside", "{pb}"):
        yield f"schema:vscode={_label(target)}", "schema", ["--vscode", "--root", target], ""
    for target in ("{garbage}", "{garbage}/inside", "{pb}"):
        yield f"demo:folder={_label(target)}", "demo", [target], ""
    for label, args in (
        ("bad-name", ["Bad Name", "--kind", "kpi", "--dir", "{empty_dir}"]),
        ("dot-dot", ["../up", "--kind", "kpi", "--dir", "{empty_dir}"]),
        ("bad-kind", ["pdca-x", "--kind", "nope", "--dir", "{empty_dir}"]),
        ("dir-is-file", ["pdca-x", "--kind", "kpi", "--dir", "{garbage}"]),
        ("dir-inside-file", ["pdca-x", "--kind", "kpi", "--dir", "{garbage}/inside"]),
        ("exists", ["data", "--kind", "source", "--dir", "{root}"]),
    ):
        yield f"plugins new:{label}", "plugins new", args, ""


CASES = list(_cases())


def _ok(result: click.testing.Result) -> str | None:
    """Why a result is not a clean refusal, or None when it is."""
    text = result.output
    if result.exit_code not in (1, 2):
        return f"exit {result.exit_code}"
    if "internal error" in text or "Traceback" in text:
        return "internal error"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return f"raised {type(result.exception).__name__}: {result.exception}"
    if not text.strip():
        return "no message"
    return None


@pytest.mark.parametrize(
    ("words", "args", "playbook"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_hostile_input_is_refused_with_a_message(
    ws: Workspace, words: str, args: list[str], playbook: str
) -> None:
    argv = _argv(ws, words, args, playbook)
    result = CliRunner().invoke(cli, argv)
    problem = _ok(result)
    assert problem is None, f"pdca {' '.join(argv)!r}: {problem}\n{result.output}"


def test_the_walk_covers_every_command() -> None:
    walked = {c[1].split()[0] for c in CASES}
    assert walked >= set(cli.list_commands(click.Context(cli)))
    state_group = cli.get_command(click.Context(cli), "state")
    assert isinstance(state_group, click.Group)
    walked_state = {c[1].split()[1] for c in CASES if c[1].startswith("state ")}
    assert walked_state == set(state_group.list_commands(click.Context(state_group)))


def test_a_bad_state_in_the_environment_names_the_variable_value(ws: Workspace) -> None:
    result = CliRunner().invoke(cli, ["status", str(ws.playbook)], env={"PDCA_STATE": "sqlite://"})
    assert result.exit_code == 1
    assert result.output.startswith("error: state URL 'sqlite://' names no file")


def test_postgres_state_without_the_driver_says_what_to_install(
    ws: Workspace, tmp_path: Path
) -> None:
    """A real process in which psycopg cannot be imported, as after a plain pip install pdca."""
    (tmp_path / "psycopg.py").write_text(
        'raise ModuleNotFoundError("No module named \'psycopg\'", name="psycopg")\n'
    )
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    for url in ("postgresql://team@db.example.com/pdca", "postgresql+psycopg://u:pw@db/pdca"):
        proc = subprocess.run(
            [sys.executable, "-m", "pdca", "history", str(ws.playbook), "--state", url],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": path},
            timeout=120,
        )
        assert proc.returncode == 1, proc.stderr
        assert "pip install 'pdca[postgres]'" in proc.stderr
        assert "No module named 'psycopg'" in proc.stderr
        assert "pw" not in proc.stderr  # the password is not printed
        assert "Traceback" not in proc.stderr


def test_export_to_a_pipe_writes_into_it_and_leaves_it_a_pipe(
    ws: Workspace, tmp_path: Path
) -> None:
    """``-o /dev/stdout`` or a FIFO: replacing it by a renamed temporary file would
    remove the device (as root, /dev/stdout itself)."""
    fifo = tmp_path / "state.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = CliRunner().invoke(cli, ["state", "export", str(ws.playbook), "-o", str(fifo)])
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(received[0])["playbook"] == "desk"
    refused = CliRunner().invoke(cli, ["state", "backup", str(ws.playbook), "-o", str(fifo)])
    assert refused.exit_code == 1
    assert "is not a regular file" in refused.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["check", "{pb}", "--as-of", "9999-12-31"], 1, "--as-of 9999-12-31 is out of range"),
        (["check", "{pb}", "--as-of", "0001-01-01"], 1, "--as-of 0001-01-01 is out of range"),
        (["check", "{pb}", "--as-of", "2026-02-30"], 2, "'2026-02-30' is not a date"),
        (["history", "{pb}", "--cycle", "99999999999"], 1, "--cycle 99999999999 is out of range"),
        (["history", "{pb}", "--cycle", "0"], 2, "0 is not in the range x>=1"),
        (["history", "{pb}", "--cycle", "two"], 2, "'two' is not a whole number"),
    ],
)
def test_a_value_out_of_range_is_an_input_error_and_one_that_does_not_parse_is_usage(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    """Exit 1 (like any input pdca cannot act on) for a well-formed value it cannot use,
    exit 2 (usage) for one that is not a date or a number at all."""
    pb = tmp_path / "playbook.yaml"
    pb.write_text("playbook: p\ntitle: P\n", encoding="utf-8")
    result = CliRunner().invoke(cli, [a.format(pb=pb) for a in args])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
