"""Who may change what: task owners, owning teams and objective owners.

Every change a person makes names them (``--by``); these rules refuse a name
that is unknown, a team rather than a person, or not among those accountable,
and the refusal lists who may, so the fix is in the message.
"""

from __future__ import annotations

from pdca.engine.draft import CycleError
from pdca.playbook.messages import suggest
from pdca.playbook.model import Playbook, Task


def team_of(pb: Playbook, owner: str) -> set[str]:
    """The owner and, for a team, every member (teams may contain teams)."""
    seen: set[str] = set()
    todo = [owner]
    while todo:
        oid = todo.pop()
        if oid in seen:
            continue
        seen.add(oid)
        entry = pb.owners.get(oid)
        if entry is not None:
            todo.extend(entry.members)
    return seen


def may_act_on_task(pb: Playbook, task: Task) -> set[str]:
    """Who may change a task: its owner (every member of an owning team) and the
    owner of its objective, who is accountable for the result."""
    allowed = team_of(pb, task.owner)
    if task.objective and task.objective in pb.objectives:
        obj_owner = pb.objectives[task.objective].owner
        if obj_owner:
            allowed |= team_of(pb, obj_owner)
    return allowed


def may_decide(pb: Playbook, oid: str) -> set[str]:
    """Who may decide an objective: its owner (or its team); anyone when it has no owner."""
    owner = pb.objectives[oid].owner
    return team_of(pb, owner) if owner else set(pb.owners)


def check_person(pb: Playbook, by: str, allowed: set[str], what: str) -> None:
    if by not in pb.owners:
        people = ", ".join(o for o, e in pb.owners.items() if not e.is_team) or "none"
        raise CycleError(
            f"unknown owner '{by}'{suggest(by, pb.owners)}: --by takes the id of a person "
            f"in the playbook's owners ({people})"
        )
    if pb.owners[by].is_team:
        raise CycleError(f"'{by}' is a team: --by names the person who acts, one of its members")
    if by not in allowed:
        people = sorted(p for p in allowed if p in pb.owners and not pb.owners[p].is_team)
        raise CycleError(
            f"{by} may not change {what}; who may: {', '.join(people) or 'nobody'} "
            "(the owner, members of an owning team, and the objective's owner)"
        )


def may_annotate(pb: Playbook, mid: str) -> set[str]:
    """Who may exclude a metric's periods or rebase its limits: the owners of the
    objectives it serves (their teams too), who answer for how it is read; anyone
    when none of them has an owner."""
    allowed: set[str] = set()
    for objective in pb.objectives.values():
        if mid in objective.metrics and objective.owner:
            allowed |= team_of(pb, objective.owner)
    return allowed or set(pb.owners)
