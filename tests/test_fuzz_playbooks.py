"""Fuzzing the playbook reader: whatever the file holds, pdca answers with problems, not a crash.

Two kinds of input:

* generated playbooks: every key of the format (taken from
  :data:`pdca.playbook.schema.PLAYBOOK`, so new keys are fuzzed as soon as they
  exist) gets either a plausible value or a value of a random type: unicode and
  invalid ids, huge numbers, ``.nan``/``.inf``, very long strings, deep nesting,
  tags, anchors and aliases, references between entries and ``depends_on``
  graphs with cycles. They are written out by a small emitter of our own (so
  the text can hold what PyYAML would never write) and by ``yaml.safe_dump``;
* mutated real playbooks (the examples and the valid test playbooks): flipped
  bytes, deleted or duplicated lines, indentation changes, tabs, truncation,
  inserted tags, anchors and aliases.

The property: :func:`pdca.playbook.inspect` never raises; it finds a valid
playbook or errors that each point into the file (line within the file, column
1 or more), and :func:`pdca.playbook.load_checked` raises nothing but
PlaybookError. Inputs that ever broke it live in ``data/fuzz_corpus`` and are
checked by ``test_fuzz_corpus.py``.

``PDCA_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz_playbooks.py`` runs a long
fuzz (the default keeps the file well under a minute on two CI cores).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import os
import random
import re
import string
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from pdca.errors import PlaybookError
from pdca.playbook import inspect, load_checked
from pdca.playbook.schema import PLAYBOOK, Spec
from pdca.state.schema import tasks as tasks_table

EXAMPLES = int(os.environ.get("PDCA_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)

ROOT = Path(__file__).parent.parent
SEEDS = sorted((ROOT / "playbooks").glob("*/playbook.yaml")) + sorted(
    (ROOT / "tests" / "data" / "playbooks" / "valid").glob("*.yaml")
)
SEED_BYTES = [p.read_bytes() for p in SEEDS]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
MAX_MESSAGE = 1000
"""Longest message a problem may carry: a 10 MB value must not be echoed back whole."""


# -- the property ---------------------------------------------------------------------------


def editor_lines(data: bytes) -> list[str]:
    """The file's lines as an editor shows them (\\n, \\r\\n or \\r end a line)."""
    return _LINE_BREAK.split(data.decode("utf-8-sig", "replace"))


def assert_sound(path: Path) -> None:
    """The fuzz property for one file on disk."""
    data = path.read_bytes()
    result = inspect(path)  # must not raise
    if result.ok:
        assert result.errors == []
        assert result.playbook is not None
        assert_storable(result.playbook)
        _event("valid playbook")
    else:
        assert result.errors, "not ok, yet no error explains why"
        lines = editor_lines(data)
        for problem in result.errors:
            _assert_placed(problem, path, lines)
        _event("several errors" if len(result.errors) > 1 else "one error")
    for problem in result.problems:
        assert problem.message.strip(), problem
        assert "<object object" not in problem.message, problem  # internal sentinel leaked
        assert len(problem.message) <= MAX_MESSAGE, problem.message[:300]
    try:
        checked = load_checked(path)
    except PlaybookError as exc:
        assert not result.ok
        assert exc.problems
        for problem in exc.problems:
            _assert_placed(problem, path, editor_lines(data))
    else:
        assert result.ok
        assert checked.playbook is not None


ID_COLUMN = tasks_table.c.task.type.length
"""Characters the state store keeps for an id (its task, metric, owner ... columns)."""
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def assert_storable(pb: Any) -> None:
    """A valid playbook fits the state store and holds no terminal control in any text:
    every id within the store's columns, every string (keys too) free of C0 (but tab and
    line break), DEL and C1 characters."""
    ids = [pb.id, *(i for s in SECTIONS for i in getattr(pb, s))]
    assert all(len(i) <= ID_COLUMN for i in ids), max(ids, key=len)[:80]
    bad = [text for text in _all_strings(pb) if _CONTROL.search(text)]
    assert bad == [], bad[:3]


SECTIONS = ("owners", "sources", "metrics", "objectives", "tasks")


