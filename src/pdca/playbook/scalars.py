"""Reading one YAML scalar as the kind of value the schema asks for.

A playbook's values arrive as libyaml scalar nodes with a resolved tag; each
kind (text, id, number, date, duration, one of a few words ...) accepts only
the tags that can honestly mean it and reports anything else where it was
written, returning :data:`BAD` so the walk goes on and one run lists every
problem. :class:`ScalarReader` holds the problem list; the tree walk in
:mod:`pdca.playbook.reader` builds on it.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

import yaml

from pdca.errors import Location, Problem
from pdca.playbook.loader import (
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
from pdca.playbook.messages import shown, suggest, tag_name
from pdca.playbook.schema import Spec

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
DURATION = re.compile(r"\s*([0-9]+)\s*([a-z]*)\s*\Z")
UNIT_HOURS = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}
UNIT_NAMES = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
STANDARD_TAGS = frozenset({T_STR, T_INT, T_FLOAT, T_BOOL, T_NULL, T_TIMESTAMP, T_MAP, T_SEQ})

BAD: Any = object()
"""Marks a value that failed its check; the problem is already recorded."""

_NOT_OCTAL = re.compile(r"[-+]?0[0-7_]*[89][0-9_]*\Z")


def misread_number(node: yaml.ScalarNode) -> str | None:
    """How YAML 1.1 misreads a plain number with a leading zero or in base 60, or None.

    YAML 1.1 reads ``070`` as octal 56 and ``1:30`` as 90 (1*60 + 30); nobody
    writing a target means either, so where a number is read these are refused
    with the reading spelled out. Quoted values, ``0``, ``0.5``, ``0x1F`` and
    ``0b101`` are not misread. A value that is no number at all (``!!int a:b``)
    is None here, for the caller's own "not a valid number".
    """
    try:
        return _misread(node)
    except (ValueError, ArithmeticError, LookupError):
        return None


def _misread(node: yaml.ScalarNode) -> str | None:
    value = node.value
    if node.style or len(value) < 2:
        return None
    text = shown(value)
    quote = f"or quote it if you mean text ('{text}')"
    if ":" in value:
        return f"{text} is {base60_reading(node)}; write the number you mean, {quote}"
    if node.tag != T_INT:
        return None
    sign = value[0] if value[0] in "+-" else ""
    digits = value[len(sign) :]
    if len(digits) < 2 or digits[0] != "0" or digits[1] in "xXbB":
        return None
    plain = shown(sign + (digits.lstrip("0_") or "0"))
    if len(value) > _SPELLED:
        return f"{text} has a leading zero: YAML 1.1 reads it as octal; write {plain}, {quote}"
    read = _constructor.construct_yaml_int(node)
    return f"{text} has a leading zero: YAML 1.1 reads it as octal {read}; write {plain}, {quote}"


def base60_reading(node: yaml.ScalarNode) -> str:
    """``a base-60 number to YAML 1.1, which reads it as 90 (1*60 + 30)`` for ``1:30``."""
    value = node.value
    if len(value) > _SPELLED:
        return "a base-60 number to YAML 1.1"
    read = (
        _constructor.construct_yaml_int(node)
        if node.tag == T_INT
        else _constructor.construct_yaml_float(node)
    )
    sign = value[0] if value[0] in "+-" else ""
    parts = value[len(sign) :].split(":")
    last = len(parts) - 1
    sum_ = " + ".join(
        f"{part}*{60 ** (last - i)}" if i < last else part for i, part in enumerate(parts)
    )
    number = str(read) if isinstance(read, int) else f"{read:.15g}"
    return (
        f"a base-60 number to YAML 1.1, which reads it as {number} "
        f"({sign + '(' + sum_ + ')' if sign else sum_})"
    )


_SPELLED = 40
"""Longest misread number whose YAML 1.1 value a message spells out."""


def not_octal(node: yaml.ScalarNode) -> str | None:
    """Why a plain ``08`` or ``-09`` is text (not octal, not decimal to YAML 1.1), or None."""
    value = node.value
    if node.style or node.tag != T_STR or not _NOT_OCTAL.match(value):
        return None
    sign = value[0] if value[0] in "+-" else ""
    text, plain = shown(value), shown(sign + (value[len(sign) :].lstrip("0_") or "0"))
    return (
        f"{text} has a leading zero, which makes YAML 1.1 read a number as octal; "
        f"8 and 9 are not octal digits, so {text} is text; write {plain}"
    )


def bare_unit(units: str) -> str:
    """The unit of a number written without one: days, or the smallest unit where
    days are not among the units (``retry_delay: 30`` is 30 seconds, as ``timeout``)."""
    return "d" if "d" in units else units[0]


def parse_duration(text: str, units: str) -> tuple[float | None, str | None]:
    """Hours in a duration like ``3d``; (None, reason) when it is not one."""
    match = DURATION.match(text.lower())
    allowed = " | ".join(units)
    example = "28d" if "d" in units else f"30{units[0]}"
    if not match or (match.group(2) and match.group(2) not in units):
        return (
            None,
            f"'{shown(text)}' is not a duration: write an integer followed by {allowed} "
            f"(e.g. {example})",
        )
    digits, unit = match.group(1).lstrip("0") or "0", match.group(2) or bare_unit(units)
    # int() refuses more than 4,300 digits; any 19 digits are far beyond every limit
    number = int(digits) if len(digits) <= 18 else 10**18
    if number <= 0:
        return None, f"'{shown(text)}' must be longer than zero"
    return number * UNIT_HOURS[unit], None


def shape(node: yaml.Node) -> str:
    """What a node is, in a message's words: mapping, list, null or the value itself."""
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "null" if node.tag == T_NULL else f"value ('{shown(node.value)}')"


