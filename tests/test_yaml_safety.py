"""YAML safety: no Python objects, bounded aliases, bounded size, bounded nesting.

A playbook is written by people, checked into repositories and run by cron; a
hostile or broken one must get an error, never run code, never exhaust memory
and never take the process down.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pdca.cli import cli
from pdca.errors import PlaybookError
from pdca.playbook import build, inspect, load_checked, loader

PAYLOADS = [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/apply:subprocess.check_call [['touch', '{marker}']]",
    '!!python/object/apply:builtins.exec [\'open("{marker}", "w")\']',
    '!!python/object/apply:builtins.eval [\'open("{marker}", "w")\']',
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/object:subprocess.Popen {{args: ['touch', '{marker}']}}",
    "!!python/name:os.system ''",
    "!!python/module:os ''",
    "!!python/object/apply:os.system\n      - touch {marker}",
]

PLACES = {
    "title": "playbook: p\ntitle: {payload}\n",
    "entry": "playbook: p\ntitle: T\nowners:\n  o: {payload}\n",
    "plugin option": (
        "playbook: p\ntitle: T\nsources:\n  s:\n    type: csv\n    path: s.csv\n"
        "    extra: {payload}\n"
    ),
    "kpi params": (
        "playbook: p\ntitle: T\nsources: {{s: {{type: csv, path: s.csv}}}}\nmetrics:\n"
        "  m:\n    source: s\n    kpi: percentile\n    field: x\n    target: 1\n"
        "    params:\n      q: {payload}\n"
    ),
    "action option": (
        "playbook: p\ntitle: T\nowners: {{o: {{name: O}}}}\ntasks:\n  t:\n    title: T\n"
        "    owner: o\n    action:\n      type: shell\n      command: {payload}\n"
    ),
    "list item": "playbook: p\ntitle: T\nplugins:\n  - {payload}\n",
    "merge": "playbook: p\ntitle: T\nowners:\n  o:\n    name: O\n    <<: {payload}\n",
    "key": "playbook: p\ntitle: T\n? {payload}\n: value\n",
    "top": "{payload}\n",
}


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.split()[0].split(":")[-1])
def test_python_tags_are_refused_and_nothing_runs(tmp_path: Path, payload: str, place: str) -> None:
    marker = tmp_path / "pwned"
    text = PLACES[place].format(payload=payload.format(marker=marker))
    path = tmp_path / "evil.yaml"
    path.write_text(text)
    result = inspect(path)
    assert not result.ok
    messages = [p.message for p in result.errors]
    assert any("is not allowed in a playbook" in m for m in messages) or any(
        "invalid YAML" in m for m in messages
    ), messages
    with pytest.raises(PlaybookError):
        load_checked(path)
    runner = CliRunner()
    out = runner.invoke(cli, ["validate", str(path)])
    assert out.exit_code == 1
    assert "Traceback" not in out.output
    assert not marker.exists(), f"{payload} in {place} ran"


def test_python_tags_are_refused_with_their_place(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("playbook: p\ntitle: !!python/object/apply:os.system ['true']\n")
    (error,) = inspect(path).errors
    assert (error.location.line, error.location.col) == (2, 8)
    assert error.message.startswith("tag '!!python/object/apply:os.system' is not allowed")


def test_the_loader_has_no_python_constructors() -> None:
    constructors = {
        **loader._Loader.yaml_constructors,
        **loader._Loader.yaml_multi_constructors,
    }
    python = [tag for tag in constructors if tag and "python" in tag]
    assert python == []
    assert issubclass(loader._Loader, yaml.constructor.SafeConstructor)


# -- alias expansion ------------------------------------------------------------------------


def laughs(levels: int, width: int = 9, where: str = "sources") -> str:
    """The billion laughs: each level a list of ``width`` aliases to the level below."""
    lines = ["playbook: p", "title: T"]
    if where == "sources":
        lines += ["sources:", "  s:", "    type: csv", "    path: x.csv"]
        pad = "    "
    else:  # kpi params
        lines += [
            "sources: {s: {type: csv, path: x.csv}}",
            "metrics:",
            "  m:",
            "    source: s",
            "    kpi: percentile",
            "    field: x",
            "    target: 1",
            "    params:",
            "      q: 90",
        ]
        pad = "      "
    lines.append(f"{pad}l0: &l0 [{', '.join(['lol'] * width)}]")
    for i in range(1, levels):
        lines.append(f"{pad}l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("where", ["sources", "params"])
def test_billion_laughs_is_refused(tmp_path: Path, where: str) -> None:
    path = tmp_path / "lol.yaml"
    path.write_text(laughs(9, where=where))  # 9 ** 9 = 387,420,489 strings
    start = time.perf_counter()
    result = inspect(path)
    elapsed = time.perf_counter() - start
    print(f"billion laughs ({where}) refused in {elapsed * 1000:.1f} ms")
    (error,) = result.errors
    assert "an alias bomb or a recursive alias" in error.message
    assert "expand to far more values than the file holds" in error.message
    assert error.location.file == str(path)


def test_merge_key_laughs_are_refused(tmp_path: Path) -> None:
    # '<<' merges expand aliases too: nine levels of nine merges each
    lines = ["playbook: p", "title: T", "owners:", "  o0: &a0 {name: A}"]
    for i in range(1, 9):
        merges = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"  o{i}: &a{i} {{<<: [{merges}], name: N}}")
    path = tmp_path / "merge.yaml"
    path.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    (error,) = inspect(path).errors
    print(f"merge-key laughs refused in {(time.perf_counter() - start) * 1000:.1f} ms")
    assert "an alias bomb" in error.message


def test_the_node_budget_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The budget is MAX_NODES_FACTOR times the file's size (at least 1000): what an
    # alias may expand to is decided by that number, not by a timeout.
    small = tmp_path / "small.yaml"
    small.write_text(laughs(3))  # 9 + 81 + 729 strings: 819 values, plus the lists
    large = tmp_path / "large.yaml"
    large.write_text(laughs(5))  # 66,429 strings from a 400-byte file

    def bombed(path: Path) -> bool:
        return any("alias bomb" in p.message for p in inspect(path).errors)

    assert build.MAX_NODES_FACTOR == loader.MAX_NODES_FACTOR
    assert not bombed(small)
    assert bombed(large)

    monkeypatch.setattr(build, "MAX_NODES_FACTOR", 200)  # budget 200,000
    assert not bombed(large)
    # read in full (the csv source then says it has no option 'l0' ... 'l4', rightly)
    value = inspect(large).playbook.sources["s"].options["l4"]

    def leaves(v: object) -> int:
        return sum(leaves(x) for x in v) if isinstance(v, tuple | list) else 1

    assert leaves(value) == 9**5

    monkeypatch.setattr(build, "MAX_NODES_FACTOR", 0.5)  # budget 500
    assert bombed(small)


def test_recursive_aliases_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "rec.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nsources:\n  s: {type: csv, path: x.csv, o: &a {b: *a}}\n"
        "owners:\n  o: &m {name: O, <<: *m}\n"
    )
    messages = [p.message for p in inspect(path).errors]
    assert any("recursive alias" in m for m in messages), messages


# -- size -----------------------------------------------------------------------------------


def test_files_over_the_size_limit_are_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:  # sparse: 21 MB on paper, nothing written
        f.truncate(loader.MAX_BYTES + 1)
    (error,) = inspect(path).errors
    assert error.message == (
        f"file is {loader.MAX_BYTES + 1} bytes, larger than the {loader.MAX_BYTES} byte limit; "
        "split the playbook"
    )
    assert (error.location.line, error.location.col) == (1, 1)


def test_size_limit_is_the_constant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("playbook: p\ntitle: " + "x" * 500 + "\n")
    assert inspect(path).ok
    monkeypatch.setattr(loader, "MAX_BYTES", 400)
    (error,) = inspect(path).errors
    assert "larger than the 400 byte limit" in error.message


# -- nesting --------------------------------------------------------------------------------

DEEP_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pdca.playbook import inspect

    n = 1_000_000
    cases = {
        "flow lists": "x: " + "[" * n + "]" * n,
        "flow mappings": "x: " + "{a: " * n + "1" + "}" * n,
        "mixed flow": "x: " + "[{a: " * (n // 2) + "1" + "}]" * (n // 2),
        "block sequence on one line": "x:\\n  " + "- " * n + "leaf",
        "complex keys": "x:\\n  " + "? " * n + "leaf",
        "unclosed": "x: " + "[" * n,
        "indentation": "x:\\n" + "".join(" " * (i + 2) + "k:\\n" for i in range(3000)),
    }
    folder = Path(sys.argv[1])
    for name, body in cases.items():
        path = folder / (name.replace(" ", "_") + ".yaml")
        path.write_text("playbook: p\\ntitle: T\\n" + body + "\\n")
        start = time.perf_counter()
        result = inspect(path)
        took = time.perf_counter() - start
        (error,) = result.errors
        where = f"{error.location.line}:{error.location.col}"
        print(f"{name}|{where}|{took:.3f}|{error.message}", flush=True)
    """
)


