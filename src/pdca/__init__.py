"""pdca: Plan-Do-Check-Act improvement cycles driven by YAML playbooks.

The public API is kept small and import-light so that ``pdca --help`` stays fast:
heavy modules (DuckDB, networkx, Jinja) load inside the functions that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from pdca.errors import (
    ExitCode,
    KpiError,
    Location,
    PdcaError,
    PlaybookError,
    PluginError,
    Problem,
    SourceError,
    StateError,
)

if TYPE_CHECKING:
    from pdca.playbook.model import Playbook

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("pdca")
"""Marker for plugin hook implementations: ``@pdca.hookimpl``."""


def load_playbook(path: Any, *, plugin_manager: Any = None) -> Playbook:
    """Load and validate a playbook file; raise :class:`PlaybookError` listing every problem."""
    from pdca.playbook import load

    return load(path, plugin_manager=plugin_manager)


__all__ = [
    "ExitCode",
    "KpiError",
    "Location",
    "PdcaError",
    "PlaybookError",
    "PluginError",
    "Problem",
    "SourceError",
    "StateError",
    "__version__",
    "hookimpl",
    "load_playbook",
]
