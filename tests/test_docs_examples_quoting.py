"""The source-type examples in the docs read a file whose path holds an apostrophe.

They are copied from the pages as written (the first ``python`` block that
defines the class), registered as a plugin, and run through ``pdca check``.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from pdca.testing import run_check

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```python\n(.*?)\n```", re.DOTALL)


def _plugin(page: str, marker: str) -> types.ModuleType:
    code = next(b for b in BLOCK.findall((ROOT / "docs" / page).read_text()) if marker in b)
    module = types.ModuleType(f"doc_{marker.lower()}")
    exec(compile(code, f"docs/{page}", "exec"), module.__dict__)  # the page's own code
    return module


@pytest.mark.parametrize(
    ("page", "marker", "kind", "name", "text"),
    [
        (
            "plugin-hooks.md",
            "class Tsv",
            "tsv",
            "O'Brien's scores.tsv",
            "day\tscore\n2026-03-02\t8\n2026-03-03\t4\n",
        ),
        (
            "sources.md",
            "class ZendeskExport",
            "zendesk",
            "O'Brien's export.json",
            '[{"day": "2026-03-02", "score": 8, "status": "open"},'
            ' {"day": "2026-03-03", "score": 4, "status": "solved"},'
            ' {"day": "2026-03-03", "score": 100, "status": "deleted"}]',
        ),
    ],
)
def test_the_example_reads_a_path_with_an_apostrophe(
    playbook_builder, page: str, marker: str, kind: str, name: str, text: str
) -> None:
    plugin = _plugin(page, marker)
    builder = playbook_builder("desk")
    builder.file(f"data/{name}", text)
    path = (
        builder.source("s", type=kind, path=f"data/{name}", timestamp="day")
        .metric("avg", source="s", kpi="mean", field="score", target=5, window="7d")
        .write()
    )
    report = run_check(path, as_of="2026-03-04", plugins=[plugin])
    avg = report["metrics"]["avg"]
    assert avg["status"] == "met", avg.get("error")
    assert (avg["value"], avg["n"]) == (6.0, 2)  # (8 + 4) / 2; the deleted ticket left out
