"""``pdca plugins new``: from an empty folder to an installed plugin whose tests pass.

Each kind is made with the real command, pip-installed (no network: no index,
no build isolation) into a fresh virtual environment that sees pdca and its
dependencies, found by pdca through its entry point, and its own generated
tests run there, green, as an integrator would run them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

from pdca.cli import cli
from pdca_process import pdca

ROOT = Path(__file__).resolve().parent.parent
KINDS = {
    "kpi": ("kpis", "my_kpi"),
    "source": ("source_types", "my_source"),
    "renderer": ("renderers", "my_renderer"),
    "action": ("actions", "my_action"),
}


def _run(argv: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{argv}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh environment that sees this checkout's pdca and the installed dependencies.

    A ``.pth`` file plays the part of ``pip install pdca`` (which needs a newer
    setuptools than an offline environment has): this checkout's ``src`` first,
    then the site-packages pdca's dependencies and its entry points are in.
    """
    root = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", root / "env"], root, dict(os.environ))
    env_python = root / "env" / "bin" / "python"
    site = _run(
        [env_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        root,
        dict(os.environ),
    ).stdout.strip()
    here = sysconfig.get_paths()["purelib"]
    (Path(site) / "pdca-checkout.pth").write_text(f"{ROOT / 'src'}\n{here}\n", encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PDCA_DEBUG")}
    clean["PATH"] = f"{root / 'env' / 'bin'}{os.pathsep}{clean.get('PATH', '')}"
    clean["PIP_NO_INDEX"] = "1"
    clean["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env_python, clean


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_installs_is_found_and_passes_its_own_tests(
    tmp_path: Path, venv: tuple[Path, dict[str, str]], kind: str
) -> None:
    python, env = venv
    made = pdca(tmp_path, "plugins", "new", f"pdca-my-{kind}", "--kind", kind)
    assert made.returncode == 0, made.stderr
    package = tmp_path / f"pdca-my-{kind}"
    assert sorted(str(p.relative_to(package)) for p in package.rglob("*") if p.is_file()) == [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        f"src/pdca_my_{kind}/__init__.py",
        f"tests/test_pdca_my_{kind}.py",
    ]
    pip = [python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q"]
    _run([*pip, package], tmp_path, env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = json.loads(
        _run([python, "-m", "pdca", "plugins", "--format", "json"], elsewhere, env).stdout
    )
    entry = next(p for p in listed if p["name"] == f"pdca-my-{kind}")
    table, name = KINDS[kind]
    assert entry["module"] == f"pdca_my_{kind}"
    assert [r["name"] for r in entry[table]] == [name]
    assert entry[table][0]["summary"]
    checked = _run([python, "-m", "pdca", "plugins", "--check"], elsewhere, env)
    assert checked.stdout.startswith("ok: ")
    tests = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], package, env)
    assert " passed" in tests.stdout and "failed" not in tests.stdout
    ruff = Path(sys.executable).with_name("ruff")  # the dev extra's, beside this Python
    if ruff.exists():  # generated code is as tidy as pdca's own
        _run([ruff, "check", "-q", "."], package, env)
        _run([ruff, "format", "--check", "-q", "."], package, env)


def test_it_refuses_to_overwrite_and_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "pdca-survey").mkdir()
    (tmp_path / "pdca-survey" / "mine.txt").write_text("keep me")
    result = CliRunner().invoke(
        cli, ["plugins", "new", "pdca-survey", "--kind", "kpi", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "already exists" in result.output and "Traceback" not in result.output
    assert [p.name for p in (tmp_path / "pdca-survey").iterdir()] == ["mine.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["pdca-survey"]  # no temporary left over


def test_an_empty_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / "survey").mkdir()
    result = CliRunner().invoke(
        cli, ["plugins", "new", "survey", "--kind", "source", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "survey" / "src" / "survey" / "__init__.py").read_text()
    assert 'name = "survey"' in text and "class Survey(SourceType):" in text
    pyproject = (tmp_path / "survey" / "pyproject.toml").read_text()
    assert '[project.entry-points.pdca]\nsurvey = "survey"' in pyproject


@pytest.mark.parametrize(
    "name",
    ["Bad", "has space", "../up", "_x", "x-", "a--b", "1st", "", "class", "pdca", "x" * 61],
)
def test_a_name_that_cannot_be_a_package_is_refused(tmp_path: Path, name: str) -> None:
    result = CliRunner().invoke(
        cli, ["plugins", "new", name, "--kind", "kpi", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_names_by_hand() -> None:
    from pdca.plugins.scaffold import names_for

    n = names_for("pdca-ticket-age")
    assert (n.dist, n.module, n.name, n.cls) == (
        "pdca-ticket-age",
        "pdca_ticket_age",
        "ticket_age",
        "TicketAge",
    )
