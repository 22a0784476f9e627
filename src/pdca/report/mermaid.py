"""Writing mermaid safely: node ids that never collide and labels that cannot break out.

The Markdown report's graph and ``pdca graph --format mermaid`` both write
through these two helpers, so a title with a quote, backtick, ``#``, ``;``,
``<`` or ``]`` reads as text in both, and ids that differ only in punctuation
(``a-b``, ``a_b``) stay two nodes. No imports from pdca: the graph module and
the report both use it without pulling in each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_ENTITIES = str.maketrans(
    {
        "#": "#35;",
        "&": "#38;",
        '"': "#quot;",
        "<": "#lt;",
        ">": "#gt;",
        "`": "#96;",
        "|": "#124;",
        ";": "#59;",
    }
)
"""Mermaid's entity codes (``#quot;``, ``#35;``), applied in one pass so the ``;`` that
ends one code is never itself replaced."""


def mermaid_text(value: Any) -> str:
    """A label for inside ``["..."]``: line breaks as spaces, and every character that
    could end the string, start markup or a comment as an entity code."""
    text = " ".join(str(value if value is not None else "").split())
    return text.translate(_ENTITIES)


def mermaid_ids(keys: Iterable[str]) -> dict[str, str]:
    """``n0``, ``n1`` ... for each key in order: ids mermaid accepts whatever the key holds.

    Deriving ids from the keys (``a-b`` to ``a_b``) would merge distinct nodes; a
    counter cannot, and the labels carry the names people read.
    """
    return {key: f"n{i}" for i, key in enumerate(dict.fromkeys(keys))}
