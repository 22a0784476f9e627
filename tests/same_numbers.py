"""Comparing two ``pdca check`` results number by number, for tests that compute one
result two ways (one scan and metric by metric, a database and a file)."""

from __future__ import annotations

import math
from typing import Any


def same(a: Any, b: Any, rel: float) -> bool:
    """Equal, floats to ``rel`` (a sum in another order differs in its last bits)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=rel, abs_tol=rel)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, rel) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def differences(got: Any, want: Any, rel: float, at: str = "") -> list[str]:
    """Where two results differ, as short lines (pytest would cut the whole dicts)."""
    if isinstance(got, dict) and isinstance(want, dict) and got.keys() == want.keys():
        return [d for k in got for d in differences(got[k], want[k], rel, f"{at}.{k}")]
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        pairs = enumerate(zip(got, want, strict=True))
        return [d for i, (g, w) in pairs for d in differences(g, w, rel, f"{at}[{i}]")]
    return [] if same(got, want, rel) else [f"{at}: {got!r} != {want!r}"]