def _all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _all_strings(k)
            yield from _all_strings(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _all_strings(v)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.name not in ("loc", "locs"):
                yield from _all_strings(getattr(value, f.name))


def _event(name: str) -> None:
    if currently_in_test_context():
        event(name)


def _assert_placed(problem: Any, path: Path, lines: list[str]) -> None:
    """The error points into the file: an existing line (or just past the end), and a
    column on that line (or just past its last character)."""
    loc = problem.location
    assert loc is not None, f"error without a place: {problem}"
    assert loc.file == str(path), problem
    assert 1 <= loc.line <= len(lines) + 1, f"line {loc.line} of {len(lines)}: {problem}"
    width = len(lines[loc.line - 1]) if loc.line <= len(lines) else 0
    assert 1 <= loc.col <= width + 1, f"column {loc.col} of {width}: {problem}"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check_bytes(folder: Path, data: bytes, name: str = "playbook.yaml") -> None:
    path = folder / name
    path.write_bytes(data)
    assert_sound(path)


# -- a YAML emitter of our own --------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A scalar written exactly as given: ``.nan``, ``2026-02-29``, ``0o17``, ``24:00``."""

    text: str


@dataclass(frozen=True)
class Tagged:
    tag: str
    value: Any


@dataclass(frozen=True)
class Anchor:
    name: str
    value: Any


@dataclass(frozen=True)
class Alias:
    name: str


@dataclass(frozen=True)
class Deep:
    """``depth`` nested lists or mappings, written in flow or block style."""

    depth: int
    mapping: bool
    flow: bool


_PLAIN_SAFE = re.compile(r"[A-Za-z_][A-Za-z0-9_ .@/()+-]*\Z")
_PRINTABLE = re.compile("[\t\n\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*\\Z")


def quote(text: str) -> str:
    """A double-quoted YAML scalar; lone surrogates are written as escapes libyaml refuses."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or code == 0xFEFF:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class Emitter:
    """Writes the value trees the strategies build; style choices come from a seeded RNG."""

    def __init__(self, seed: int, newline: str = "\n"):
        self.rng = random.Random(seed)
        self.newline = newline

    def document(self, value: Any) -> str:
        lines = list(self.block(value, 0))
        return self.newline.join(lines) + self.newline

    # block style: one entry per line
    def block(self, value: Any, indent: int) -> Iterator[str]:
        pad = " " * indent
        if isinstance(value, Anchor) and isinstance(value.value, dict | list) and value.value:
            # an anchored block collection: the anchor goes on the key's line
            yield from self.block(value.value, indent)
            return
        if isinstance(value, dict) and value:
            for key, item in value.items():
                if isinstance(key, list | dict):  # a complex key: '? key' then ': value'
                    yield f"{pad}? {self.flow(key)}"
                    yield f"{pad}: {self.flow(item)}"
                    continue
                k = self.key(key)
                if self._inline(item):
                    yield f"{pad}{k}: {self.flow(item)}"
                else:
                    prefix = self._props(item)
                    yield f"{pad}{k}:{prefix}"
                    yield from self.block(_unwrap(item), indent + 2)
        elif isinstance(value, list) and value:
            for item in value:
                if self._inline(item):
                    yield f"{pad}- {self.flow(item)}"
                else:
                    prefix = self._props(item)
                    yield f"{pad}-{prefix}"
                    yield from self.block(_unwrap(item), indent + 2)
        elif isinstance(value, Deep) and not value.flow:
            for level in range(value.depth):
                lead = " " * (indent + 2 * level)
                yield f"{lead}k{level}:" if value.mapping else f"{lead}-"
            yield " " * (indent + 2 * value.depth) + "leaf"
        else:
            yield pad + self.flow(value)

    def _inline(self, item: Any) -> bool:
        inner = _unwrap(item)
        if isinstance(inner, Deep):
            return inner.flow
        if isinstance(inner, dict | list) and inner:
            return self.rng.random() < 0.3
        return True

    def _props(self, item: Any) -> str:
        """Anchor and tag of a block collection, written after the key."""
        out = ""
        while isinstance(item, Anchor | Tagged):
            out += f" &{item.name}" if isinstance(item, Anchor) else f" {item.tag}"
            item = item.value
        return out

    def key(self, key: Any) -> str:
        if isinstance(key, str):
            if _PLAIN_SAFE.match(key) and key.strip() == key:
                return key
            return quote(key)
        return self.flow(key)

    # flow style: everything on one line
    def flow(self, value: Any) -> str:
        if isinstance(value, Raw):
            return value.text
        if isinstance(value, Tagged):
            return f"{value.tag} {self.flow(value.value)}"
        if isinstance(value, Anchor):
            return f"&{value.name} {self.flow(value.value)}"
        if isinstance(value, Alias):
            return f"*{value.name}"
        if isinstance(value, Deep):
            if value.mapping:
                return "{a: " * value.depth + "x" + "}" * value.depth
            return "[" * value.depth + "]" * value.depth
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return self.rng.choice(["~", "null", "", "Null"])
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if math.isnan(value):
                return self.rng.choice([".nan", ".NaN", ".NAN"])
            if math.isinf(value):
                return (
                    (".inf" if value > 0 else "-.inf")
                    if self.rng.random() < 0.8
                    else ("+.Inf" if value > 0 else "-.INF")
                )
            return repr(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            return self.scalar(value)
        if isinstance(value, dict):
            inner = ", ".join(f"{self.flow_key(k)}: {self.flow(v)}" for k, v in value.items())
            return "{" + inner + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.flow(v) for v in value) + "]"
        raise TypeError(type(value))

    def flow_key(self, key: Any) -> str:
        if isinstance(key, str):
            return key if _PLAIN_SAFE.match(key) and key.strip() == key else quote(key)
        return self.flow(key)

    def scalar(self, text: str) -> str:
        roll = self.rng.random()
        if roll < 0.4 and _PLAIN_SAFE.match(text) and text.strip() == text:
            return text
        if roll < 0.6 and "'" not in text and _PRINTABLE.match(text) and "\n" not in text:
            return "'" + text + "'"
        return quote(text)


def _unwrap(value: Any) -> Any:
    while isinstance(value, Anchor | Tagged):
        value = value.value
    return value


def plain_python(value: Any) -> Any:
    """The value tree as plain Python, for ``yaml.safe_dump``."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Tagged | Anchor):
        return plain_python(value.value)
    if isinstance(value, Alias):
        return value.name
    if isinstance(value, Deep):
        out: Any = "leaf"
        for level in range(min(value.depth, 150)):
            out = {f"k{level}": out} if value.mapping else [out]
        return out
    if isinstance(value, dict):
        return {
            (
                k.text
                if isinstance(k, Raw)
                else k
                if isinstance(k, str | int | float | bool) or k is None
                else str(k)
            ): plain_python(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [plain_python(v) for v in value]
    return value


# -- strategies -----------------------------------------------------------------------------

SLUG = st.builds(
    str.__add__,
    st.sampled_from(string.ascii_lowercase + string.digits),
    st.text(alphabet=string.ascii_lowercase + string.digits + "_-", max_size=12),
)
ODD_IDS = st.sampled_from(
    [
        "yes",
        "no",
        "on",
        "null",
        "~",
        "true",
        "0o17",
        "017",
        "0x1F",
        "1e3",
        "1_000",
        ".inf",
        ".nan",
        "2026-02-29",
        "24:00",
        "12:30:00",
        "Upper",
        "-lead",
        "_lead",
        "has space",
        "ünïcödé",
        "٣",
        "ид",
        "a.b",
        "a/b",
        "a:b",
        "#x",
        "&x",
        "*x",
        "!x",
        "",
        " ",
        "x" * 300,
    ]
)
IDS = st.one_of(SLUG, SLUG, SLUG, ODD_IDS, st.text(max_size=12))

TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(["", " ", "é", "日本語", "🙂", "\u2028", "\x85", "\ufeff", "\x00", "a\r\nb"]),
)
LONG_TEXT = st.builds(
    lambda ch, n: ch * n, st.sampled_from(["x", "é", "🙂", " ", "a b"]), st.integers(1_000, 30_000)
)
HUGE_INTS = st.builds(
    lambda sign, digits: Raw(sign + digits),
    st.sampled_from(["", "-", "+"]),
    st.integers(16, 6000).map(lambda n: "9" * n),
)
ODD_SCALARS = st.sampled_from(
    [
        Raw(".nan"),
        Raw(".inf"),
        Raw("-.inf"),
        Raw(".NaN"),
        Raw("1e400"),
        Raw("-1e400"),
        Raw("1.0e+400"),
        Raw("0x7fffffffffffffffffff"),
        Raw("0o777777777777777777777"),
        Raw("0b101"),
        Raw("1_000_000"),
        Raw("190:20:30"),
        Raw("2026-02-29"),
        Raw("2026-13-01"),
        Raw("2026-01-01T24:00:00"),
        Raw("2026-01-01 10:00:00 +25:00"),
        Raw("24:00"),
        Raw("0000-00-00"),
        Raw("9999-12-31"),
        Raw("~"),
        Raw("yes"),
        Raw("No"),
        Raw("<<"),
        Raw("="),
        Raw("!!binary aGVsbG8="),
        Raw("!!python/object:os.system x"),
        Raw("!!python/object/apply:os.system [echo]"),
        Raw("!!python/name:os.system ''"),
        Raw("!custom x"),
        Raw("!!set {a, b}"),
        Raw("!!omap [{a: 1}]"),
        Raw("!!str 5"),
        Raw("!!int x"),
        Raw("!!float abc"),
        Raw("!!timestamp nope"),
        Raw("!!bool maybe"),
        Raw("!!null x"),
    ]
)
BREAKERS = st.sampled_from(
    [
        Raw("*undefined"),
        Raw("|\n  literal"),
        Raw("'unterminated"),
        Raw('"unterminated'),
        Raw("[unclosed"),
        Raw("{a: 1"),
        Raw("@reserved"),
        Raw("`reserved"),
        Raw("% directive"),
        Raw("--- x"),
        Raw("..."),
    ]
)
"""Values that make the document invalid YAML: used sparingly, or nothing else is reached."""
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    TEXT,
    ODD_SCALARS,
    HUGE_INTS,
)
DEEP = st.builds(Deep, st.integers(2, 400), st.booleans(), st.booleans())
TAGS = st.sampled_from(
    ["!!python/object:os.system", "!custom", "!!binary", "!!set", "!!map", "!!seq", "!!str", "!x"]
)


def junk(max_leaves: int = 12, breakers: bool = True) -> st.SearchStrategy[Any]:
    """Any value at all: scalars, lists, mappings, tags, deep nesting."""
    leaves = [SCALARS] * 6 + [DEEP, LONG_TEXT] + ([BREAKERS] if breakers else [])
    return st.recursive(
        st.one_of(*leaves),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(IDS, st.integers(), st.none()), inner, max_size=4),
            st.builds(Tagged, TAGS, inner),
        ),
        max_leaves=max_leaves,
    )


