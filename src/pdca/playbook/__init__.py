"""Playbooks: reading, checking and modelling the YAML files managers write."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdca.errors import PlaybookError, PluginError, Problem

if TYPE_CHECKING:
    import pluggy

    from pdca.playbook.model import Playbook
    from pdca.plugins import Registry


@dataclass
class Inspection:
    """What reading a playbook found: the model (when it could be built) and every problem."""

    path: Path
    playbook: Playbook | None = None
    problems: list[Problem] = field(default_factory=list)
    plugin_manager: pluggy.PluginManager | None = None
    registry: Registry | None = None
    plugins_loaded: bool = True
    """False when only pdca's built-ins were loaded (``inspect(..., plugins=False)``)."""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.playbook is not None and not self.errors


class SharedPlugins:
    """The plugin manager of the playbooks that name no plugin files, built once.

    Such a playbook's manager holds the built-ins and the installed plugins
    only, the same for every one of them; a command that reads a hundred
    playbooks (``pdca status FOLDER``) then imports and registers them once
    instead of a hundred times. A playbook with ``plugins:`` still gets a
    manager of its own. Keep one per command: a new one sees plugins installed since.
    """

    def __init__(self) -> None:
        self._pm: pluggy.PluginManager | None = None

    def manager(self) -> pluggy.PluginManager:
        if self._pm is None:
            from pdca import plugins

            self._pm = plugins.get_plugin_manager(None, ())
        return self._pm


def inspect(
    path: str | Path,
    *,
    plugin_manager: Any = None,
    plugins: bool = True,
    shared: SharedPlugins | None = None,
) -> Inspection:
    """Read, build and check a playbook, collecting every problem instead of raising.

    ``plugins=False`` imports nothing the playbook or the installation adds: only
    pdca's built-ins are loaded, and a source type, KPI or action that only a
    plugin could provide is a warning (not checked) instead of an error.
    ``shared`` gives the manager when the playbook names no plugin files.
    """
    with _gc_paused():
        return _inspect(path, plugin_manager, plugins, shared)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cycle collector while a playbook's node tree is built.

    The tree is hundreds of thousands of acyclic objects; Python's collector
    would rescan them again and again as they are allocated, which took 75% of
    the parse time of a 10,000-task playbook. Nothing here creates reference
    cycles that need collecting in the meantime.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _inspect(
    path: str | Path,
    plugin_manager: Any,
    load_plugins: bool = True,
    shared: SharedPlugins | None = None,
) -> Inspection:
    from pdca import plugins
    from pdca.playbook import build, loader, validate

    p = Path(path)
    filename = str(path)
    result = Inspection(p, plugins_loaded=load_plugins)
    try:
        text = loader.read_text(p)
        root = loader.parse(text, filename)
        playbook, problems = build.build(root, p, filename, len(text))
    except PlaybookError as exc:
        result.problems = list(exc.problems)
        return result
    result.problems = problems
    if not playbook.id and not playbook.title and problems:
        return result
    result.playbook = playbook
    pm = plugin_manager
    try:
        if pm is None and not load_plugins:
            pm = plugins.builtin_plugin_manager()
        elif pm is None and shared is not None and not playbook.plugins:
            pm = shared.manager()
        elif pm is None:
            pm = plugins.get_plugin_manager(p.parent, playbook.plugins)
        registry = plugins.build_registry(pm)
    except PluginError as exc:
        result.problems.append(
            Problem(str(exc), playbook.where("plugins") if playbook.plugins else None)
        )
        registry = None
    result.plugin_manager, result.registry = pm, registry
    result.problems.extend(
        validate.check(playbook, registry, plugins_loaded=load_plugins, source=text)
    )
    result.problems.sort(key=lambda pr: pr.sort_key)
    return result


def load(path: str | Path, *, plugin_manager: Any = None) -> Playbook:
    """A valid playbook, or PlaybookError listing every problem (warnings are dropped)."""
    return load_checked(path, plugin_manager=plugin_manager).playbook  # type: ignore[return-value]


def load_checked(
    path: str | Path, *, plugin_manager: Any = None, shared: SharedPlugins | None = None
) -> Inspection:
    """Like :func:`inspect`, but raise PlaybookError when there is any error."""
    result = inspect(path, plugin_manager=plugin_manager, shared=shared)
    if not result.ok:
        raise PlaybookError(result.errors or [Problem("the playbook could not be read")])
    if result.plugin_manager is not None:
        from pdca.plugins import notify

        notify(result.plugin_manager, "pdca_playbook_loaded", playbook=result.playbook)
    return result
