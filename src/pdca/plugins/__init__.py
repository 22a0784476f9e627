"""The plugin machinery: the manager (what is loaded, in which order) and ``pdca plugins --check``.

The names below are the ones plugins and pdca's own modules use; they live in
:mod:`pdca.plugins.manager`. The contract checker is :mod:`pdca.plugins.check`
(imported on demand: it is only needed by ``pdca plugins --check`` and tests).
"""

from __future__ import annotations

from pdca.plugins.manager import (
    BUILTINS,
    DISABLE_ENV,
    ENTRY_POINT_GROUP,
    KINDS,
    Registered,
    Registry,
    build_registry,
    builtin_plugin_manager,
    call_each,
    describe,
    disabled_plugins,
    get_plugin_manager,
    notify,
)

__all__ = [
    "BUILTINS",
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "KINDS",
    "Registered",
    "Registry",
    "build_registry",
    "builtin_plugin_manager",
    "call_each",
    "describe",
    "disabled_plugins",
    "get_plugin_manager",
    "notify",
]
