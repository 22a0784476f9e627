"""The package's shape: few top-level modules, small modules, no import circles.

These hold the layout docs/architecture.md describes; a failure names the
module and the rule, so whoever moves code sees at once what to fix.
"""

from __future__ import annotations

import ast
import importlib
import sys
import warnings
from pathlib import Path

import networkx as nx
import pytest

import pdca

PACKAGE = Path(pdca.__file__).parent
MAX_TOP_LEVEL_MODULES = 8
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every pdca module ``name`` imports, at the top or inside a function.

    ``from pdca.x import y`` counts as importing ``pdca.x.y`` when that is a
    module and ``pdca.x`` otherwise. Parent packages that Python runs on the
    way to a submodule are not counted: their ``__init__`` runs first in any case.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                if not is_package:
                    anchor = anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in known else base)
    return {m for m in found if m in known and m != name}


def import_graph() -> nx.DiGraph:
    mods = modules()
    known = set(mods)
    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    for name, path in mods.items():
        for target in imports_of(name, path, known):
            graph.add_edge(name, target)
    return graph


def test_no_import_circle_anywhere_in_the_package() -> None:
    circles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert circles == [], f"modules that import each other (directly or round about): {circles}"


def test_the_circle_finder_sees_a_circle_through_a_lazy_import(tmp_path: Path) -> None:
    """The finder itself: imports inside functions count, parents' __init__ do not."""
    graph = nx.DiGraph()
    src = {
        "pdca.a": "def f():\n    from pdca import b\n",
        "pdca.b": "import pdca.a\n",
        "pdca.c": "from pdca.a import f\n",
    }
    known = set(src) | {"pdca"}
    for name, text in src.items():
        path = tmp_path / f"{name}.py"
        path.write_text(text)
        for target in imports_of(name, path, known):
            graph.add_edge(name, target)
    circles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert circles == [["pdca.a", "pdca.b"]]
    assert set(graph.successors("pdca.c")) == {"pdca.a"}


def test_at_most_eight_modules_directly_under_the_package() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_no_module_is_longer_than_600_lines() -> None:
    long = {
        name: n
        for name, path in modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these modules (lines): {long}"


def test_command_modules_never_import_the_group_back() -> None:
    graph = import_graph()
    importers = sorted(graph.predecessors("pdca.cli.main"))
    assert importers == ["pdca.__main__", "pdca.testing"], importers


@pytest.mark.parametrize("old", sorted(pdca.MOVED_MODULES))
def test_old_import_paths_give_the_moved_module_with_a_warning(old: str) -> None:
    new = pdca.MOVED_MODULES[old]
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)


def test_a_submodule_of_a_moved_package_is_the_same_module_not_a_copy() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = importlib.import_module("pdca.analysis.spc")
    assert old is importlib.import_module("pdca.check.stats.spc")


def test_every_folder_of_modules_is_a_regular_package() -> None:
    """A folder without ``__init__.py`` imports from a checkout but is left out of the wheel."""
    folders = {p.parent for p in PACKAGE.rglob("*.py")}
    missing = sorted(str(f.relative_to(PACKAGE)) for f in folders if not (f / "__init__.py").exists())
    assert missing == []
