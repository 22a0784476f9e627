"""Shell completion through click's real protocol, in real processes.

A shell asks ``pdca`` with ``_PDCA_COMPLETE=bash_complete`` (or zsh, fish) and
the words typed so far; pdca answers with the ids of the playbook named earlier
on the line, or of ``./playbook.yaml`` and ``./*.pdca.yaml``. A broken playbook
completes nothing, silently, with exit 0.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FULL = ROOT / "tests" / "data" / "playbooks" / "valid" / "full.yaml"
TASKS = ["analyse-detractors", "coach-agents", "review-effect", "roll-out", "export"]
OWNERS = ["maria", "tom", "ops"]


def complete(cwd: Path, words: str, shell: str = "bash") -> subprocess.CompletedProcess[str]:
    """What the shell's completion function receives for ``words`` (the last one unfinished)."""
    parts = words.split(" ")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMP_")}
    env["_PDCA_COMPLETE"] = f"{shell}_complete"
    env["COMP_WORDS"] = words
    # bash and zsh give the index of the word being completed, fish the unfinished word
    env["COMP_CWORD"] = parts[-1] if shell == "fish" else str(len(parts) - 1)
    return subprocess.run(
        [sys.executable, "-m", "pdca"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def values(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The offered values of a bash answer: one ``type,value`` per line."""
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(FULL, tmp_path / "desk.yaml")
    return tmp_path


def test_task_ids_of_the_playbook_on_the_line(folder: Path) -> None:
    assert values(complete(folder, "pdca task desk.yaml done ")) == TASKS
    assert values(complete(folder, "pdca task desk.yaml done r")) == ["review-effect", "roll-out"]
    assert values(complete(folder, "pdca --no-color task desk.yaml start co")) == ["coach-agents"]


def test_owners_objectives_and_metrics(folder: Path) -> None:
    assert values(complete(folder, "pdca task desk.yaml done export --by ")) == OWNERS
    assert values(complete(folder, "pdca act desk.yaml ")) == ["loyal-customers"]
    assert values(complete(folder, "pdca checkin desk.yaml ")) == ["loyal-customers"]
    assert values(complete(folder, "pdca check desk.yaml --metric ")) == ["nps", "p90_wait"]
    assert values(complete(folder, "pdca exclude desk.yaml ")) == ["nps", "p90_wait"]
    assert values(complete(folder, "pdca rebase desk.yaml p")) == ["p90_wait"]
    assert values(complete(folder, "pdca themes desk.yaml ")) == ["nps", "p90_wait"]
    assert values(complete(folder, "pdca status desk.yaml --owner t")) == ["tom"]
    # in the order the playbook writes them: its objectives come before its tasks
    assert values(complete(folder, "pdca history desk.yaml --task ")) == [
        "loyal-customers",
        *TASKS,
    ]


def test_zsh_and_fish_get_the_titles_as_descriptions(folder: Path) -> None:
    zsh = complete(folder, "pdca act desk.yaml ", "zsh")
    assert zsh.returncode == 0 and zsh.stdout.split("\n")[:3] == [
        "plain",
        "loyal-customers",
        "Customers recommend us",
    ]
    fish = complete(folder, "pdca task desk.yaml done export --by ", "fish")
    assert fish.stdout.splitlines() == [
        "plain,maria\tMaria Lopez",
        "plain,tom\tTom Berg",
        "plain,ops\tSupport operations",
    ]


def test_without_a_playbook_on_the_line_this_folders_playbooks(tmp_path: Path) -> None:
    (tmp_path / "playbook.yaml").write_text(
        "playbook: a\ntitle: A\ntasks: {first: {title: F, owner: o}}\n", encoding="utf-8"
    )
    (tmp_path / "b.pdca.yaml").write_text(
        "playbook: b\ntitle: B\ntasks: {second: {title: S, owner: o}, first: {}}\n",
        encoding="utf-8",
    )
    (tmp_path / "c.yaml").write_text("tasks: {third: {}}\n", encoding="utf-8")  # not a name
    assert values(complete(tmp_path, "pdca history --task ")) == ["first", "second"]


def test_format_values(folder: Path) -> None:
    assert values(complete(folder, "pdca graph desk.yaml --format ")) == [
        "mermaid",
        "dot",
        "text",
        "json",
    ]
    assert values(complete(folder, "pdca report desk.yaml --format m")) == ["markdown"]
    assert values(complete(folder, "pdca status desk.yaml --format ")) == [
        "text",
        "json",
        "markdown",
    ]


@pytest.mark.parametrize(
    "content",
    [
        b"playbook: x\ntitle: [unclosed\ntasks: {a: {}}\n",
        b"tasks: !!python/object/apply:os.system ['echo owned']\n",
        b"\xff\xfe\x00garbage" * 50,
        b"",
        b"- a list\n- not a mapping\n",
        b"tasks: [a, b]\n",
        b"a: &a [*a]\n",
        b"tasks: {'Bad Id': {}, ok: {}, ../x: {}, \"a\\u001b[2J\": {}}\n",
    ],
    ids=["unclosed", "python-tag", "binary", "empty", "list", "tasks-list", "alias", "bad-ids"],
)
def test_a_broken_playbook_completes_nothing_and_says_nothing(
    tmp_path: Path, content: bytes
) -> None:
    (tmp_path / "playbook.yaml").write_bytes(content)
    for words in ("pdca task playbook.yaml done ", "pdca history --task "):
        offered = values(complete(tmp_path, words))
        assert offered in ([], ["ok"]), offered  # only a well-formed id survives
    assert not (tmp_path / "owned").exists()


def test_a_missing_playbook_or_a_folder_completes_nothing(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    assert values(complete(tmp_path, "pdca task missing.yaml done ")) == []
    assert values(complete(tmp_path, "pdca task sub done ")) == []


def test_the_documented_bash_setup_line_completes_in_a_real_bash(folder: Path) -> None:
    """``eval "$(_PDCA_COMPLETE=bash_source pdca)"``, then what bash does on Tab."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "pdca"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pdca "$@"\n', encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    script = (
        'eval "$(_PDCA_COMPLETE=bash_source pdca)"\n'
        "COMP_WORDS=(pdca task desk.yaml done '')\nCOMP_CWORD=4\n"
        "_pdca_completion pdca\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "--norc", "-c", script],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == TASKS
