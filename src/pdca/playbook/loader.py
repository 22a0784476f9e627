"""Reading playbook YAML safely.

PyYAML's constructors forget where values came from, keep the last of duplicate
keys, and expand aliases without limit. So pdca lets libyaml's C composer build
the node tree (fast, with marks) and converts nodes itself: only the standard
YAML tags, duplicate keys refused, alias expansion bounded, every value tied to
its line and column.
"""

from __future__ import annotations

import contextlib
import re
from bisect import bisect_right
from pathlib import Path
from typing import Any, ClassVar

import yaml

from pdca.errors import Location, PlaybookError, Problem

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_FLOAT_TAG = "tag:yaml.org,2002:float"


FLOAT = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
"""Floats as the playbook schema means them: YAML 1.1's forms, plus exponents without a
dot or an exponent sign (``1e-3``, ``1E5``, ``6.02e23``) and signed ``-.5``, which
YAML 1.1's pattern leaves as text although every reader of a playbook sees a number."""


def _implicit_table() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """PyYAML's implicit resolvers, copied, with :data:`FLOAT` for floats.

    A copy, so the change stays inside pdca: PyYAML's own table (which other
    libraries in the same process load with) is never touched.
    """
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items():
        table[first] = [(tag, FLOAT if tag == _FLOAT_TAG else rx) for tag, rx in resolvers]
    return table


class FastResolver(yaml.resolver.Resolver):
    """YAML 1.1 implicit typing as PyYAML's resolver does it, minus the per-call overhead.

    Profiling showed PyYAML's resolver, not libyaml, taking most of a large
    playbook's parse time. Safe loading has no path resolvers, so the lookup is
    a cached first-character dispatch over the same regular expressions, those
    of PyYAML's table except floats (:data:`FLOAT`). ``yes``/``no``/``on``/``off``
    stay booleans and ``070`` octal here; the playbook reader refuses the octal
    and base-60 numbers where it reads a number (:mod:`pdca.playbook.scalars`).
    """

    yaml_implicit_resolvers = _implicit_table()
    _cache: ClassVar[dict[str, str]] = {}

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _STR
            cache = FastResolver._cache
            tag = cache.get(value)
            if tag is None:
                tag = _STR
                for candidate, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                    if regexp.match(value):
                        tag = candidate
                        break
                if len(cache) < 50_000:
                    cache[value] = tag
            return tag
        return _SEQ if kind is yaml.SequenceNode else _MAP


try:
    from yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = None

if _Parser is not None:

    class _Loader(_Parser, yaml.constructor.SafeConstructor, FastResolver):  # type: ignore[misc,valid-type]
        """libyaml's parser and composer with the fast resolver and safe constructors."""

        def __init__(self, stream: Any):
            _Parser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            FastResolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml: slower, same results

    class _Loader(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        yaml.composer.Composer,
        yaml.constructor.SafeConstructor,
        FastResolver,
    ):
        """PyYAML's pure-Python parser with the same resolver as the C one."""

        def __init__(self, stream: Any):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            FastResolver.__init__(self)


class Dumper(yaml.SafeDumper):
    """Safe dumping that quotes every string the playbook loader would read as another type.

    PyYAML's dumper asks its own (YAML 1.1) table whether a string needs quotes,
    so it writes the text ``1e-3`` plain, which pdca then reads as a number.
    """

    yaml_implicit_resolvers = FastResolver.yaml_implicit_resolvers


def dump(data: Any) -> str:
    """YAML text that :func:`parse` reads back as ``data`` (keys in their given order)."""
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True)


MAX_BYTES = 20 * 1024 * 1024
"""Largest playbook file read; a 10,000-task playbook is about 1.5 MB."""

MAX_DEPTH = 200
"""Deepest nesting accepted; real playbooks stay under ten."""

_LONG_INDENT = re.compile(rf"^[ ]{{{MAX_DEPTH},}}", re.M)
_STACKED_BLOCKS = re.compile(rf"(?:[-?][ \t]+){{{MAX_DEPTH // 4},}}")

MAX_NODES_FACTOR = 4
"""Alias expansion may visit at most this many times the nodes the file itself holds."""

T_STR = "tag:yaml.org,2002:str"
T_INT = "tag:yaml.org,2002:int"
T_FLOAT = "tag:yaml.org,2002:float"
T_BOOL = "tag:yaml.org,2002:bool"
T_NULL = "tag:yaml.org,2002:null"
T_TIMESTAMP = "tag:yaml.org,2002:timestamp"
T_MAP = "tag:yaml.org,2002:map"
T_SEQ = "tag:yaml.org,2002:seq"

_constructor = yaml.constructor.SafeConstructor()


