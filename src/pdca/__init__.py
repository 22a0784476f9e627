"""pdca: Plan-Do-Check-Act improvement cycles driven by YAML playbooks.

The public API is kept small and import-light so that ``pdca --help`` stays fast:
heavy modules (DuckDB, networkx, Jinja) load inside the functions that use them.
"""

from __future__ import annotations

import sys
import warnings
from importlib.machinery import ModuleSpec
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    import pluggy

    hookimpl: pluggy.HookimplMarker
    """Marker for plugin hook implementations: ``@pdca.hookimpl``."""


def __getattr__(name: str) -> Any:
    """``pdca.hookimpl``, made on first use: pluggy is imported only by the commands
    that build a plugin manager, never by ``pdca --help`` without installed plugins."""
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker("pdca")
        globals()["hookimpl"] = marker
        return marker
    raise AttributeError(f"module 'pdca' has no attribute {name!r}")


def load_playbook(path: Any, *, plugin_manager: Any = None) -> Playbook:
    """Load and validate a playbook file; raise :class:`PlaybookError` listing every problem."""
    from pdca.playbook import load

    return load(path, plugin_manager=plugin_manager)


# -- modules that moved in 0.2 ---------------------------------------------------------------
# Old import paths keep working for one release: importing one gives the module at its
# new home (the same object, so patches and isinstance checks agree) and a
# DeprecationWarning that names the new path.

MOVED_MODULES = {
    "pdca.analysis": "pdca.check.stats",
    "pdca.cli_engine": "pdca.cli.cycle",
    "pdca.cli_options": "pdca.cli.options",
    "pdca.cli_report": "pdca.cli.report",
    "pdca.cli_state": "pdca.cli.state",
    "pdca.cli_themes": "pdca.cli.themes",
    "pdca.datacheck": "pdca.check.datacheck",
    "pdca.demo": "pdca.examples.demo",
    "pdca.measure": "pdca.check.measure",
    "pdca.plugincheck": "pdca.plugins.check",
    "pdca.readout": "pdca.check.readout",
    "pdca.status_text": "pdca.cli.status_text",
    "pdca.textout": "pdca.cli.textout",
    "pdca.themes": "pdca.check.themes",
}


def _new_home(fullname: str) -> str | None:
    if fullname in MOVED_MODULES:
        return MOVED_MODULES[fullname]
    parent, _, child = fullname.rpartition(".")
    moved = MOVED_MODULES.get(parent)  # pdca.analysis.spc -> pdca.check.stats.spc
    return f"{moved}.{child}" if moved else None


class _MovedModules:
    """A meta-path finder (and loader) that serves old module paths from their new homes."""

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if not fullname.startswith("pdca."):
            return None
        new = _new_home(fullname)
        return ModuleSpec(fullname, _MovedModules, origin=new) if new else None

    @staticmethod
    def create_module(spec: ModuleSpec) -> Any:
        import importlib

        warnings.warn(
            f"{spec.name} moved to {spec.origin}; import it from there "
            "(the old path goes away in the next release)",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(str(spec.origin))

    @staticmethod
    def exec_module(module: Any) -> None:
        """The module at its new home is already executed."""


if not any(f is _MovedModules for f in sys.meta_path):
    sys.meta_path.insert(0, _MovedModules)  # before the path finder, which would load a copy


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
