"""From libyaml's node tree to the playbook model, checking shapes on the way.

The walk follows :mod:`pdca.playbook.schema`, so every key the format knows is
read exactly once and every problem is reported where it was written. It keeps
going after a problem (with a placeholder value) so one run lists them all.
Locations are computed only when asked for: a 10,000-task playbook should cost
little more than libyaml's own parse.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from pdca.errors import Location, PlaybookError, Problem
from pdca.playbook import model as m
from pdca.playbook.loader import (
    MAX_DEPTH,
    MAX_NODES_FACTOR,
    T_BOOL,
    T_FLOAT,
    T_INT,
    T_MAP,
    T_NULL,
    T_SEQ,
    T_STR,
    T_TIMESTAMP,
    _constructor,
)
from pdca.playbook.schema import PLAYBOOK, Spec

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
_DURATION = re.compile(r"\s*([0-9]+)\s*([a-z]*)\s*\Z")
_UNIT_HOURS = {"h": 1.0, "d": 24.0, "w": 168.0}
_UNIT_NAMES = {"h": "hours", "d": "days", "w": "weeks"}
T_MERGE = "tag:yaml.org,2002:merge"

BAD: Any = object()
"""Marks a value that failed its check; the problem is already recorded."""


def tag_name(tag: str) -> str:
    """``!!python/object`` as written, rather than its expanded URI."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


SHOWN = 60
"""Characters of a value quoted in a message; a 10 MB line is not echoed back whole."""


def shown(text: str) -> str:
    """A value as messages quote it: cut when long, control characters made visible."""
    cut = text[:SHOWN]
    if not cut.isprintable():
        cut = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return cut if len(text) <= SHOWN else f"{cut}... ({len(text)} characters)"