SAFE_PLUGIN_REFS = st.one_of(
    st.sampled_from(["", "nope.py", "../nope.py", "/no/such/dir/x.py", "pdca_no_such_plugin_mod"]),
    st.text(alphabet=string.ascii_lowercase, max_size=8).map(lambda s: f"./zz_missing_{s}.py"),
)
"""Plugin references that name nothing importable: the fuzzer must never run a real module."""

REF_POOLS = {"owner": "owners", "members": "owners", "depends_on": "tasks"}


def pool_for(key: str) -> str | None:
    """Which entries a slug under ``key`` refers to: ``source`` -> ``sources`` and so on."""
    if key in REF_POOLS:
        return REF_POOLS[key]
    for name in (key, key + "s"):
        spec = PLAYBOOK.fields.get(name)
        if spec is not None and spec.kind == "entries":
            return name
    return None


# Plugin-aware values for tame playbooks, so that some of them pass every check: the
# built-in source types with a path, KPIs that need no params, filters that are
# conditions, the shell action.
TAME_OVERRIDES: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "source": {"type": st.sampled_from(["csv", "json", "parquet"]), "path": st.just("data.csv")},
    "metric": {
        "kpi": st.sampled_from(["count", "mean", "rate"]),
        "field": st.just("x"),
        # validate parses filters (a condition over columns): tame ones are such conditions
        "filter": st.sampled_from(["x = 1", "lower(x) IN ('a', 'b')", "x IS NOT NULL"]),
    },
    "action": {"type": st.just("shell"), "command": st.just("echo hi")},
}


