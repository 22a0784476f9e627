"""Editors that understand playbooks: the modeline in the examples, ``pdca schema --vscode``.

SchemaStore maps ``playbook.yaml`` to Ansible; the YAML language server obeys
a first-line modeline and a workspace's ``yaml.schemas`` before SchemaStore.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pdca.cli import cli
from pdca.examples.generate import install_example
from pdca.playbook.schema import MODELINE, SCHEMA_FILE, schema_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "playbooks").glob("*/playbook.yaml"))
BUNDLED = sorted((ROOT / "src" / "pdca" / "examples").glob("*/playbook.yaml"))


@pytest.mark.parametrize("path", [*EXAMPLES, *BUNDLED], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_starts_with_the_modeline(path: Path) -> None:
    assert path.read_text(encoding="utf-8").splitlines()[0] == (
        "# yaml-language-server: $schema=playbook.schema.json"
    )
    assert MODELINE == "# yaml-language-server: $schema=playbook.schema.json"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_the_schema_beside_each_example_is_the_current_one(path: Path) -> None:
    """Regenerate with ``pdca schema -o playbooks/NAME/playbook.schema.json``."""
    assert (path.parent / SCHEMA_FILE).read_text(encoding="utf-8") == schema_text()


def test_an_installed_example_gets_its_schema(tmp_path: Path) -> None:
    playbook = install_example(tmp_path / "desk")
    assert playbook.read_text(encoding="utf-8").startswith(MODELINE + "\n")
    assert (playbook.parent / SCHEMA_FILE).read_text(encoding="utf-8") == schema_text()


def _workspace(tmp_path: Path) -> Path:
    (tmp_path / "teams" / "desk").mkdir(parents=True)
    (tmp_path / "teams" / "desk" / "playbook.yaml").write_text("playbook: d\ntitle: D\n")
    (tmp_path / "q3.pdca.yaml").write_text("playbook: q\ntitle: Q\n")
    (tmp_path / ".git" / "x").mkdir(parents=True)
    (tmp_path / ".git" / "x" / "playbook.yaml").write_text("not: ours\n")  # hidden: skipped
    (tmp_path / "ansible").mkdir()
    return tmp_path


def _vscode(root: Path, *extra: str) -> object:
    return CliRunner().invoke(cli, ["schema", "--vscode", "--root", str(root), *extra])


def test_vscode_merges_into_the_users_settings_and_keeps_them(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    (root / ".vscode").mkdir()
    settings = root / ".vscode" / "settings.json"
    settings.write_text(
        json.dumps(
            {
                "editor.tabSize": 2,
                "yaml.schemas": {
                    "https://example.com/k8s.json": "/k8s/*.yaml",
                    "./.vscode/pdca-playbook.schema.json": ["/extra/mine.yaml"],
                },
                "files.exclude": {"**/.pdca": True},
            }
        )
    )
    result = _vscode(root)
    assert result.exit_code == 0, result.output
    data = json.loads(settings.read_text())
    assert list(data) == ["editor.tabSize", "yaml.schemas", "files.exclude"]
    assert data["editor.tabSize"] == 2 and data["files.exclude"] == {"**/.pdca": True}
    assert data["yaml.schemas"] == {
        "https://example.com/k8s.json": "/k8s/*.yaml",
        "./.vscode/pdca-playbook.schema.json": [
            "/extra/mine.yaml",  # the user's own glob stays first
            "/teams/desk/playbook.yaml",  # this one only: not every playbook.yaml (Ansible)
            "**/*.pdca.yaml",
        ],
    }
    assert (root / ".vscode" / "pdca-playbook.schema.json").read_text() == schema_text()
    assert "maps 2 playbooks" in result.output
    before = settings.read_bytes()
    assert _vscode(root).exit_code == 0
    assert settings.read_bytes() == before  # a second run changes nothing


def test_vscode_in_a_fresh_folder_creates_the_settings(tmp_path: Path) -> None:
    result = _vscode(tmp_path)
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / ".vscode" / "settings.json").read_text())
    assert data == {"yaml.schemas": {"./.vscode/pdca-playbook.schema.json": ["**/*.pdca.yaml"]}}


@pytest.mark.parametrize(
    ("text", "where", "why"),
    [
        ('{\n    // my comment\n    "a": 1\n}\n', ":2:5: error: not plain JSON", "comments"),
        ('{"a": 1,}\n', ":1:9: error: not plain JSON", "comments"),
        ("[1, 2]\n", ":1:1: error: settings must be a JSON object", "object"),
        ('{"yaml.schemas": ["x"]}', ":1:1: error: 'yaml.schemas' must be an object", "object"),
        (
            '{"yaml.schemas": {"./.vscode/pdca-playbook.schema.json": 3}}',
            ":1:1: error: 'yaml.schemas' maps ./.vscode/pdca-playbook.schema.json",
            "globs",
        ),
    ],
    ids=["comment", "trailing-comma", "array", "schemas-list", "entry-number"],
)
def test_vscode_refuses_a_settings_file_it_cannot_rewrite_faithfully(
    tmp_path: Path, text: str, where: str, why: str
) -> None:
    root = _workspace(tmp_path)
    (root / ".vscode").mkdir()
    settings = root / ".vscode" / "settings.json"
    settings.write_text(text)
    result = _vscode(root)
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "internal error" not in result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{settings}{where}"), first
    assert why in first
    entry = json.loads("\n".join(result.stderr.splitlines()[1:]))  # what to add by hand
    assert entry["yaml.schemas"]["./.vscode/pdca-playbook.schema.json"][-1] == "**/*.pdca.yaml"
    assert settings.read_text() == text  # untouched
    assert not (root / ".vscode" / "pdca-playbook.schema.json").exists()


def test_vscode_and_output_together_is_a_usage_error(tmp_path: Path) -> None:
    result = _vscode(tmp_path, "-o", str(tmp_path / "s.json"))
    assert result.exit_code == 2 and "either --vscode or -o" in result.output


def test_vscode_on_an_unwritable_or_odd_place_says_so(tmp_path: Path) -> None:
    (tmp_path / ".vscode").write_text("a file where the folder goes")
    result = _vscode(tmp_path)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: ") and "Traceback" not in result.output
