"""Every hook pdca calls. Built-in features implement these same hooks.

Registration hooks receive a ``register`` callback instead of returning values,
so pdca knows which plugin registered what and can name the culprit when two
plugins claim one name. Lifecycle hooks are notifications: their return values
are ignored, and an exception in one is reported with the plugin's name, after
the work it announces has been saved.

The reference for plugin authors, with an example per hook, is
``docs/plugin-hooks.md``; a meta-test keeps it in step with this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from pdca.action import ActionType
    from pdca.data.base import SourceType
    from pdca.kpi import Kpi
    from pdca.playbook.model import Metric, Playbook

hookspec = pluggy.HookspecMarker("pdca")


# -- registration: what a plugin provides -----------------------------------------------


@hookspec
def pdca_register_source_types(register: Callable[[SourceType], None]) -> None:
    """Register data source types (``csv``, ``sql`` ...): call ``register(source_type)``.

    ``source_type`` is a :class:`pdca.data.base.SourceType` instance whose
    ``name`` is what playbooks write as a source's ``type``. Called once per
    plugin manager, when the registry is first needed (by every command that
    reads a playbook, and by ``pdca plugins``). A name already registered by
    another plugin is an error naming both plugins, so two plugins can never
    silently fight over ``csv``.
    """


@hookspec
def pdca_register_kpis(register: Callable[[Kpi], None]) -> None:
    """Register KPI calculators (``nps``, ``rate`` ...): call ``register(kpi)``.

    ``kpi`` is a :class:`pdca.kpi.Kpi`; a plain function over a column's values
    can be wrapped with :class:`pdca.kpi.FunctionKpi`, one SQL aggregate is a
    :class:`pdca.kpi.SqlKpi`. Called like the other registration hooks.
    """


@hookspec
def pdca_register_renderers(register: Callable[[Any], None]) -> None:
    """Register report renderers (``html``, ``markdown`` ...): call ``register(renderer)``.

    A renderer needs a ``name`` and a one-line ``summary``; its rendering
    contract is set by the report layer.
    """


@hookspec
def pdca_register_actions(register: Callable[[ActionType], None]) -> None:
    """Register action types that automated tasks run: call ``register(action_type)``.

    ``action_type`` is a :class:`pdca.action.ActionType`; a task's
    ``action: {type: NAME, ...}`` picks it by ``name``. ``shell`` is built in.
    """


@hookspec
def pdca_register_commands(cli: click.Group) -> None:
    """Add commands to the ``pdca`` command line: ``cli.add_command(command)``.

    Called at most once per process, the first time the command line needs
    the list of commands (``pdca --help``) or meets a name it does not know,
    so a plugin command costs nothing to the built-in ones.
    """


# -- lifecycle: notifications ------------------------------------------------------------


@hookspec
def pdca_playbook_loaded(playbook: Playbook) -> None:
    """Called after a playbook has been loaded and validated, before it is used."""


@hookspec
def pdca_metric_evaluated(playbook: Playbook, metric: Metric, result: dict[str, Any]) -> None:
    """Called after a metric has been computed, once per metric.

    ``result`` is the metric's entry of the ``pdca check --format json``
    report: ``status``, ``value``, ``n``, ``series``, ``signal`` (with its
    ``verdict``), ``trend`` ... Fired by ``pdca check`` and when a cycle enters
    check and its measurements are stored.
    """


@hookspec
def pdca_phase_changed(playbook: Playbook, cycle: int, old: str | None, new: str) -> None:
    """Called when a cycle enters a new phase, after the change is saved.

    ``old`` is None when the cycle opens (``new`` is ``plan``); ``new`` is
    ``closed`` when it closes.
    """


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
    """Called when a task changes state, by a person or by the engine, after it is saved.

    ``old`` is None when the task joins the cycle; ``by`` is the owner id of
    the person (None for the engine); ``note`` is what they wrote, if anything.
    """


@hookspec
def pdca_cycle_reviewed(playbook: Playbook, review: dict[str, Any]) -> None:
    """Called after ``pdca run`` and ``pdca status`` compute the team's review.

    ``review`` is the ``pdca status --format json`` report: ``cycle``
    (``number``, ``phase`` ...), ``metrics``, ``objectives``, ``tasks`` (each
    with ``status``, ``owner``, ``due`` and ``overdue``), ``attention`` and
    ``next``. Changes that no event announces, such as a task turning overdue
    as days pass, are seen here; the hook fires on every review, so a plugin
    that reacts to changes keeps its own memory of what it has seen.
    """


# -- reports -------------------------------------------------------------------------------


@hookspec
def pdca_prepare_jinja_env(env: Any) -> None:
    """Called with the Jinja environment before a report renders: add filters or globals."""