@dataclass
class Mood:
    """How wild one generated playbook is. Chances come from a seeded RNG: Hypothesis
    favours boundary integers, so ``integers(0, 60) == 0`` would be far likelier than 1/61."""

    wild: bool
    rng: random.Random
    ghosts: bool = False  # references may name entries that do not exist
    current: str = ""  # the entry being generated, which tame references avoid

    def chance(self, wild: float, tame: float) -> bool:
        return self.rng.random() < (wild if self.wild else tame)


ODD_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    HUGE_INTS,
    st.sampled_from([Raw(".nan"), Raw(".inf"), Raw("-.inf"), Raw("1e16")]),
)
NUMBERS = st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6))
ODD_DATES = st.sampled_from(
    [Raw("2026-02-29"), Raw("2026-01-01 10:00:00"), Raw("2026-1-5"), "2026-01-05", Raw("24:00")]
)
ODD_DURATIONS = st.builds(
    lambda number, unit, form: [Raw(f"{number}{unit}"), number, Raw("9" * 5000 + "d")][form],
    st.one_of(st.integers(-3, 400), st.integers(0, 10**40)),
    st.sampled_from(["", "s", "h", "d", "w", "m", "y", " d", "D"]),
    st.integers(0, 2),
)
DURATIONS = st.builds(
    lambda n, form: [n, f"{n}d", f"{n}w", f"{n}h"][form], st.integers(1, 300), st.integers(0, 3)
)
SHORT_DURATIONS = st.builds(  # units s, m, h (retry_delay): a bare number counts seconds
    lambda n, form: [n, f"{n}s", f"{n}m", f"{n}h"][form], st.integers(1, 300), st.integers(0, 3)
)
ODD_BOOLS = st.sampled_from([Raw("yes"), Raw("off"), "true", 1])
JUNK = {True: junk(breakers=True), False: junk(breakers=False)}
SMALL_JUNK = {True: junk(4, breakers=True), False: junk(4, breakers=False)}
ODD_TEXT = st.one_of(TEXT, TEXT, LONG_TEXT)
PLAIN_TEXT = st.text(st.characters(categories=("L", "M", "N", "P", "S", "Zs")), max_size=30)
"""Text a person writes: letters, marks, digits, punctuation, symbols and spaces of any
script; control characters and line separators come in ODD_TEXT, which pdca refuses."""
ODD_PLUGINS = st.lists(SAFE_PLUGIN_REFS, max_size=3)
FREE = {wild: st.dictionaries(IDS, junk(6, breakers=wild), max_size=4) for wild in (True, False)}


