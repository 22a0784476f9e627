"""The cycle state machine as pure functions over a :class:`Draft` of the stored state.

A Draft starts from the :class:`~pdca.state.model.State` the store read, and
every rule changes the draft and records what it changed (rows and audit
events) in ``draft.changes``; the store writes those in the same transaction.
Nothing here does I/O or reads the clock: ``now`` comes in with the draft.

The rules, in one place:

* A task is ``ready`` when the cycle has reached its phase and each of its
  dependencies is done or skipped; otherwise it waits as ``pending``. A ready
  (or started) task whose dependency is reopened goes back to pending.
* A phase is complete when every task of that phase, and of earlier phases, is
  done or skipped (so reopening earlier work holds the cycle back).
* do -> check stores the metrics snapshot (measured outside, by the runner);
  check -> act skips act tasks whose ``when`` is false and proposes a decision
  per objective; act -> closed needs every objective decided; any ``adjust``
  opens the next cycle with baselines ratcheted to the values measured at check.

Each group of rules lives in its own module, and this one gathers them so the
runner, the reports and the tests have one name for the whole machine:

* :mod:`pdca.engine.draft`: :class:`Draft` and :class:`CycleError`;
* :mod:`pdca.engine.readiness`: when a task is ready or pending;
* :mod:`pdca.engine.cycles`: opening cycles, phase changes, following playbook edits;
* :mod:`pdca.engine.act`: act tasks' ``when``, proposed decisions, the baseline ratchet;
* :mod:`pdca.engine.permissions` and :mod:`pdca.engine.people`: who may change
  what, and the changes people make;
* :mod:`pdca.engine.automated`: attempts of automated tasks;
* :mod:`pdca.engine.schedule`: the days cycles open on, and due dates.
"""

from __future__ import annotations

from pdca.engine.act import metric_statuses as metric_statuses
from pdca.engine.act import objective_status as objective_status
from pdca.engine.act import propose as propose
from pdca.engine.act import ratchet_baselines as ratchet_baselines
from pdca.engine.act import record_proposal as record_proposal
from pdca.engine.act import undecided as undecided
from pdca.engine.act import when_holds as when_holds
from pdca.engine.act import when_note as when_note
from pdca.engine.act import with_baselines as with_baselines
from pdca.engine.automated import cancel_attempt as cancel_attempt
from pdca.engine.automated import finish_attempt as finish_attempt
from pdca.engine.automated import interrupt_stale as interrupt_stale
from pdca.engine.automated import iso as iso
from pdca.engine.automated import next_automated as next_automated
from pdca.engine.automated import next_retry as next_retry
from pdca.engine.automated import record_orphan as record_orphan
from pdca.engine.automated import record_process as record_process
from pdca.engine.automated import retry_due as retry_due
from pdca.engine.automated import start_attempt as start_attempt
from pdca.engine.cycles import ACT as ACT
from pdca.engine.cycles import advance as advance
from pdca.engine.cycles import close_cycle as close_cycle
from pdca.engine.cycles import enter_act as enter_act
from pdca.engine.cycles import enter_check as enter_check
from pdca.engine.cycles import open_cycle as open_cycle
from pdca.engine.cycles import reconcile as reconcile
from pdca.engine.cycles import set_phase as set_phase
from pdca.engine.cycles import sync as sync
from pdca.engine.draft import CycleError as CycleError
from pdca.engine.draft import Draft as Draft
from pdca.engine.people import PERSON_ACTIONS as PERSON_ACTIONS
from pdca.engine.people import REOPENABLE as REOPENABLE
from pdca.engine.people import check_day as check_day
from pdca.engine.people import decide as decide
from pdca.engine.people import person as person
from pdca.engine.people import refusal as refusal
from pdca.engine.people import require_open as require_open
from pdca.engine.permissions import check_person as check_person
from pdca.engine.permissions import may_act_on_task as may_act_on_task
from pdca.engine.permissions import may_decide as may_decide
from pdca.engine.permissions import team_of as team_of
from pdca.engine.readiness import active as active
from pdca.engine.readiness import deps_done as deps_done
from pdca.engine.readiness import downstream as downstream
from pdca.engine.readiness import open_work as open_work
from pdca.engine.readiness import phase_reached as phase_reached
from pdca.engine.readiness import refresh as refresh
from pdca.engine.readiness import why_waiting as why_waiting
from pdca.engine.schedule import effective_due as effective_due
from pdca.engine.schedule import first_start as first_start
from pdca.engine.schedule import opening_day as opening_day
from pdca.engine.schedule import planned_start as planned_start

# The model names this module imported when the rules lived here.
from pdca.errors import PdcaError as PdcaError
from pdca.playbook.model import PHASE_INDEX as PHASE_INDEX
from pdca.playbook.model import PHASES as PHASES
from pdca.playbook.model import Playbook as Playbook
from pdca.playbook.model import Task as Task
from pdca.state.model import DECISIONS as DECISIONS
from pdca.state.model import FINISHED as FINISHED
from pdca.state.model import Attempt as Attempt
from pdca.state.model import Changes as Changes
from pdca.state.model import CycleState as CycleState
from pdca.state.model import Decision as Decision
from pdca.state.model import Event as Event
from pdca.state.model import Snapshot as Snapshot
from pdca.state.model import State as State
from pdca.state.model import TaskState as TaskState

# Helpers that were private here and are shared between the new modules under public names.
_propose = record_proposal
_when_note = when_note
_cannot = refusal
_require_open = require_open
