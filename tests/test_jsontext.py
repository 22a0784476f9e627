"""``pdca.cli.jsontext.dumps`` writes exactly what ``json.dumps(indent=2, ...)`` writes.

Generated documents cover every kind of value json knows (big integers,
floats with NaN and infinities, any Unicode, keys that are not strings) and
values it only knows through ``default=str``; the real check is equality of
the two texts, character for character.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pdca.cli.jsontext import dumps


def reference(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.dates()
    | st.builds(Path, st.text(alphabet="abc/é", max_size=8))
)
keys = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_the_same_text_as_json_dumps(value: Any) -> None:
    assert dumps(value) == reference(value)


def test_edges_by_hand() -> None:
    assert dumps({}) == "{}" and dumps([]) == "[]" and dumps(()) == "[]"
    assert dumps({"a": [], "b": {}}) == '{\n  "a": [],\n  "b": {}\n}'
    assert dumps([1.0, float("nan"), -float("inf"), True, None]) == (
        "[\n  1.0,\n  NaN,\n  -Infinity,\n  true,\n  null\n]"
    )
    assert dumps({7: "x", 2.5: "y", None: "z", False: "f"}) == (
        '{\n  "7": "x",\n  "2.5": "y",\n  "null": "z",\n  "false": "f"\n}'
    )
    assert dumps({"d": date(2026, 1, 5)}) == '{\n  "d": "2026-01-05"\n}'
    assert dumps("é\x1b\u2028") == reference("é\x1b\u2028") == '"é\\u001b\u2028"'
    with pytest.raises(TypeError, match="keys must be str, int, float, bool or None"):
        dumps({(1, 2): "x"})