def generate(draw: Any, spec: Spec, key: str, ids: dict[str, list[str]], mood: Mood) -> Any:
    """A plausible value for ``spec`` most of the time, anything at all otherwise.

    ``wild`` playbooks get junk and odd values often, syntax errors included;
    tame ones rarely, so that most of them parse and many reach the reference,
    cycle and plugin checks. (A plain function rather than nested composite
    strategies: building strategies per value cost more than checking the file.)
    """
    wild = mood.wild
    if mood.chance(1 / 6, 1 / 400):
        return draw(JUNK[wild])
    odd = mood.chance(1 / 4, 1 / 150)
    kind = spec.kind
    if kind == "str":
        return draw(ODD_TEXT if odd else PLAIN_TEXT)
    if kind == "slug":
        pool = ids.get(pool_for(key) or "", [])
        if not wild:
            pool = [p for p in pool if p != mood.current]
        if pool and not odd:
            return mood.rng.choice([*pool, "ghost"] if mood.ghosts else pool)
        return draw(IDS if odd else SLUG)
    if kind == "number":
        if key in ("target", "warn", "baseline", "value") and not odd and not wild:
            return round(mood.rng.uniform(0, 100), 2)  # inside every built-in KPI's range
        return draw(ODD_NUMBERS if odd else NUMBERS)
    if kind == "int":
        if key in ("shift_points", "trend_points") and not odd:
            return mood.rng.randint(6, 9)  # the lengths a run rule may have
        return draw(ODD_NUMBERS) if odd else mood.rng.randint(2, 8)
    if kind == "bool":
        return draw(ODD_BOOLS) if odd else mood.rng.random() < 0.5
    if kind == "date":
        return draw(ODD_DATES if odd else st.dates())
    if kind == "due":  # a date, or days after the cycle opens (14d)
        if odd:
            return draw(st.one_of(ODD_DATES, st.sampled_from([Raw("14"), "-3d", "3651d", "2w"])))
        return draw(st.dates()) if mood.rng.random() < 0.5 else f"{mood.rng.randint(0, 120)}d"
    if kind == "duration":
        if odd:
            return draw(ODD_DURATIONS)
        return draw(DURATIONS if "d" in spec.units else SHORT_DURATIONS)
    if kind == "choice":
        if odd:
            return draw(TEXT)
        # chart p fits only percentage KPIs; tame playbooks use the charts every KPI takes
        return mood.rng.choice([c for c in spec.choices if (key, c) != ("chart", "p")])
    if kind == "strs":
        one = (lambda: draw(TEXT)) if odd else (lambda: mood.rng.choice(spec.choices))
        return one() if mood.rng.random() < 0.5 else [one() for _ in range(mood.rng.randint(1, 3))]
    if kind == "rules" and not odd and mood.rng.random() < 0.5:  # a preset, else numbers
        return mood.rng.choice(spec.choices)
    if kind in ("list", "rules"):
        assert spec.item is not None
        if key == "plugins":
            return draw(ODD_PLUGINS) if odd else []
        items = [generate(draw, spec.item, key, ids, mood) for _ in range(mood.rng.randint(0, 3))]
        if not wild:  # tame lists name each thing once
            items = [x for i, x in enumerate(items) if x not in items[:i]]
        return items[0] if len(items) == 1 and mood.rng.random() < 0.3 else items
    if kind == "free":
        return draw(FREE[wild]) if odd else {}
    if kind == "entries":
        assert spec.entry is not None
        entries = {}
        for name in ids.get(key, []):
            mood.current = name
            entries[name] = generate(draw, spec.entry, key[:-1], ids, mood)
        return entries
    if kind == "object":
        out: dict[Any, Any] = {}
        for name, field in spec.fields.items():
            wanted = field.required or mood.chance(1 / 2, 2 / 3 if spec is PLAYBOOK else 1 / 3)
            if field.kind == "entries" and ids.get(name) and not wild:
                wanted = True  # tame playbooks define what they refer to
            if wanted:
                if field.required and mood.chance(1 / 20, 1 / 300):
                    continue  # a required key left out
                out[name] = generate(draw, field, name, ids, mood)
        if not wild:
            for name, strategy in TAME_OVERRIDES.get(key, {}).items():
                if not mood.chance(0, 1 / 30):
                    out[name] = draw(strategy)
        if mood.chance(1 / 8, 1 / 400):
            out[draw(IDS)] = draw(SMALL_JUNK[wild])  # an unknown key or plugin option
        if mood.chance(1 / 20, 1 / 300) and out:  # a duplicate key
            k = mood.rng.choice(list(out))
            out[Raw(k) if isinstance(k, str) and _PLAIN_SAFE.match(k) else k] = out[k]
        return out
    return draw(JUNK[wild])  # a kind added to the schema later: anything goes


