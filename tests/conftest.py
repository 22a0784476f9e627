"""Shared test set-up: the PostgreSQL and Chromium fixtures, and pdca alone.

The suite tests pdca itself, so plugin distributions installed into the same
environment (the ones in plugins/ are, for their own tests) are disabled here;
tests that need an installed plugin create and enable their own.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

pytest_plugins = ["pg_server", "browser"]

_installed = sorted({ep.name for ep in entry_points(group="pdca")})
if _installed and "PDCA_DISABLE_PLUGINS" not in os.environ:
    os.environ["PDCA_DISABLE_PLUGINS"] = ",".join(_installed)