class ScalarReader:
    """Reads scalar nodes by spec, recording problems instead of stopping at the first."""

    def __init__(self, filename: str):
        self.file = filename
        self.problems: list[Problem] = []

    def loc(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.file, mark.line + 1, mark.column + 1)

    def error(self, message: str, node: yaml.Node | Location | None) -> Any:
        where = node if isinstance(node, Location) or node is None else self.loc(node)
        self.problems.append(Problem(message, where))
        return BAD

    def warn(self, message: str, where: Location | None) -> None:
        self.problems.append(Problem(message, where, "warning"))

    def scalar(self, node: yaml.ScalarNode, key: str = "") -> Any:
        """The node's value by its tag; ``key`` names it in a misread number's message."""
        tag = node.tag
        if tag == T_STR:
            return node.value
        if tag in (T_INT, T_FLOAT) and not node.style:
            misread = misread_number(node)
            if misread is not None:
                return self.error(f"'{shown(key)}': {misread}" if key else misread, node)
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
        if value is not BAD and not SLUG.match(value):
            if spec.kind == "plugin" and SLUG.match(value.lower()):
                # 'kpi: CSAT': the validator knows the registered names and suggests one
                return value
            return self.error(
                f"'{key}' must be an id (lower-case letters, digits, '-', '_'), "
                f"got '{shown(value)}'",
                node,
            )
        return value

    def number(self, node: yaml.ScalarNode, spec: Spec, key: str) -> Any:
        tag = node.tag
        if tag not in (T_INT, T_FLOAT):
            why = not_octal(node)
            if why is not None:
                return self.error(f"'{key}': {why}", node)
            return self.error(f"'{key}' must be a number, got '{shown(node.value)}'", node)
        misread = misread_number(node)
        if misread is not None:
            return self.error(f"'{key}': {misread}", node)
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
            why = not_octal(node)
            if why is not None:
                return self.error(f"'{key}': {why}", node)
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

    def due(self, node: yaml.ScalarNode, spec: Spec, key: str) -> Any:
        """A date (YYYY-MM-DD, for cycle 1), or whole days after the cycle opens (``14d``)."""
        text = node.value.strip()
        if node.tag == T_STR and text.endswith("d") and text[:-1].isdigit():
            days = int(text[:-1])
            if days > 3650:
                return self.error(f"'{key}' is more than ten years after the start", node)
            return days
        if node.tag == T_TIMESTAMP:
            return self.date(node, spec, key)
        if node.tag == T_STR:
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        return self.error(
            f"'{key}' must be a date as YYYY-MM-DD or days after the cycle opens like 14d, "
            f"got '{shown(node.value)}'",
            node,
        )

    def duration(self, node: yaml.ScalarNode, spec: Spec, key: str) -> Any:
        if node.tag == T_INT:
            # a bare number counts days, its digits read as written (07 is 7 days, not
            # octal); 24:00 or 0x1F (YAML 1.1 ints) are quoted as written
            text = node.value + bare_unit(spec.units) if node.value.isdigit() else node.value
        elif node.tag == T_STR:
            text = node.value
        else:
            text = node.value
            like = "28d" if "d" in spec.units else f"30{spec.units[0]}"
            return self.error(f"'{key}' must be a duration like {like}, got '{shown(text)}'", node)
        hours, reason = parse_duration(text, spec.units)
        if hours is None:
            misread = misread_number(node) if node.tag == T_INT and ":" in text else None
            if misread is not None:
                reason = f"{reason}; {shown(text)} is {base60_reading(node)}"
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


SCALAR_KINDS = {
    "str": ScalarReader.text,
    "slug": ScalarReader.slug,
    "plugin": ScalarReader.slug,
    "number": ScalarReader.number,
    "int": ScalarReader.integer,
    "bool": ScalarReader.boolean,
    "date": ScalarReader.date,
    "due": ScalarReader.due,
    "duration": ScalarReader.duration,
    "choice": ScalarReader.choice,
}
"""The reader of each scalar kind of :class:`~pdca.playbook.schema.Spec`."""

KIND_WORDS = {
    "str": "text",
    "slug": "an id",
    "plugin": "a plugin name",
    "number": "a number",
    "int": "a whole number",
    "bool": "true or false",
    "date": "a date",
    "due": "a date or days like 14d",
    "duration": "a duration",
    "choice": "one word",
}
"""Each scalar kind as a message names what was expected ("must be a date")."""
