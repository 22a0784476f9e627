"""From libyaml's node tree to the playbook model, checking shapes on the way.

:func:`build` is the one entry point: it sizes the alias budget, lets the
reader walk the tree and assembles the model from the sections. The work is
split by job, and this module keeps every name it had before the split so
callers and tests are unaffected:

* :mod:`pdca.playbook.reader`: the walk over mappings, lists and aliases;
* :mod:`pdca.playbook.scalars`: one scalar value per kind, durations, dates;
* :mod:`pdca.playbook.places`: where each value was written;
* :mod:`pdca.playbook.sections`: the model object of each section;
* :mod:`pdca.playbook.messages`: how messages quote what was written.

Locations are computed only when asked for: a 10,000-task playbook should cost
little more than libyaml's own parse.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import yaml

from pdca.errors import Location, Problem
from pdca.errors import PlaybookError as PlaybookError
from pdca.playbook import model as m
from pdca.playbook import places, scalars, sections
from pdca.playbook.loader import MAX_DEPTH as MAX_DEPTH
from pdca.playbook.loader import MAX_NODES_FACTOR
from pdca.playbook.loader import T_BOOL as T_BOOL
from pdca.playbook.loader import T_FLOAT as T_FLOAT
from pdca.playbook.loader import T_INT as T_INT
from pdca.playbook.loader import T_MAP as T_MAP
from pdca.playbook.loader import T_NULL as T_NULL
from pdca.playbook.loader import T_SEQ as T_SEQ
from pdca.playbook.loader import T_STR as T_STR
from pdca.playbook.loader import T_TIMESTAMP as T_TIMESTAMP
from pdca.playbook.loader import _constructor as _constructor
from pdca.playbook.messages import SHOWN as SHOWN
from pdca.playbook.messages import shown as shown
from pdca.playbook.messages import suggest as suggest
from pdca.playbook.messages import tag_name as tag_name
from pdca.playbook.places import Places as Places
from pdca.playbook.reader import T_MERGE as T_MERGE
from pdca.playbook.reader import Reader as Reader
from pdca.playbook.scalars import BAD as BAD
from pdca.playbook.scalars import parse_duration as parse_duration
from pdca.playbook.schema import PLAYBOOK as PLAYBOOK
from pdca.playbook.schema import Spec as Spec

# Names that were private here before the split; their new homes make them public.
_SLUG = scalars.SLUG
_DURATION = scalars.DURATION
_UNIT_HOURS = scalars.UNIT_HOURS
_UNIT_NAMES = scalars.UNIT_NAMES
_STANDARD_TAGS = scalars.STANDARD_TAGS
_SCALAR_KINDS = scalars.SCALAR_KINDS
_A = scalars.KIND_WORDS
_shape = scalars.shape
_pack = places.pack
_frozen = sections.frozen
_float = sections.as_float
_days = sections.days


def build(
    root: yaml.Node, path: Path, filename: str, text_size: int = 0
) -> tuple[m.Playbook, list[Problem]]:
    """The model for a parsed playbook, best effort, and the shape problems found.

    The alias budget reads ``MAX_NODES_FACTOR`` from this module at call time,
    so a test that patches it here changes the budget.
    """
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
    file = filename
    check = top.get("check", {})
    rules = check.get("rules", (1, 2, 3, 5))
    preset = rules if isinstance(rules, str) else None
    rules = m.RULE_PRESETS[preset][0] if preset else tuple(rules)
    playbook = m.Playbook(
        id=top.get("playbook", ""),
        title=top.get("title", ""),
        path=path,
        description=top.get("description"),
        owners=MappingProxyType(sections.owners(top.get("owners", {}))),
        sources=MappingProxyType(sections.sources(top.get("sources", {}), path.parent)),
        metrics=MappingProxyType(sections.metrics(top.get("metrics", {}))),
        objectives=MappingProxyType(sections.objectives(top.get("objectives", {}))),
        tasks=MappingProxyType(sections.tasks(top.get("tasks", {}))),
        cycle=sections.cycle(top.get("cycle", {})),
        plugins=tuple(top.get("plugins", ())),
        rules=rules,
        rule_preset=preset,
        shift_points=check.get("shift_points"),
        trend_points=check.get("trend_points"),
        min_baseline=check.get("min_baseline", m.MIN_BASELINE),
        stale_after=sections.days(top.get("review", {}).get("stale_after"), m.STALE_AFTER)
        or m.STALE_AFTER,
        loc=Location(file, 1, 1),
        locs=Places(file, top_places),
    )
    return playbook, reader.problems
