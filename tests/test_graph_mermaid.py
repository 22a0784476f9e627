"""``pdca graph --format mermaid``: ids that never merge, labels no title can break.

Mermaid's rules: a label in ``["..."]`` ends at the next ``"``; ``#name;`` and
``#123;`` are entity codes; a backtick starts a Markdown string, ``;`` ends a
statement, ``%%`` a comment, and ``<`` HTML. pdca writes labels in quotes with
every such character as an entity code, as the Markdown report does.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pdca.cli import cli
from pdca.report.mermaid import mermaid_ids, mermaid_text

HOSTILE = [
    'a "quoted" title',
    "back`tick`s",
    "less <b>than</b>",
    "hash #1 and #quot; literally",
    "semi; colon",
    "close] bracket [open",
    "pipe | and & amp",
    "comment %% here",
    "braces {{x}} (y)",
    "less <b>than</b> & more",
]

NODE = re.compile(r'^    (n\d+)(\[\("|\(\["|\{\{"|\[")([^"]*)("\)\]|"\]\)|"\}\}|"\])$')
"""A node statement: an id, an opening shape with its quote, a label without a quote, the
matching close. Anything a title smuggled in would fail to match."""
ENTITY = re.compile(r"#(quot|lt|gt|\d+);")


def _decode(label: str) -> str:
    names = {"quot": '"', "lt": "<", "gt": ">"}
    return ENTITY.sub(lambda m: names.get(m[1]) or chr(int(m[1])), label)


def _playbook(tmp_path: Path, more: str = "") -> Path:
    """Two tasks whose ids differ only in punctuation, and one task per hostile title;
    ``more`` adds sections (sources, metrics, objectives) before the tasks."""
    tasks = "".join(
        f"  t{i}: {{title: {json.dumps(title)}, owner: o, depends_on: [a-b]}}\n"
        for i, title in enumerate(HOSTILE)
    )
    path = tmp_path / "playbook.yaml"
    path.write_text(
        "playbook: p\ntitle: P\nowners: {o: {name: O}}\n" + more + "tasks:\n"
        "  a-b: {title: dash, owner: o, estimate: 2d}\n"
        "  a_b: {title: underscore, owner: o, depends_on: [a-b], estimate: 1d}\n" + tasks,
        encoding="utf-8",
    )
    return path


def _nodes(text: str) -> dict[str, str]:
    nodes = {}
    for line in text.splitlines()[1:]:
        if line.startswith("    n") and "-->" not in line and not line.startswith("    class"):
            match = NODE.match(line)
            assert match, f"not a well-formed node statement: {line!r}"
            nodes[match[1]] = match[3]
    return nodes


def test_ids_that_differ_only_in_punctuation_stay_two_nodes(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["graph", str(_playbook(tmp_path)), "--format", "mermaid"])
    assert result.exit_code == 0, result.output
    nodes = _nodes(result.output)
    labels = {_decode(label.split("<br/>")[0]): nid for nid, label in nodes.items()}
    assert labels["dash"] != labels["underscore"]
    assert len(nodes) == 2 + len(HOSTILE)
    edges = {line.strip() for line in result.output.splitlines() if "-->" in line}
    assert f"{labels['dash']} --> {labels['underscore']}" in edges
    assert len(edges) == 1 + len(HOSTILE)  # every hostile task depends on a-b


def test_hostile_titles_are_quoted_labels_that_read_back_as_written(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["graph", str(_playbook(tmp_path)), "--format", "mermaid"])
    nodes = _nodes(result.output)
    titles = set()
    for label in nodes.values():
        title, _, rest = label.partition("<br/>")
        assert rest in ("", "<small>do · o</small>"), label  # the only markup is pdca's own
        for raw in '"`<>;|&':
            assert raw not in ENTITY.sub("", title), (raw, title)
        assert "#" not in ENTITY.sub("", title), title
        titles.add(_decode(title))
    assert set(HOSTILE) <= titles


def test_entity_codes_by_hand() -> None:
    assert mermaid_text('say "hi"') == "say #quot;hi#quot;"
    assert mermaid_text("a#b;c") == "a#35;b#59;c"  # one pass: the code's own ';' stays
    assert mermaid_text("x <y> `z` |w|") == "x #lt;y#gt; #96;z#96; #124;w#124;"
    assert mermaid_text("two\nlines") == "two lines"
    assert mermaid_text(None) == ""
    assert mermaid_ids(["task:a-b", "task:a_b", "task:a-b"]) == {"task:a-b": "n0", "task:a_b": "n1"}
    assert html.unescape("&quot;") == '"'  # mermaid's #quot; is its own spelling, not HTML's


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_critical_path_honours_the_format(tmp_path: Path, fmt: str) -> None:
    """a-b (2d) then a_b (1d) is the longest chain: 3 days, drawn in red."""
    path = _playbook(tmp_path)
    result = CliRunner().invoke(cli, ["graph", str(path), "--format", fmt, "--critical-path"])
    assert result.exit_code == 0, result.output
    if fmt == "mermaid":
        nodes = _nodes(result.output)
        by_title = {_decode(v.split("<br/>")[0]): k for k, v in nodes.items()}
        styled = re.findall(r"^    style (n\d+) stroke:#c0392b", result.output, re.M)
        assert sorted(styled) == sorted([by_title["dash"], by_title["underscore"]])
    else:
        red = [line for line in result.output.splitlines() if "penwidth=3" in line]
        assert [line.split('"')[1] for line in red] == ["task:a-b", "task:a_b"]
    text = CliRunner().invoke(cli, ["graph", str(path), "--critical-path"]).output
    assert text.splitlines()[-1] == "total: 3d over 2 tasks"