@st.composite
def playbooks(draw: Any) -> Any:
    """A value tree shaped like a playbook, with references between its entries."""
    mood = Mood(draw(st.booleans()), random.Random(draw(st.integers(0, 2**32 - 1))))
    wild = mood.wild
    ids = {}
    for name, spec in PLAYBOOK.fields.items():
        if spec.kind == "entries":
            n = mood.rng.randint(0 if wild else 1, 5)
            ids[name] = draw(st.lists(IDS if wild else SLUG, min_size=n, max_size=n, unique=True))
    mood.ghosts = mood.chance(1 / 3, 1 / 6)
    tree = generate(draw, PLAYBOOK, "the playbook", ids, mood)
    if isinstance(tree, dict):
        tasks = tree.get("tasks")
        graph = mood.rng.choice(["as generated", "acyclic", "random"])
        if isinstance(tasks, dict) and tasks and graph != "as generated":
            # a dependency graph over the tasks: acyclic (each task waits for earlier ones,
            # all in one phase) or random, with cycles and tasks waiting for themselves
            names = [t for t in tasks if isinstance(t, str)]
            for i, name in enumerate(names):
                task = tasks[name]
                if isinstance(task, dict):
                    choices = names[:i] if graph == "acyclic" else names
                    # random graphs give every task an edge, so cycles are common, not luck
                    k = min(mood.rng.randint(0 if graph == "acyclic" else 1, 2), len(choices))
                    task["depends_on"] = mood.rng.sample(choices, k)
                    if graph == "acyclic":
                        task.pop("phase", None)
        if wild:
            tree = draw(decorate(tree))
    return tree


@st.composite
def decorate(draw: Any, tree: dict[Any, Any]) -> Any:
    """Anchors and aliases, merges, tags sprinkled on a generated tree."""
    roll = draw(st.integers(0, 9))
    if roll == 0 and tree:
        key = draw(st.sampled_from(list(tree)))
        tree[key] = Tagged(draw(TAGS), tree[key])
    elif roll == 1 and len(tree) >= 2:
        first, second = draw(st.permutations(list(tree)))[:2]
        tree[first] = Anchor("a1", tree[first])
        tree[second] = Alias("a1")
    elif roll == 2:
        tree[Raw("<<")] = draw(
            st.sampled_from([Raw("5"), Raw("[1, 2]"), Raw("*nothing"), {"title": "merged"}])
        )
    elif roll == 3 and tree:
        # recursive alias: a value that contains itself
        key = draw(st.sampled_from(list(tree)))
        tree[key] = Anchor("self", [Alias("self")])
    return tree


def defuse_plugins(tree: Any) -> Any:
    """Keep generated ``plugins:`` values from naming a module that exists.

    pdca imports the modules a playbook names: a fuzzer must not run one. Names
    are also kept short, since plugins.py quotes them back whole (twice).
    """
    if not isinstance(tree, dict) or "plugins" not in tree:
        return tree

    def safe(value: Any) -> Any:
        if isinstance(value, Raw | Tagged | Anchor):
            return safe(value.text if isinstance(value, Raw) else value.value)
        if isinstance(value, list):
            return [safe(v) for v in value]
        if isinstance(value, str):
            value = value[:100]
            top = value.split(".")[0]
            try:
                found = top.isidentifier() and importlib.util.find_spec(top) is not None
            except (ImportError, ValueError):
                found = False
            return "zz_not_a_module_" + value if found else value
        return value

    return {**tree, "plugins": safe(tree["plugins"])}