@pytest.mark.slow
def test_a_million_levels_of_nesting_do_not_crash_the_process(tmp_path: Path) -> None:
    # libyaml composes recursively in C: without the depth check this is a segfault,
    # which no try/except can catch; hence a separate process.
    proc = subprocess.run(
        [sys.executable, "-c", DEEP_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
    )
    print(proc.stdout)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split("|", 3) for line in proc.stdout.splitlines()]
    assert len(rows) == 7
    # pdca's own message at the collection that goes one level too deep, whichever PyYAML
    # is installed (libyaml 0.2.6 in PyYAML 6.0.4 stops at 1000 levels with its own error)
    where = {name: place for name, place, _took, _message in rows}
    assert where == {
        "flow lists": "3:203",
        "flow mappings": "3:800",
        "mixed flow": "3:500",
        "block sequence on one line": "4:401",
        "complex keys": "4:401",
        "unclosed": "3:203",
        "indentation": "203:202",
    }
    for _name, _place, _took, message in rows:
        assert message == "values are nested more than 200 levels deep; flatten the structure"


@pytest.mark.parametrize("parser_limit", [300, 100])
def test_a_parser_nesting_limit_does_not_replace_the_message(
    tmp_path: Path, parser_limit: int
) -> None:
    # libyaml 0.2.6 refuses nesting past its own limit (1000 by default), possibly before
    # handing out the event that crosses pdca's; a limit below pdca's makes pdca count
    # with PyYAML's pure-Python parser
    libyaml = getattr(yaml, "_yaml", None)
    get_limit = getattr(libyaml, "_get_max_nest_level", None)
    set_limit = getattr(libyaml, "_set_max_nest_level", None)
    if get_limit is None or set_limit is None or loader._Loader is yaml.SafeLoader:
        pytest.skip("this PyYAML's libyaml has no nesting limit")
    path = tmp_path / "deep.yaml"
    path.write_text("playbook: p\ntitle: T\nx: " + "[" * 5000 + "]" * 5000 + "\n")
    saved = get_limit()
    set_limit(parser_limit)
    try:
        (error,) = inspect(path).errors
    finally:
        set_limit(saved)
    assert error.message == "values are nested more than 200 levels deep; flatten the structure"
    assert (error.location.line, error.location.col) == (3, 203)


def test_nesting_at_the_limit_is_read(tmp_path: Path) -> None:
    # plugin options may nest up to the limit; one more level is refused
    def file(depth: int) -> Path:
        path = tmp_path / f"d{depth}.yaml"
        value = "[" * depth + "]" * depth
        path.write_text(
            f"playbook: p\ntitle: T\nsources:\n  s: {{type: csv, path: x, o: {value}}}\n"
        )
        return path

    def nesting_errors(path: Path) -> list[str]:
        messages = [p.message for p in inspect(path).errors]
        return [m for m in messages if "nested more than" in m or "nest too deeply" in m]

    limit = loader.MAX_DEPTH
    assert nesting_errors(file(limit - 3)) == []
    assert nesting_errors(file(limit + 1)) != []
