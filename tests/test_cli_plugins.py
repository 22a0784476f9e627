"""``pdca plugins``: every registration with its summary and the options a playbook gives it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pdca.cli import cli

LOCAL = '''\
from types import MappingProxyType

import pdca
from pdca.data.base import SourceType
from pdca.kpi import FunctionKpi


class Spread(FunctionKpi):
    """max minus min of the window's values.

    Only the first line is the summary.
    """

    def __init__(self):
        super().__init__(
            "spread",
            lambda values: max(values) - min(values),
            param_docs={"trim": "values to drop at each end, e.g. 1"},
        )


class Board(SourceType):
    """Cards exported from a task board"""

    name = "board"
    summary = "  A   task board\\n export  "
    option_docs = MappingProxyType({"path": "the export file", "lane": "only this lane"})
    required = ("path",)


@pdca.hookimpl
def pdca_register_kpis(register):
    register(Spread())


@pdca.hookimpl
def pdca_register_source_types(register):
    register(Board())
'''


def _playbook(tmp_path: Path) -> Path:
    (tmp_path / "local_things.py").write_text(LOCAL, encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text("playbook: p\ntitle: T\nplugins: [local_things.py]\n", encoding="utf-8")
    return path


def test_json_gives_summary_options_and_required(tmp_path: Path) -> None:
    path = _playbook(tmp_path)
    result = CliRunner().invoke(cli, ["plugins", "--playbook", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    local = next(p for p in json.loads(result.output) if p["name"] == "local_things")
    assert local["kpis"] == [
        {
            "name": "spread",
            "summary": "max minus min of the window's values.",  # the docstring's first line
            "options": {"trim": "values to drop at each end, e.g. 1"},
            "required": [],
            "requires_field": True,
        }
    ]
    assert local["source_types"] == [
        {
            "name": "board",
            "summary": "A task board export",  # its own summary, spaces made single
            "options": {"path": "the export file", "lane": "only this lane"},
            "required": ["path"],
        }
    ]


def test_builtins_keep_their_keys_and_gain_options() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--format", "json"])
    plugins = {p["name"]: p for p in json.loads(result.output)}
    shell = plugins["pdca.builtins.actions"]["actions"][0]
    assert shell["name"] == "shell" and shell["summary"].startswith("run a shell command")
    assert shell["required"] == ["command"] and "timeout" in shell["options"]
    html = next(r for r in plugins["pdca.builtins.renderers"]["renderers"] if r["name"] == "html")
    assert html["extension"] == "html" and html["options"] == {}
    pct = next(k for k in plugins["pdca.builtins.kpis"]["kpis"] if k["name"] == "percentile")
    assert set(pct["options"]) == {"q"}


def test_text_shows_each_name_its_summary_and_options(tmp_path: Path) -> None:
    path = _playbook(tmp_path)
    text = CliRunner().invoke(cli, ["plugins", "--playbook", str(path)]).output
    block = text[text.index("local_things  (") :].splitlines()[:8]
    assert block[0].startswith("local_things  (") and block[0].endswith("_local_things)")
    assert block[1:] == [
        "  source types: board",
        "    board: A task board export",
        "      path (required): the export file",
        "      lane: only this lane",
        "  kpis: spread",
        "    spread: max minus min of the window's values.",
        "      trim: values to drop at each end, e.g. 1",
    ]
    assert all(len(line) <= 80 for line in text.splitlines())