def read_text(path: Path) -> str:
    """The playbook's text; missing, unreadable or oversized files become PlaybookError."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise PlaybookError.at(
                f"file is {size} bytes, larger than the {MAX_BYTES} byte limit; split the playbook",
                Location(name, 1, 1),
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise PlaybookError([Problem(f"{name}: no such file")]) from None
    except IsADirectoryError:
        raise PlaybookError([Problem(f"{name}: is a folder, not a playbook file")]) from None
    except OSError as exc:
        raise PlaybookError([Problem(f"{name}: cannot read: {exc.strerror or exc}")]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise PlaybookError.at(
                "file is UTF-16 text; save it as UTF-8", Location(name, 1, 1)
            ) from None
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        before = body[: exc.start].decode("utf-8", "replace")
        lines = _EditorLines(before)
        line = len(lines.starts)
        col = len(before) - lines.starts[-1] + 1
        raise PlaybookError.at(
            f"file is not UTF-8 text (byte {exc.start + len(data) - len(body)}); save it as UTF-8",
            Location(name, line, col),
        ) from None
    return text


_BREAK = re.compile(r"\r\n|\r|\n")
_ODD_BREAKS = re.compile("[\x85\u2028\u2029]")


class _EditorLines:
    """Lines as editors count them.

    YAML 1.1 (and so libyaml) also ends a line at U+0085, U+2028 and U+2029, even
    inside a quoted string; editors do not, so a title holding one would move every
    later location down a line. Marks are recomputed from their character index.
    """

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in _BREAK.finditer(text)]

    def mark(self, mark: Any) -> yaml.Mark:
        line = bisect_right(self.starts, mark.index) - 1
        return yaml.Mark(mark.name, mark.index, line, mark.index - self.starts[line], None, None)

    def fix(self, root: yaml.Node) -> None:
        """Give every node of the tree an editor's start mark."""
        seen: set[int] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            node.start_mark = self.mark(node.start_mark)
            if type(node) is yaml.MappingNode:
                for key, value in node.value:
                    stack += (key, value)
            elif type(node) is yaml.SequenceNode:
                stack.extend(node.value)


def parse(text: str, filename: str) -> yaml.Node:
    """Compose YAML text into libyaml's node tree; PlaybookError for anything unusable."""
    lines = _EditorLines(text) if _ODD_BREAKS.search(text) else None
    try:
        _check_depth(text, filename, lines)
        ynode = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if mark is not None and lines is not None:
            mark = lines.mark(mark)
        loc = (
            Location(filename, mark.line + 1, mark.column + 1) if mark else Location(filename, 1, 1)
        )
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and "duplicate anchor" in exc.context and exc.context_mark is not None:
            # libyaml's own words are "second occurrence", which says nothing on its own
            first = exc.context_mark if lines is None else lines.mark(exc.context_mark)
            problem = (
                f"this anchor (&name) was already defined at line {first.line + 1}; "
                "give each anchor its own name"
            )
        hint = _yaml_hint(problem, text, mark.index if mark else -1)
        raise PlaybookError.at(f"invalid YAML: {problem}{hint}", loc) from None
    except yaml.YAMLError as exc:
        raise PlaybookError.at(f"invalid YAML: {exc}", Location(filename, 1, 1)) from None
    if ynode is None:
        raise PlaybookError.at(
            "the playbook is empty: it needs at least 'playbook:' (an id) and 'title:'",
            Location(filename, 1, 1),
        )
    if lines is not None:
        lines.fix(ynode)
    return ynode


def _check_depth(text: str, filename: str, lines: _EditorLines | None = None) -> None:
    """Refuse absurdly deep nesting before libyaml's recursive composer sees it.

    libyaml builds nodes recursively in C and crashes the process on nesting a few
    thousand levels deep. Cheap tests rule out ordinary files; only suspicious ones
    pay for an exact count over the event stream.

    libyaml 0.2.6 (in PyYAML 6.0.4 wheels) stops at 1000 levels with an error of
    its own, and as its scanner reads up to 1024 characters ahead, that error can
    come before the event crossing MAX_DEPTH was handed out. So when the count
    ends in a YAML error, it is repeated over the text before the place the
    parser stopped (all of it is handed out then), and, should a parser's limit
    be lower than MAX_DEPTH, over the whole text with PyYAML's pure-Python parser,
    which has none. Only if neither finds too deep a nesting does the error stand.
    """
    suspicious = (
        _LONG_INDENT.search(text) is not None
        or _STACKED_BLOCKS.search(text) is not None
        or _max_flow_depth(text) > MAX_DEPTH
    )
    if not suspicious:
        return
    try:
        _count_depth(text, _Loader, filename, lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if mark is not None and 0 < mark.index < len(text):
            with contextlib.suppress(yaml.YAMLError):
                _count_depth(text[: mark.index], _Loader, filename, lines)
        if _Parser is not None:
            with contextlib.suppress(yaml.YAMLError):
                _count_depth(text, yaml.SafeLoader, filename, lines)
        raise


def _count_depth(text: str, loader: Any, filename: str, lines: _EditorLines | None) -> None:
    """PlaybookError at the first collection nested deeper than MAX_DEPTH."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark if lines is None else lines.mark(event.start_mark)
                raise PlaybookError.at(
                    f"values are nested more than {MAX_DEPTH} levels deep; flatten the structure",
                    Location(filename, mark.line + 1, mark.column + 1),
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _max_flow_depth(text: str) -> int:
    """An upper bound of bracket nesting (brackets in strings count too, harmlessly).

    Only the brackets are walked (every other character deleted first, in C), so a
    playbook of many one-line ``{...}`` entries costs a short loop, not numpy's import.
    """
    opens = text.count("[") + text.count("{")
    if opens <= MAX_DEPTH:
        return opens
    depth = deepest = 0
    for c in _BRACKETS.sub("", text):
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


_BRACKETS = re.compile(r"[^\[\]{}]+")


def _yaml_hint(problem: str, text: str, index: int) -> str:
    if "\\t" in problem or "tab" in problem or (0 <= index < len(text) and text[index] == "\t"):
        return " (YAML indents with spaces, not tabs)"
    if "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        return " (is a bracket left unclosed?)"
    if "mapping values are not allowed" in problem:
        return " (a value containing ': ' needs quotes)"
    return ""
