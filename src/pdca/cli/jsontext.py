"""JSON as ``json.dumps(value, indent=2, ensure_ascii=False, default=str)`` writes it, faster.

With ``indent`` the standard library leaves its C encoder for a pure-Python one
built of nested generators: for ``pdca status`` over a hundred playbooks (five
megabytes of JSON) that was a tenth of the command. This writes the same text
(the same separators, escapes and number forms: strings through the same C
escaping, floats through ``float.__repr__``, ``NaN``/``Infinity`` as Python
writes them) by appending to one list. A test compares the two on generated
documents. Documents are trees: a value that contains itself is not detected.
"""

from __future__ import annotations

from collections.abc import Callable
from json.encoder import encode_basestring as _string
from typing import Any

_INF = float("inf")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INF:
        return "Infinity"
    if value == -_INF:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    """A mapping key as json turns it into a string (in the order json tries its types)."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def dumps(value: Any, default: Callable[[Any], Any] = str) -> str:
    """``value`` as indented JSON (two spaces), non-ASCII characters kept."""
    out: list[str] = []
    append = out.append

    def encode(o: Any, newline: str) -> None:
        if isinstance(o, str):
            append(_string(o))
        elif o is None:
            append("null")
        elif o is True:
            append("true")
        elif o is False:
            append("false")
        elif isinstance(o, int):
            append(int.__repr__(o))
        elif isinstance(o, float):
            append(_float(o))
        elif isinstance(o, list | tuple):
            if not o:
                append("[]")
                return
            inner = newline + "  "
            glue = "[" + inner
            for item in o:
                append(glue)
                glue = "," + inner
                encode(item, inner)
            append(newline + "]")
        elif isinstance(o, dict):
            if not o:
                append("{}")
                return
            inner = newline + "  "
            glue = "{" + inner
            for key, item in o.items():
                append(glue + _string(_key(key)) + ": ")
                glue = "," + inner
                encode(item, inner)
            append(newline + "}")
        else:
            encode(default(o), newline)

    encode(value, "\n")
    return "".join(out)
