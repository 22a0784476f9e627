"""Meta-tests that keep the hook reference and the plugin tutorial honest.

As datasette does for its plugin hooks: every hook in :mod:`pdca.hookspecs`
has a test named after it, and appears in ``docs/plugin-hooks.md`` with its
exact signature. A hook added without both fails here, and so does a docs
entry for a hook that no longer exists. The tutorial's files are extracted
from ``docs/writing-plugins.md`` and run, so its code cannot rot either.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pdca import hookspecs
from pdca.testing import run_check

ROOT = Path(__file__).resolve().parent.parent
HOOK_DOCS = ROOT / "docs" / "plugin-hooks.md"
TUTORIAL = ROOT / "docs" / "writing-plugins.md"
TESTS = Path(__file__).resolve().parent


def hooks() -> dict[str, Callable[..., Any]]:
    return {
        name: func
        for name, func in vars(hookspecs).items()
        if name.startswith("pdca_") and hasattr(func, "pdca_spec")
    }


def signature(func: Callable[..., Any]) -> str:
    """The hook's signature as written in the source (annotations are strings there)."""
    sig = inspect.signature(func)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{func.__name__}({params}) -> {sig.return_annotation}"


HOOKS = sorted(hooks())


def test_hookspecs_are_found() -> None:
    assert len(HOOKS) >= 11
    assert "pdca_cycle_reviewed" in HOOKS
    assert signature(hookspecs.pdca_cycle_reviewed) == (
        "pdca_cycle_reviewed(playbook: Playbook, review: dict[str, Any]) -> None"
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test_named_after_it(hook: str) -> None:
    pattern = re.compile(rf"^def test_{hook}\b", re.MULTILINE)
    found = [p.name for p in TESTS.glob("test_*.py") if pattern.search(p.read_text("utf-8"))]
    assert found, f"no test function named test_{hook} in tests/"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook: str) -> None:
    text = HOOK_DOCS.read_text("utf-8")
    assert re.search(rf"^## {hook}$", text, re.MULTILINE), f"no '## {hook}' heading"
    section = text.split(f"\n## {hook}\n", 1)[1].split("\n## ", 1)[0]
    expected = signature(hooks()[hook])
    assert f"```python\n{expected}\n```" in section, f"signature not shown as: {expected}"
    assert "**When:**" in section and "**Returns:**" in section
    assert section.count("```python") >= 2, "no example after the signature"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_docstring(hook: str) -> None:
    assert (hooks()[hook].__doc__ or "").strip()


def test_docs_document_no_hook_that_does_not_exist() -> None:
    documented = re.findall(r"^## (pdca_\w+)$", HOOK_DOCS.read_text("utf-8"), re.MULTILINE)
    assert sorted(documented) == HOOKS


# -- the tutorial -----------------------------------------------------------------------------

FILE_BLOCK = re.compile(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)\n```\n", re.DOTALL)


def tutorial_files() -> dict[str, str]:
    return {path: body + "\n" for path, body in FILE_BLOCK.findall(TUTORIAL.read_text("utf-8"))}


@pytest.fixture
def tutorial(tmp_path: Path) -> Path:
    for rel, text in tutorial_files().items():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return tmp_path


def test_tutorial_has_every_file_of_its_layout() -> None:
    assert sorted(tutorial_files()) == [
        "README.md",
        "example/data/surveys.csv",
        "example/playbook.yaml",
        "pyproject.toml",
        "src/pdca_weighted/__init__.py",
        "tests/test_weighted.py",
    ]


def test_tutorial_package_declares_its_entry_point(tutorial: Path) -> None:
    project = tomllib.loads((tutorial / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pdca"] == {"pdca-weighted": "pdca_weighted"}
    assert (tutorial / "src" / "pdca_weighted" / "__init__.py").is_file()


def test_tutorial_example_gives_the_value_the_text_says(
    tutorial: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tutorial / "src"))
    monkeypatch.delitem(sys.modules, "pdca_weighted", raising=False)
    try:
        report = run_check(tutorial / "example" / "playbook.yaml", as_of="2026-03-05")
    finally:
        sys.modules.pop("pdca_weighted", None)
    metric = report["metrics"]["weighted-csat"]
    assert (round(metric["value"], 3), metric["n"], metric["status"]) == (4.419, 3, "met")
    assert "**4.419**, from 3 responses" in TUTORIAL.read_text("utf-8")


@pytest.mark.slow
def test_tutorial_tests_pass(tutorial: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tutorial / "src")}
    env.pop("PDCA_DISABLE_PLUGINS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tutorial,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout
