"""Every hook pdca calls. Built-in features implement these same hooks.

Registration hooks receive a ``register`` callback instead of returning values,
so pdca knows which plugin registered what and can name the culprit when two
plugins claim one name. Lifecycle hooks are notifications: their return values
are ignored, and an exception in one is reported with the plugin's name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from pdca.data.base import SourceType
    from pdca.kpi import Kpi
    from pdca.playbook.model import Metric, Playbook

hookspec = pluggy.HookspecMarker("pdca")


@hookspec
def pdca_register_source_types(register: Callable[[SourceType], None]) -> None:
    """Register data source types (``csv``, ``sql`` ...): call ``register(source_type)``.

    Called once per plugin manager, when the registry is first needed. A name
    already registered by another plugin is an error naming both plugins.
    """


@hookspec
def pdca_register_kpis(register: Callable[[Kpi], None]) -> None:
    """Register KPI calculators (``nps``, ``rate`` ...): call ``register(kpi)``.

    ``kpi`` is a :class:`pdca.kpi.Kpi`; a plain function can be wrapped with
    :class:`pdca.kpi.FunctionKpi`.
    """


@hookspec
def pdca_register_renderers(register: Callable[[Any], None]) -> None:
    """Register report renderers (``html``, ``markdown`` ...): call ``register(renderer)``."""


@hookspec
def pdca_register_actions(register: Callable[[Any], None]) -> None:
    """Register action types that automated tasks run (``shell`` is built in)."""


@hookspec
def pdca_register_commands(cli: click.Group) -> None:
    """Add commands to the ``pdca`` command line: ``cli.add_command(...)``."""


@hookspec
def pdca_playbook_loaded(playbook: Playbook) -> None:
    """Called after a playbook has been loaded and validated."""


@hookspec
def pdca_metric_evaluated(playbook: Playbook, metric: Metric, result: dict[str, Any]) -> None:
    """Called after a metric has been computed; ``result`` is its ``pdca check`` JSON entry."""


@hookspec
def pdca_phase_changed(playbook: Playbook, cycle: int, old: str | None, new: str) -> None:
    """Called when a cycle enters a new phase (``plan`` ... ``closed``)."""


@hookspec
def pdca_task_changed(
    playbook: Playbook,
    cycle: int,
    task: str,
    old: str | None,
    new: str,
    by: str | None,
    note: str | None,
) -> None:
    """Called when a task changes state, by a person or by the engine."""


@hookspec
def pdca_prepare_jinja_env(env: Any) -> None:
    """Called with the Jinja environment before a report renders: add filters or globals."""
