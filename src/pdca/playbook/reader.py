"""The walk over a playbook's YAML node tree, section by section as the schema says.

The walk follows :mod:`pdca.playbook.schema`, so every key the format knows is
read exactly once and every problem is reported where it was written. It keeps
going after a problem (with a placeholder value) so one run lists them all.
Mappings are checked here (duplicate keys, ``<<`` merges, unknown and missing
keys) because YAML itself would silently drop or accept them; aliases are
expanded against a node budget so an alias bomb stops early with a message.
"""

from __future__ import annotations

from typing import Any

import yaml

from pdca.errors import PlaybookError, Problem
from pdca.playbook.loader import MAX_DEPTH, T_MAP, T_NULL, T_SEQ, T_STR
from pdca.playbook.messages import shown, suggest, tag_name
from pdca.playbook.places import Places, pack
from pdca.playbook.scalars import (
    BAD,
    KIND_WORDS,
    SCALAR_KINDS,
    SLUG,
    STANDARD_TAGS,
    ScalarReader,
    shape,
)
from pdca.playbook.schema import Spec

T_MERGE = "tag:yaml.org,2002:merge"


class Reader(ScalarReader):
    """Reads nodes by spec, recording problems instead of stopping at the first.

    ``node_budget`` bounds how many values alias expansion may produce; the
    caller sets it from the file's size.
    """

    def __init__(self, filename: str, node_budget: int):
        super().__init__(filename)
        self.budget = node_budget
        self._merging: set[int] = set()
        self._looped: set[int] = set()

    # -- mappings -------------------------------------------------------------------
    def pairs(self, node: yaml.MappingNode) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key, key node, value node) for a mapping: keys checked, duplicates refused."""
        if node.tag != T_MAP:
            self.error(f"tag '{shown(tag_name(node.tag))}' is not allowed in a playbook", node)
        out: list[tuple[str, yaml.Node, yaml.Node]] = []
        seen: dict[str, yaml.Node] = {}
        merged: list[tuple[str, yaml.Node, yaml.Node]] = []
        for knode, vnode in node.value:
            if knode.tag not in STANDARD_TAGS and knode.tag != T_MERGE:
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
        if vnode.tag not in STANDARD_TAGS:
            self._bad_tag(vnode)
            return []
        sources = vnode.value if type(vnode) is yaml.SequenceNode else [vnode]
        out: list[tuple[str, yaml.Node, yaml.Node]] = []
        outer = id(into) not in self._merging
        self._merging.add(id(into))  # the mappings being merged into, innermost last
        try:
            for src in sources:
                if src.tag not in STANDARD_TAGS:
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
        if node.tag not in STANDARD_TAGS:
            return self._bad_tag(node)
        if kind == "rules":  # a preset's name, or rule numbers read as a list
            if cls is yaml.ScalarNode and node.tag == T_STR:
                return self.choice(node, spec, key)
            kind = "list"
        if kind in SCALAR_KINDS:
            if cls is not yaml.ScalarNode:
                return self.error(f"'{key}' must be {KIND_WORDS[kind]}, not a {shape(node)}", node)
            return SCALAR_KINDS[kind](self, node, spec, key)
        if kind == "list":
            items = [node] if cls is yaml.ScalarNode and node.tag != T_NULL else None
            if items is None:
                if cls is not yaml.SequenceNode:
                    return self.error(f"'{key}' must be a list, not a {shape(node)}", node)
                if node.tag != T_SEQ:
                    self.error(
                        f"tag '{shown(tag_name(node.tag))}' is not allowed in a playbook", node
                    )
                items = node.value
            assert spec.item is not None
            if places is not None and cls is yaml.SequenceNode:
                for i, item in enumerate(items):
                    places[f"{path}.{i}"] = pack(item)
            values = [self.read(item, spec.item, key) for item in items]
            return [v for v in values if v is not BAD]
        if kind == "strs":
            items = node.value if cls is yaml.SequenceNode else [node]
            out = []
            for item in items:
                if item.tag not in STANDARD_TAGS:
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
            return self.error(f"'{key}' must be a mapping, not a {shape(node)}", node)
        if kind == "free":
            if places is not None:
                for k, _, v in self.pairs(node):
                    places[f"{path}.{k}"] = pack(v)
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
                places[prefix + name] = pack(vnode)
            field_spec = fields.get(name)
            if field_spec is None:
                if spec.open:
                    out[name] = self.plain(vnode, key=name)
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
            if not SLUG.match(name):
                self.error(
                    f"{what} id '{shown(name)}' is not a valid id: use lower-case letters, digits, "
                    "'-' and '_', starting with a letter or digit",
                    knode,
                )
            if vnode.tag not in STANDARD_TAGS:
                self._bad_tag(vnode)
                continue
            if type(vnode) is not yaml.MappingNode:
                self.error(
                    f"{what} '{shown(name)}' must be a mapping of its settings, "
                    f"not a {shape(vnode)}",
                    vnode,
                )
                continue
            places: dict[str, int] = {}
            values = self.obj(vnode, spec.entry, f"{what} '{shown(name)}'", places)
            out[name] = (values, Places(self.file, places), self.loc(knode))
        return out

    def plain(self, node: yaml.Node, depth: int = 0, key: str = "") -> Any:
        """Any YAML value as plain Python (for plugin options), with aliases bounded;
        ``key`` names the value in messages."""
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
            value = self.scalar(node, key)
            # a refused value (already reported) reaches plugins as written, not as BAD
            return node.value if value is BAD else value
        if cls is yaml.SequenceNode:
            if node.tag != T_SEQ:
                self.error(f"tag '{shown(tag_name(node.tag))}' is not allowed in a playbook", node)
            return [self.plain(item, depth + 1, key) for item in node.value]
        return {k: self.plain(v, depth + 1, k) for k, _, v in self.pairs(node)}

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