def render(tree: Any, seed: int, how: str) -> bytes:
    tree = defuse_plugins(tree)
    if how == "safe_dump":
        # yaml.safe_dump, and the same representer over libyaml's emitter
        text = yaml.dump(
            plain_python(tree),
            Dumper=yaml.CSafeDumper if seed & 8 else yaml.SafeDumper,
            allow_unicode=bool(seed & 1),
            default_flow_style=bool(seed & 2) or None,
            sort_keys=False,
            width=10**6 if seed & 4 else 80,
        )
        return text.encode("utf-8", "surrogatepass")
    newline = "\r\n" if how == "crlf" else "\n"
    text = Emitter(seed, newline).document(tree)
    data = text.encode("utf-8", "surrogatepass")
    return b"\xef\xbb\xbf" + data if how == "bom" else data


# -- mutations of real playbooks ------------------------------------------------------------

MUTATION_TAGS = [
    b"!!python/object:os.system ",
    b"!!python/object/apply:os.system ",
    b"!custom ",
    b"!!binary ",
    b"!!str ",
    b"!!map ",
    b"&anchor ",
    b"*anchor ",
    b"? ",
    b"<<: ",
]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


Mutation = Callable[[bytes, Any], bytes]


def flip_byte(data: bytes, draw: Any) -> bytes:
    if not data:
        return data
    i = draw(st.integers(0, len(data) - 1))
    bit = draw(st.integers(0, 7))
    return data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1 :]


def set_byte(data: bytes, draw: Any) -> bytes:
    i = draw(st.integers(0, len(data)))
    b = draw(st.sampled_from([0, 9, 10, 13, 0x22, 0x27, 0x3A, 0x5B, 0x7B, 0x80, 0xC3, 0xFF, 0xFE]))
    return data[:i] + bytes([b]) + data[i + 1 :]


def delete_line(data: bytes, draw: Any) -> bytes:
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    return b"\n".join(lines[:i] + lines[i + 1 :])


def duplicate_line(data: bytes, draw: Any) -> bytes:
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines)))
    lines.insert(j, lines[i])
    return b"\n".join(lines)


def swap_lines(data: bytes, draw: Any) -> bytes:
    lines = _lines(data)
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def reindent(data: bytes, draw: Any) -> bytes:
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    shift = draw(st.integers(-4, 6))
    line = lines[i]
    lines[i] = (
        b" " * shift + line if shift >= 0 else line[min(-shift, len(line) - len(line.lstrip())) :]
    )
    return b"\n".join(lines)


def insert_tab(data: bytes, draw: Any) -> bytes:
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines[i])))
    lines[i] = lines[i][:j] + b"\t" + lines[i][j:]
    return b"\n".join(lines)


def truncate(data: bytes, draw: Any) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def insert_tag(data: bytes, draw: Any) -> bytes:
    """A tag, anchor, alias or merge right after some ``key: `` (or anywhere)."""
    tag = draw(st.sampled_from(MUTATION_TAGS))
    spots = [m.end() for m in re.finditer(rb": ", data)]
    i = draw(st.sampled_from(spots)) if spots else draw(st.integers(0, len(data)))
    return data[:i] + tag + data[i:]


def anchor_alias(data: bytes, draw: Any) -> bytes:
    """Anchor one value and replace a later value with an alias to it."""
    spots = [m.end() for m in re.finditer(rb": ", data)]
    if len(spots) < 2:
        return data
    a, b = sorted((draw(st.sampled_from(spots)), draw(st.sampled_from(spots))))
    if a == b:
        return data
    end = data.find(b"\n", b)
    end = len(data) if end < 0 else end
    name = draw(st.sampled_from([b"x", b"y", b"x"]))
    return data[:a] + b"&" + name + b" " + data[a:b] + b"*" + name + data[end:]


def insert_text(data: bytes, draw: Any) -> bytes:
    i = draw(st.integers(0, len(data)))
    text = draw(st.one_of(TEXT, st.sampled_from(["\u2028", "\x85", "\ufeff", "\r", "- ", ": "])))
    return data[:i] + text.encode("utf-8", "surrogatepass") + data[i:]


def crlf(data: bytes, draw: Any) -> bytes:
    return data.replace(b"\n", draw(st.sampled_from([b"\r\n", b"\r"])))


