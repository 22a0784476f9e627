"""The ``pdca`` command line: :mod:`pdca.cli.main` holds the group, one module per command group.

The console script is ``pdca.cli.main:main``. ``pdca.cli.cli`` (the group) is
resolved on first use, so importing a command module never imports the group.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "cli":
        import importlib

        return importlib.import_module("pdca.cli.main").cli
    raise AttributeError(f"module 'pdca.cli' has no attribute {name!r}")
