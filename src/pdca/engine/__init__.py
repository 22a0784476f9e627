"""The PDCA cycle engine: cycles, phases, task states, decisions, automated tasks.

* :mod:`pdca.engine.transitions`: the rules, as pure functions over a draft of
  the stored state (no I/O, no clock), gathered from one module per group of
  rules (``draft``, ``readiness``, ``cycles``, ``act``, ``permissions``,
  ``people``, ``automated``, ``schedule``);
* :mod:`pdca.engine.runner`: :class:`Engine`, which wraps each rule in a store
  transaction, runs actions and measures between transactions, and fires
  plugin hooks after commits;
* :mod:`pdca.engine.review`: the ``pdca status`` report.
"""

from __future__ import annotations

from pdca.engine.review import review
from pdca.engine.runner import Engine, Outcome
from pdca.engine.transitions import CycleError, Draft

__all__ = ["CycleError", "Draft", "Engine", "Outcome", "review"]
