"""Shared test set-up: PostgreSQL, Chromium and SQLite-read fixtures, pdca alone, no deadlines.

The suite tests pdca itself, so plugin distributions installed into the same
environment (the ones in plugins/ are, for their own tests) are disabled here;
tests that need an installed plugin create and enable their own.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

from hypothesis import settings

pytest_plugins = ["pg_server", "browser", "sqlite_reads"]

# Property tests check answers, never speed: a loaded 2-core CI machine must not fail
# one because an example took longer than Hypothesis's default 200 ms.
settings.register_profile("pdca", deadline=None)
settings.load_profile("pdca")

_installed = sorted({ep.name for ep in entry_points(group="pdca")})
if _installed and "PDCA_DISABLE_PLUGINS" not in os.environ:
    os.environ["PDCA_DISABLE_PLUGINS"] = ",".join(_installed)