def suggest(word: str, options: Any) -> str:
    """A "did you mean" tail for an unknown name, or nothing when nothing is close."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def parse_duration(text: str, units: str) -> tuple[float | None, str | None]:
    """Hours in a duration like ``3d``; (None, reason) when it is not one."""
    match = _DURATION.match(text.lower())
    allowed = " | ".join(units)
    if not match or (match.group(2) and match.group(2) not in units):
        return (
            None,
            f"'{shown(text)}' is not a duration: write an integer followed by {allowed} (e.g. 28d)",
        )
    digits, unit = match.group(1).lstrip("0") or "0", match.group(2) or "d"
    # int() refuses more than 4,300 digits; any 19 digits are far beyond every limit
    number = int(digits) if len(digits) <= 18 else 10**18
    if number <= 0:
        return None, f"'{shown(text)}' must be longer than zero"
    return number * _UNIT_HOURS[unit], None


def _pack(node: yaml.Node) -> int:
    mark = node.start_mark
    return (mark.line + 1) << 20 | (mark.column + 1)


class Places(Mapping[str, Location]):
    """Where an entry's values were written, keyed ``owner``, ``when.metric``, ``depends_on.2``.

    Positions are packed into one int per key: a dict of str -> int is not
    tracked by Python's cycle collector, so a 10,000-task playbook's locations
    cost the rest of the run nothing, and the YAML node tree can be freed.
    """

    __slots__ = ("_file", "_packed", "_prefix")

    def __init__(self, file: str, packed: dict[str, int], prefix: str = ""):
        self._file = file
        self._packed = packed
        self._prefix = prefix

    def __getitem__(self, key: str) -> Location:
        packed = self._packed[self._prefix + key]
        return Location(self._file, packed >> 20, packed & 0xFFFFF)

    def __iter__(self) -> Iterator[str]:
        n = len(self._prefix)
        return (k[n:] for k in self._packed if k.startswith(self._prefix) and "." not in k[n:])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def item(self, key: str, index: int) -> Location | None:
        """Location of one item of a list value, such as one ``depends_on`` entry."""
        for candidate in (f"{key}.{index}", key):
            if self._prefix + candidate in self._packed:
                return self[candidate]
        return None

    def child(self, key: str) -> Places | None:
        """Locations inside a nested mapping such as ``params`` or ``when``."""
        prefix = f"{self._prefix}{key}."
        if any(k.startswith(prefix) for k in self._packed):
            return Places(self._file, self._packed, prefix)
        return None


class Reader:
    """Reads nodes by spec, recording problems instead of stopping at the first."""

    def __init__(self, filename: str, node_budget: int):
        self.file = filename
        self.problems: list[Problem] = []
        self.budget = node_budget
        self._merging: set[int] = set()
        self._looped: set[int] = set()

    def loc(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.file, mark.line + 1, mark.column + 1)

    def error(self, message: str, node: yaml.Node | Location | None) -> Any:
        where = node if isinstance(node, Location) or node is None else self.loc(node)
        self.problems.append(Problem(message, where))
        return BAD

    def warn(self, message: str, where: Location | None) -> None:
        self.problems.append(Problem(message, where, "warning"))

    # -- mappings -------------------------------------------------------------------
    def pairs(self, node: yaml.MappingNode) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key, key node, value node) for a mapping: keys checked, duplicates refused."""
        if node.tag != T_MAP:
            self.error(f"tag '{shown(tag_name(node.tag))}' is not allowed in a playbook", node)
        out: list[tuple[str, yaml.Node, yaml.Node]] = []
        seen: dict[str, yaml.Node] = {}
        merged: list[tuple[str, yaml.Node, yaml.Node]] = []
        for knode, vnode in node.value:
            if knode.tag not in _STANDARD_TAGS and knode.tag != T_MERGE:
                self._bad_tag(knode)
                continue
            if type(knode) is not yaml.ScalarNode:
                self.error("a key must be a plain name, not a list or mapping", knode)
                continue
            if knode.tag == T_MERGE:
                merged.extend(self._merge_pairs(vnode, node))
                continue
            key = knode.value
            first = seen.get(key)
            if first is not None:
                self.error(
                    f"duplicate key '{shown(key)}' (first at line {first.start_mark.line + 1}); "
                    "YAML would silently keep only the last one",
                    knode,
                )
                continue
            seen[key] = knode
            out.append((key, knode, vnode))
        for key, knode, vnode in merged:
            if key not in seen:
                seen[key] = knode
                out.append((key, knode, vnode))
        return out

    def _merge_pairs(
        self, vnode: yaml.Node, into: yaml.MappingNode
    ) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if vnode.tag not in _STANDARD_TAGS:
            self._bad_tag(vnode)
            return []
        sources = vnode.value if type(vnode) is yaml.SequenceNode else [vnode]
        out: list[tuple[str, yaml.Node, yaml.Node]] = []
        outer = id(into) not in self._merging
        self._merging.add(id(into))  # the mappings being merged into, innermost last
        try:
            for src in sources:
                if src.tag not in _STANDARD_TAGS:
                    self._bad_tag(src)
                    continue
                if type(src) is not yaml.MappingNode:
                    self.error("'<<' merges mappings only", src)
                    continue
                if id(src) in self._merging:
                    if id(src) not in self._looped:
                        self._looped.add(id(src))
                        self.error("'<<' merges a mapping into itself (a recursive alias)", src)
                    continue
                # merged mappings may merge others: alias expansion, bounded like plain()'s
                self.budget -= len(src.value) + 1
                if self.budget < 0:
                    self._alias_bomb(src, "expand to far more values than the file holds")
                out.extend(self.pairs(src))
        finally:
            if outer:
                self._merging.discard(id(into))
        return out

    # -- values ---------------------------------------------------------------------
    def read(
        self,
        node: yaml.Node,
        spec: Spec,
        key: str,
        places: dict[str, int] | None = None,
        path: str = "",
    ) -> Any:
        """The value of ``node`` as ``spec`` says; positions of nested values go to ``places``
        under ``path`` (the dotted key of ``node`` within its entry)."""
        kind = spec.kind
        cls = type(node)
        if node.tag not in _STANDARD_TAGS:
            return self._bad_tag(node)
        if kind in _SCALAR_KINDS:
            if cls is not yaml.ScalarNode:
                return self.error(f"'{key}' must be {_A[kind]}, not a {_shape(node)}", node)
            return _SCALAR_KINDS[kind](self, node, spec, key)
        if kind == "list":
            items = [node] if cls is yaml.ScalarNode and node.tag != T_NULL else None
            if items is None:
                if cls is not yaml.SequenceNode:
                    return self.error(f"'{key}' must be a list, not a {_shape(node)}", node)
                if node.tag != T_SEQ:
                    self.error(
                        f"tag '{shown(tag_name(node.tag))}' is not allowed in a playbook", node
                    )
                items = node.value
            assert spec.item is not None
            if places is not None and cls is yaml.SequenceNode:
                for i, item in enumerate(items):
                    places[f"{path}.{i}"] = _pack(item)
            values = [self.read(item, spec.item, key) for item in items]
            return [v for v in values if v is not BAD]
        if kind == "strs":
            items = node.value if cls is yaml.SequenceNode else [node]
            out = []
            for item in items:
                if item.tag not in _STANDARD_TAGS:
                    self._bad_tag(item)
                    continue
                if type(item) is not yaml.ScalarNode:
                    self.error(f"'{key}' must be a status or a list of statuses", item)
                    continue
                value = self.choice(item, spec, key)
                if value is not BAD:
                    out.append(value)
            return tuple(out) if out else BAD
        if cls is not yaml.MappingNode:
            if cls is yaml.ScalarNode and node.tag == T_NULL and kind == "entries":
                return {}
            return self.error(f"'{key}' must be a mapping, not a {_shape(node)}", node)
        if kind == "free":
            if places is not None:
                for k, _, v in self.pairs(node):
                    places[f"{path}.{k}"] = _pack(v)
            return self.plain(node)
        if kind == "entries":
            return self.entries(node, spec, key)
        return self.obj(node, spec, key, places, path + "." if path else "")

    def obj(
        self,
        node: yaml.MappingNode,
        spec: Spec,
        key: str,
        places: dict[str, int] | None = None,
        prefix: str = "",
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        fields = spec.fields
        for name, knode, vnode in self.pairs(node):
            if places is not None:
                places[prefix + name] = _pack(vnode)
            field_spec = fields.get(name)
            if field_spec is None:
                if spec.open:
                    out[name] = self.plain(vnode)
                else:
                    self.error(
                        f"unknown key '{shown(name)}' in {key}{suggest(name, fields)}", knode
                    )
                continue
            value = self.read(vnode, field_spec, name, places, prefix + name)
            if value is not BAD:
                out[name] = value
        for name, field_spec in fields.items():
            if field_spec.required and name not in out and not self._reported(node, name):
                self.error(f"{key} needs '{name}' ({field_spec.doc.rstrip('.').lower()})", node)
        return out

    def _reported(self, node: yaml.MappingNode, name: str) -> bool:
        """True when the key is present (its bad value was already reported)."""
        return any(isinstance(k, yaml.ScalarNode) and k.value == name for k, _ in node.value)

    def entries(self, node: yaml.MappingNode, spec: Spec, key: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        assert spec.entry is not None
        what = key[:-1] if key.endswith("s") else key
        for name, knode, vnode in self.pairs(node):
            if not _SLUG.match(name):
                self.error(
                    f"{what} id '{shown(name)}' is not a valid id: use lower-case letters, digits, "
                    "'-' and '_', starting with a letter or digit",
                    knode,
                )
            if vnode.tag not in _STANDARD_TAGS:
                self._bad_tag(vnode)
                continue
            if type(vnode) is not yaml.MappingNode:
                self.error(
                    f"{what} '{shown(name)}' must be a mapping of its settings, "
                    f"not a {_shape(vnode)}",
                    vnode,
                )
                continue
            places: dict[str, int] = {}
            values = self.obj(vnode, spec.entry, f"{what} '{shown(name)}'", places)
            out[name] = (values, Places(self.file, places), self.loc(knode))
        return out

    def plain(self, node: yaml.Node, depth: int = 0) -> Any:
        """Any YAML value as plain Python (for plugin options), with aliases bounded."""
        self.budget -= 1
        if self.budget < 0 or depth > MAX_DEPTH:
            why = (
                "nest too deeply"
                if depth > MAX_DEPTH
                else "expand to far more values than the file holds"
            )
            self._alias_bomb(node, why)
        cls = type(node)
        if cls is yaml.ScalarNode:
            value = self.scalar(node)
            # a refused value (already reported) reaches plugins as written, not as BAD
            return node.value if value is BAD else value
        if cls is yaml.SequenceNode:
            if node.tag != T_SEQ:
                self.error(f"tag '{shown(tag_name(node.tag))}' is not allowed in a playbook", node)
            return [self.plain(item, depth + 1) for item in node.value]
        return {k: self.plain(v, depth + 1) for k, _, v in self.pairs(node)}

    def _alias_bomb(self, node: yaml.Node, why: str) -> None:
        raise PlaybookError(
            [
                *self.problems,
                Problem(
                    f"aliases {why} (an alias bomb or a recursive alias?); write the values out",
                    self.loc(node),
                ),
            ]
        )

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == T_STR:
            return node.value
        try:
            if tag == T_INT:
                if len(node.value.lstrip("+-").replace("_", "").lstrip("0")) > 100:
                    # int() would refuse it with advice about sys.set_int_max_str_digits()
                    return self.error(f"'{shown(node.value)}' is too large a number", node)
                return _constructor.construct_yaml_int(node)
            if tag == T_FLOAT:
                value = _constructor.construct_yaml_float(node)
                if not math.isfinite(value):
                    return self.error(f"'{shown(node.value)}' is not a finite number", node)
                return value
            if tag == T_BOOL:
                return _constructor.construct_yaml_bool(node)
            if tag == T_NULL:
                return None
            if tag == T_TIMESTAMP:
                return _constructor.construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            what = "date" if tag == T_TIMESTAMP else "number"
            return self.error(f"'{shown(node.value)}' is not a valid {what} ({exc})", node)
        except (AttributeError, LookupError, TypeError):
            # explicit tags on values that do not fit them: '!!timestamp nope',
            # '!!bool maybe', '!!int ""' (PyYAML fails with AttributeError, KeyError, IndexError)
            what = {T_TIMESTAMP: "date", T_BOOL: "boolean", T_NULL: "null"}.get(tag, "number")
            return self.error(f"'{shown(node.value)}' is not a valid {what}", node)
        return self._bad_tag(node)

    def _bad_tag(self, node: yaml.Node) -> Any:
        return self.error(
            f"tag '{shown(tag_name(node.tag))}' is not allowed in a playbook: "
            "only plain YAML values (strings, numbers, booleans, dates, lists, mappings)",
            node,
        )

    # -- scalar kinds ---------------------------------------------------------------
    def text(self, node: yaml.ScalarNode, spec: Spec, key: str) -> Any:
        tag = node.tag
        if tag == T_STR:
            return node.value
        if tag == T_NULL:
            return self.error(f"'{key}' needs a value", node)
        if tag in (T_INT, T_FLOAT, T_BOOL, T_TIMESTAMP):
            return node.value
        return self.scalar(node)

    def slug(self, node: yaml.ScalarNode, spec: Spec, key: str) -> Any:
        value = self.text(node, spec, key)
        if value is not BAD and not _SLUG.match(value):
            return self.error(
                f"'{key}' must be an id (lower-case letters, digits, '-', '_'), "
                f"got '{shown(value)}'",
                node,
            )
        return value

    def number(self, node: yaml.ScalarNode, spec: Spec, key: str) -> Any:
        tag = node.tag
        if tag not in (T_INT, T_FLOAT):
            return self.error(f"'{key}' must be a number, got '{shown(node.value)}'", node)
        value = self.scalar(node)
        if value is BAD:
            return BAD
        if abs(value) > 1e15:
            return self.error(f"'{key}' is too large ({shown(node.value)})", node)
        if spec.minimum is not None and value < spec.minimum:
            return self.error(f"'{key}' must be at least {spec.minimum:g}, got {value}", node)
        return value

    def integer(self, node: yaml.ScalarNode, spec: Spec, key: str) -> Any:
        if node.tag != T_INT:
            return self.error(f"'{key}' must be a whole number, got '{shown(node.value)}'", node)
        return self.number(node, spec, key)

    def boolean(self, node: yaml.ScalarNode, spec: Spec, key: str) -> Any:
        if node.tag != T_BOOL:
            return self.error(f"'{key}' must be true or false, got '{shown(node.value)}'", node)
        return self.scalar(node)

    def date(self, node: yaml.ScalarNode, spec: Spec, key: str) -> Any:
        if node.tag == T_TIMESTAMP:
            value = self.scalar(node)
            return value.date() if isinstance(value, datetime) else value
        if node.tag == T_STR:
            try:
                return date.fromisoformat(node.value.strip())
            except ValueError:
                pass
        return self.error(f"'{key}' must be a date as YYYY-MM-DD, got '{shown(node.value)}'", node)

    def duration(self, node: yaml.ScalarNode, spec: Spec, key: str) -> Any:
        if node.tag == T_INT:
            # a bare number counts days; 24:00 or 0x1F (YAML 1.1 ints) are quoted as written
            text = node.value + "d" if node.value.isdigit() else node.value
        elif node.tag == T_STR:
            text = node.value
        else:
            text = node.value
            return self.error(f"'{key}' must be a duration like 28d, got '{shown(text)}'", node)
        hours, reason = parse_duration(text, spec.units)
        if hours is None:
            return self.error(f"'{key}': {reason}", node)
        if hours > 3650 * 24:
            return self.error(f"'{key}' is longer than ten years ({shown(text)})", node)
        return hours

    def choice(self, node: yaml.ScalarNode, spec: Spec, key: str) -> Any:
        value = node.value
        if value not in spec.choices:
            options = " | ".join(spec.choices)
            return self.error(
                f"'{key}' must be one of {options}, got '{shown(value)}'"
                f"{suggest(value, spec.choices)}",
                node,
            )
        return value


_STANDARD_TAGS = frozenset({T_STR, T_INT, T_FLOAT, T_BOOL, T_NULL, T_TIMESTAMP, T_MAP, T_SEQ})

_SCALAR_KINDS = {
    "str": Reader.text,
    "slug": Reader.slug,
    "number": Reader.number,
    "int": Reader.integer,
    "bool": Reader.boolean,
    "date": Reader.date,
    "duration": Reader.duration,
    "choice": Reader.choice,
}
_A = {
    "str": "text",
    "slug": "an id",
    "number": "a number",
    "int": "a whole number",
    "bool": "true or false",
    "date": "a date",
    "duration": "a duration",
    "choice": "one word",
}


def _shape(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "null" if node.tag == T_NULL else f"value ('{shown(node.value)}')"


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def build(
    root: yaml.Node, path: Path, filename: str, text_size: int = 0
) -> tuple[m.Playbook, list[Problem]]:
    """The model for a parsed playbook, best effort, and the shape problems found."""
    reader = Reader(filename, MAX_NODES_FACTOR * max(text_size, 1000))
    if root.tag not in _STANDARD_TAGS:
        reader._bad_tag(root)
        return m.Playbook(id="", title="", path=path), reader.problems
    if type(root) is not yaml.MappingNode:
        reader.error(
            f"a playbook must be a mapping of keys (playbook:, title:, ...), not a {_shape(root)}",
            root,
        )
        return m.Playbook(id="", title="", path=path), reader.problems
    top_places: dict[str, int] = {}
    top = reader.obj(root, PLAYBOOK, "the playbook", top_places)
    file, base = filename, path.parent

    owners = {
        oid: m.Owner(
            id=oid,
            name=v.get("name", oid),
            email=v.get("email"),
            role=v.get("role"),
            members=tuple(v.get("members", ())),
            extra=_frozen({k: v[k] for k in ("slack", "timezone") if k in v}),
            loc=loc,
            locs=places,
        )
        for oid, (v, places, loc) in top.get("owners", {}).items()
    }
    sources = {}
    for sid, (v, places, loc) in top.get("sources", {}).items():
        options = {
            k: x for k, x in v.items() if k not in ("type", "timestamp", "comments", "description")
        }
        sources[sid] = m.Source(
            id=sid,
            type=v.get("type", ""),
            options=_frozen(options),
            timestamp=v.get("timestamp"),
            comments=v.get("comments"),
            base_dir=base,
            loc=loc,
            locs=places,
        )
    metrics = {}
    for mid, (v, places, loc) in top.get("metrics", {}).items():
        bench = v.get("benchmark")
        metrics[mid] = m.Metric(
            id=mid,
            source=v.get("source", ""),
            kpi=v.get("kpi", ""),
            target=float(v.get("target", math.nan)),
            title=v.get("title"),
            field=v.get("field"),
            params=_frozen(v.get("params", {})),
            filter=v.get("filter"),
            baseline=_float(v.get("baseline")),
            warn=_float(v.get("warn")),
            direction=v.get("direction", "increase"),
            window_days=_days(v.get("window"), 28),
            period=v.get("period", "week"),
            segment_by=v.get("segment_by"),
            comments=v.get("comments"),
            baseline_periods=v.get("baseline_periods"),
            benchmark=m.Benchmark(float(bench["value"]), bench.get("source"))
            if bench and "value" in bench
            else None,
            unit=v.get("unit"),
            loc=loc,
            locs=places,
        )
    objectives = {
        oid: m.Objective(
            id=oid,
            title=v.get("title", oid),
            owner=v.get("owner"),
            metrics=tuple(v.get("metrics", ())),
            due=v.get("due"),
            description=v.get("description"),
            loc=loc,
            locs=places,
        )
        for oid, (v, places, loc) in top.get("objectives", {}).items()
    }
    tasks = {}
    for tid, (v, places, loc) in top.get("tasks", {}).items():
        when = v.get("when")
        action = v.get("action")
        tasks[tid] = m.Task(
            id=tid,
            title=v.get("title", tid),
            owner=v.get("owner", ""),
            phase=v.get("phase", "do"),
            objective=v.get("objective"),
            depends_on=tuple(v.get("depends_on", ())),
            due=v.get("due"),
            estimate_hours=v.get("estimate"),
            when=m.When(when["metric"], when["status"])
            if when and "metric" in when and "status" in when
            else None,
            action=m.Action(
                action["type"], _frozen({k: x for k, x in action.items() if k != "type"})
            )
            if action and "type" in action
            else None,
            retries=v.get("retries", 0),
            description=v.get("description"),
            loc=loc,
            locs=places,
        )
    cycle = top.get("cycle", {})
    rules = tuple(top.get("check", {}).get("rules", (1, 2, 3, 5)))
    playbook = m.Playbook(
        id=top.get("playbook", ""),
        title=top.get("title", ""),
        path=path,
        description=top.get("description"),
        owners=MappingProxyType(owners),
        sources=MappingProxyType(sources),
        metrics=MappingProxyType(metrics),
        objectives=MappingProxyType(objectives),
        tasks=MappingProxyType(tasks),
        cycle=m.Cycle(cycle.get("start"), _days(cycle.get("length"), None)),
        plugins=tuple(top.get("plugins", ())),
        rules=rules,
        loc=Location(file, 1, 1),
        locs=Places(file, top_places),
    )
    return playbook, reader.problems


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _days(hours: float | None, default: int | None) -> int | None:
    return default if hours is None else max(1, round(hours / 24))
