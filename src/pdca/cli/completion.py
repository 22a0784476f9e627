"""Shell completion of the ids a playbook defines: tasks, metrics, objectives, owners.

click completes commands, options and ``--format`` choices itself (``pdca``
answers ``_PDCA_COMPLETE=bash_source`` and friends); these callbacks add the
ids, read from the playbook given earlier on the command line or, without one,
from ``./playbook.yaml`` and ``./*.pdca.yaml``. The playbook is only parsed
(safely, with pdca's own YAML loader), never validated or run, and whatever is
wrong with it (missing, broken, hostile) completes nothing: a shell must never
show a traceback while someone presses Tab.

Imports only click and the standard library at the top, so the command modules
can use it and ``pdca --help`` stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

SECTIONS = ("tasks", "metrics", "objectives", "owners")
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
MAX_IDS = 2000
"""Ids offered at most: far more than a playbook holds, few enough for any shell."""

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def given_playbooks(ctx: click.Context) -> list[Path]:
    """The playbook(s) named earlier on the command line, or the ones in this folder."""
    found: list[Path] = []
    node: click.Context | None = ctx
    while node is not None:
        for name in ("playbook", "playbooks"):
            value = node.params.get(name)
            if isinstance(value, str | Path):
                found.append(Path(value))
            elif isinstance(value, tuple | list):
                found.extend(Path(v) for v in value if isinstance(v, str | Path))
        node = node.parent
    if not found:
        found = _typed_playbooks()
    if found:
        return found
    here = Path.cwd()
    local = [here / "playbook.yaml", *sorted(here.glob("*.pdca.yaml"))]
    return [p for p in local if p.is_file()]


def _typed_playbooks() -> list[Path]:
    """YAML files among the words typed so far, as the shell passed them.

    Before an option's value (``pdca task desk.yaml done x --by <Tab>``) click
    stops parsing at the option, so the playbook argument never reaches
    ``ctx.params``; the words the shell sent (``COMP_WORDS``, in every shell
    click supports) still name it.
    """
    import os

    from click.shell_completion import split_arg_string

    try:
        words = split_arg_string(os.environ.get("COMP_WORDS", ""))
    except ValueError:
        return []
    return [Path(w) for w in words[1:] if w.endswith((".yaml", ".yml")) and Path(w).is_file()]


def playbook_ids(path: Path, sections: Iterable[str]) -> dict[str, str]:
    """``{id: title or name}`` of the given sections, in the order they are written.

    Raises whatever reading or parsing raises; :func:`complete_ids` turns that into nothing.
    """
    import yaml

    from pdca.playbook.loader import parse, read_text

    root = parse(read_text(path), str(path))
    wanted = set(sections)
    out: dict[str, str] = {}
    if not isinstance(root, yaml.MappingNode):
        return out
    for key, section in root.value:
        if not isinstance(key, yaml.ScalarNode) or key.value not in wanted:
            continue
        if not isinstance(section, yaml.MappingNode):
            continue
        for ident, body in section.value:
            if isinstance(ident, yaml.ScalarNode) and _ID.match(ident.value):
                out.setdefault(ident.value, _title(body))
            if len(out) >= MAX_IDS:
                return out
    return out


def _title(body: Any) -> str:
    import yaml

    if isinstance(body, yaml.MappingNode):
        for key, value in body.value:
            if key.value in ("title", "name") and isinstance(value, yaml.ScalarNode):
                return " ".join(str(value.value).split())[:80]
    return ""


def complete_ids(*sections: str) -> Completer:
    """A ``shell_complete`` callback offering the ids of ``sections`` that start as typed."""
    for section in sections:
        assert section in SECTIONS, section

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from pdca.playbook.messages import visible

        offered: dict[str, str] = {}
        for path in given_playbooks(ctx):
            try:
                offered.update(
                    (k, v) for k, v in playbook_ids(path, sections).items() if k not in offered
                )
            except Exception:  # a playbook being written: complete what the others give
                continue
        return [
            CompletionItem(ident, help=visible(title) or None)
            for ident, title in offered.items()
            if ident.startswith(incomplete)
        ]

    return complete