MUTATIONS: list[Mutation] = [
    flip_byte,
    set_byte,
    delete_line,
    duplicate_line,
    swap_lines,
    reindent,
    insert_tab,
    truncate,
    insert_tag,
    anchor_alias,
    insert_text,
    crlf,
]


@st.composite
def mutated(draw: Any) -> bytes:
    data = draw(st.sampled_from(SEED_BYTES))
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=5)):
        data = mutation(data, draw)
        event(mutation.__name__)
    return data


# -- the tests ------------------------------------------------------------------------------


@FUZZ
@given(tree=playbooks(), seed=st.integers(0, 2**32 - 1), how=st.sampled_from(["lf", "crlf", "bom"]))
def test_generated_playbooks_own_emitter(workdir: Path, tree: Any, seed: int, how: str) -> None:
    check_bytes(workdir, render(tree, seed, how))


@FUZZ
@given(tree=playbooks(), seed=st.integers(0, 15))
def test_generated_playbooks_safe_dump(workdir: Path, tree: Any, seed: int) -> None:
    check_bytes(workdir, render(tree, seed, "safe_dump"))


@FUZZ
@given(data=mutated())
def test_mutated_real_playbooks(workdir: Path, data: bytes) -> None:
    check_bytes(workdir, data)


@FUZZ
@given(
    key=st.sampled_from([*PLAYBOOK.fields, "unknown"]),
    value=junk(20),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_value_under_any_key(workdir: Path, key: str, value: Any, seed: int) -> None:
    # one key of the format (or an unknown one) holding anything at all
    tree = {"playbook": "p", "title": "T", key: value}
    check_bytes(workdir, render(tree, seed, "lf"))


# -- the generators reach what they are meant to reach -------------------------------------


def _without_local_constants() -> None:
    """Make the sample depend on the strategy and the seed alone.

    Hypothesis mixes in constants it finds in the project's own modules, scanned
    again whenever a new module is imported; so any change to pdca, or the moment
    a lazy import happens, drew a different sample (once: none of 200 valid)."""
    from hypothesis.internal.conjecture import providers

    if hasattr(providers, "_get_local_constants"):
        empty = type(providers._local_constants)()
        providers._get_local_constants = lambda: empty


def reach_counts(folder: Path) -> Counter[str]:
    """What a fixed sample of 200 generated playbooks reaches: keys, outcomes, messages."""
    _without_local_constants()
    seen: Counter[str] = Counter()
    path = folder / "reach.yaml"

    @settings(
        max_examples=200,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(tree=playbooks())
    def sample(tree: Any) -> None:
        path.write_bytes(render(tree, 1, "lf"))
        result = inspect(path)
        if isinstance(tree, dict):
            seen.update(f"key {k}" for k in tree if isinstance(k, str))
        seen["valid"] += result.ok
        seen["valid with tasks"] += bool(result.ok and result.playbook.tasks)
        for problem in result.errors:
            for outcome in ("dependency cycle", "refers to unknown", "invalid YAML", "tag '"):
                seen[outcome] += outcome in problem.message

    sample()
    return seen


def test_generated_playbooks_reach_every_check(workdir: Path) -> None:
    # A fuzzer that only produced garbage would test the first error path and nothing
    # else: a fixed sample of generated playbooks must reach each of these outcomes.
    # The sample is drawn in a fresh interpreter: within this one, what the fuzz tests
    # before it ran changes what Hypothesis generates, and so the sample.
    code = (
        "import json, sys; from pathlib import Path; import test_fuzz_playbooks as t; "
        "print(json.dumps(t.reach_counts(Path(sys.argv[1]))))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(workdir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    seen = Counter(json.loads(proc.stdout.splitlines()[-1]))
    wanted = ["valid", "valid with tasks", "dependency cycle", "refers to unknown"]
    wanted += ["invalid YAML", "tag '"]
    wanted += [f"key {k}" for k in PLAYBOOK.fields]  # new keys are fuzzed without edits here
    assert {w: seen[w] for w in wanted if not seen[w]} == {}, seen


def test_property_rejects_a_misplaced_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the property itself can fail: an error placed past the end of the file is caught
    from pdca.errors import Location, Problem
    from pdca.playbook import Inspection

    path = tmp_path / "p.yaml"
    path.write_text("playbook: p\ntitle: T\n")

    def fake(p: Any, **_: Any) -> Inspection:
        return Inspection(Path(p), None, [Problem("bad", Location(str(p), 99, 1))])

    monkeypatch.setattr(sys.modules[__name__], "inspect", fake)
    with pytest.raises(AssertionError, match="line 99"):
        assert_sound(path)
