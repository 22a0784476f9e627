"""Where each value of a playbook entry was written, for messages that point at it.

Kept apart from the reader because the model holds these after the YAML node
tree is gone: validation and later checks report ``FILE:LINE:COL`` from them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import yaml

from pdca.errors import Location


def pack(node: yaml.Node) -> int:
    """Where ``node`` starts, as ``line << 20 | column`` (both from 1): the form Places keeps."""
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
