"""Checks that need the whole playbook: references, phase order, cycles, plugin settings.

Shape problems (types, unknown keys) are found while reading; what is left here
are the rules that relate one entry to another, and to the registered plugins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from pdca.errors import Location, Problem
from pdca.playbook.messages import SHOWN, shown, suggest, visible
from pdca.playbook.model import PHASE_INDEX, Playbook

if TYPE_CHECKING:
    from pdca.plugins import Registry

RULES = range(1, 11)
RUN_LENGTHS = range(6, 10)

_LONG_QUOTED = re.compile(
    rf"(?<!\w)'[^'\n]{{{SHOWN + 1},}}'(?!\w)|(?<!\w)\"[^\"\n]{{{SHOWN + 1},}}\"(?!\w)"
)


def tidy(message: str) -> str:
    """Quoted values cut to a readable length and control characters made visible.

    Messages quote ids and values from the playbook and from plugins' checks; a
    reference 30,000 characters long must not come back as a 30,000-character line.
    """
    message = _LONG_QUOTED.sub(lambda m: m[0][0] + shown(m[0][1:-1]) + m[0][-1], message)
    return visible(message)


class _Checker:
    def __init__(
        self,
        playbook: Playbook,
        registry: Registry | None,
        plugins_loaded: bool = True,
        source: str | None = None,
    ):
        self.pb = playbook
        self.registry = registry
        self.plugins_loaded = plugins_loaded
        self.source = source
        self.problems: list[Problem] = []
        self._parser: Any = None
        self._refused: dict[str, str | None] = {}  # each filter vetted once: why it is refused
        """A DuckDB connection, opened for the first filter (its parser vets filters)."""

    def error(self, message: str, where: Location | None) -> None:
        self.problems.append(Problem(tidy(message), where))

    def warn(self, message: str, where: Location | None) -> None:
        self.problems.append(Problem(tidy(message), where, "warning"))

    def ref(
        self,
        value: str | None,
        table: Mapping[str, Any],
        what: str,
        where: Callable[[], Location | None],
        context: str,
    ) -> bool:
        """Report a reference to a missing entry, with a suggestion and what exists.

        ``where`` is called only when there is something to report: finding a
        location walks the YAML nodes, which valid playbooks should not pay for.
        """
        if not value or value in table:  # missing values are reported where they are read
            return True
        names = [shown(name) for name in list(table)[:12]]
        known = ", ".join(names) + (", ..." if len(table) > 12 else "")
        hint = suggest(value, table) or (
            f" (defined: {known})" if table else f" (no {what}s are defined)"
        )
        self.error(f"{context} refers to unknown {what} '{value}'{hint}", where())
        return False

    def plugin(self, kind: str, name: str, what: str, where: Location | None, context: str) -> Any:
        if self.registry is None or not name:
            return None
        table = getattr(self.registry, kind)
        if name in table:
            return table[name].obj
        if not self.plugins_loaded:
            self.warn(
                f"{context} uses {what} '{name}', which is not one of pdca's built-ins: not "
                "checked (plugins were not loaded: --no-plugins)",
                where,
            )
            return None
        available = ", ".join(sorted(table)) or "none"
        self.error(
            f"{context} uses unknown {what} '{name}'{suggest(name, table)} "
            f"(available: {available}; plugins can add more)",
            where,
        )
        return None

    def run(self) -> list[Problem]:
        try:
            return self._run()
        finally:
            if self._parser is not None:
                self._parser.close()

    def _run(self) -> list[Problem]:
        from pdca.playbook import storable

        self.owners()
        self.sources()
        self.metrics()
        self.objectives()
        self.tasks()
        self.cycles()
        self.rules()
        # what the store cannot hold, unless a check above already spoke of that place
        placed = {(p.location.line, p.location.col) for p in self.problems if p.location}
        self.problems.extend(
            p
            for p in storable.problems(self.pb, self.source)
            if not p.location or (p.location.line, p.location.col) not in placed
        )
        return self.problems

    def owners(self) -> None:
        owners = self.pb.owners
        for oid, owner in owners.items():
            for i, member in enumerate(owner.members):
                if member == oid:
                    self.error(
                        f"team '{oid}' lists itself as a member", owner.where_item("members", i)
                    )
                else:
                    self.ref(
                        member,
                        owners,
                        "owner",
                        partial(owner.where_item, "members", i),
                        f"team '{oid}'",
                    )

    def sources(self) -> None:
        for sid, source in self.pb.sources.items():
            plugin = self.plugin(
                "source_types", source.type, "source type", source.where("type"), f"source '{sid}'"
            )
            if plugin is None:
                continue
            for key, message in plugin.check(source):
                self.error(f"source '{sid}': {message}", source.where(key))

    def metrics(self) -> None:
        for mid, metric in self.pb.metrics.items():
            context = f"metric '{mid}'"
            self.ref(
                metric.source, self.pb.sources, "source", partial(metric.where, "source"), context
            )
            if metric.filter:
                self.filter(metric, context)
            kpi = self.plugin("kpis", metric.kpi, "KPI", metric.where("kpi"), context)
            if kpi is not None:
                for key, message in kpi.check(metric.field, metric.params):
                    self.error(f"{context}: {message}", _param(metric, key))
                for key, message in getattr(kpi, "warnings", _no_warnings)(
                    metric.field, metric.params
                ):
                    self.warn(f"{context}: {message}", _param(metric, key))
                self.chart(metric, kpi, context)
                self.ranges(metric, kpi, context)
            short = metric.baseline_periods or self.pb.min_baseline
            if short < self.pb.min_baseline:
                self.warn(
                    f"{context}: baseline_periods ({metric.baseline_periods}) is below "
                    f"check.min_baseline ({self.pb.min_baseline}): Check reads it as a run "
                    "chart and gives no verdict; use more periods or lower min_baseline",
                    metric.where("baseline_periods"),
                )
            if metric.warn is not None and metric.target == metric.target:
                if metric.direction == "increase" and metric.warn >= metric.target:
                    self.error(
                        f"{context}: 'warn' ({metric.warn:g}) must be below 'target' "
                        f"({metric.target:g}) when higher is better (direction: increase)",
                        metric.where("warn"),
                    )
                elif metric.direction == "decrease" and metric.warn <= metric.target:
                    self.error(
                        f"{context}: 'warn' ({metric.warn:g}) must be above 'target' "
                        f"({metric.target:g}) when lower is better (direction: decrease)",
                        metric.where("warn"),
                    )
            if metric.baseline is not None and metric.baseline == metric.target:
                self.warn(
                    f"{context}: baseline equals target: there is nothing to improve",
                    metric.where("baseline"),
                )

    def filter(self, metric: Any, context: str) -> None:
        """A filter must be a condition over columns (:mod:`pdca.data.sqlfilter`): found
        here, without the data, so CI refuses ``read_text('/etc/passwd')`` before any check."""
        from pdca.data.messages import quoted
        from pdca.data.sqlfilter import FilterRefused, vet

        if metric.filter not in self._refused:  # 500 metrics often share 50 filters
            if self._parser is None:
                import duckdb

                self._parser = duckdb.connect(":memory:")
            try:
                vet(self._parser, metric.filter)
                self._refused[metric.filter] = None
            except FilterRefused as exc:
                self._refused[metric.filter] = str(exc)
        refused = self._refused[metric.filter]
        if refused is not None:
            self.error(
                f"{context} filter {quoted(metric.filter)} {refused}", metric.where("filter")
            )

    def ranges(self, metric: Any, kpi: Any, context: str) -> None:
        """Values outside the KPI's range, and percents that look like fractions."""
        from pdca.playbook.ranges import findings

        for severity, message, key in findings(metric, kpi, context):
            where = _child(metric, key, "value") if key == "benchmark" else metric.where(key)
            (self.error if severity == "error" else self.warn)(message, where)

    def chart(self, metric: Any, kpi: Any, context: str) -> None:
        """The KPI's declared chart must exist; a binomial ``p`` chart only fits a KPI
        that is a percentage of yes/no outcomes (one the KPI itself puts on p or p')."""
        from pdca.playbook.model import CHARTS

        own = getattr(kpi, "chart", "xmr")
        if own not in CHARTS:
            self.error(
                f"{context}: KPI '{metric.kpi}' declares chart {own!r}, which pdca does not "
                f"know (charts: {', '.join(CHARTS)}); fix the KPI plugin or set 'chart:' "
                "on the metric",
                metric.where("kpi"),
            )
        if metric.chart == "p" and own not in ("p", "p_prime"):
            self.error(
                f"{context}: chart 'p' assumes percentages of yes/no outcomes, and KPI "
                f"'{metric.kpi}' is not one; use p_prime or u_prime (limits from each "
                "period's n and the data's own spread) or xmr",
                metric.where("chart"),
            )

    def objectives(self) -> None:
        for oid, objective in self.pb.objectives.items():
            context = f"objective '{oid}'"
            self.ref(
                objective.owner, self.pb.owners, "owner", partial(objective.where, "owner"), context
            )
            seen = set()
            for i, mid in enumerate(objective.metrics):
                at = partial(objective.where_item, "metrics", i)
                if mid in seen:
                    self.error(f"{context} lists metric '{mid}' twice", at())
                seen.add(mid)
                self.ref(mid, self.pb.metrics, "metric", at, context)

    def tasks(self) -> None:
        tasks = self.pb.tasks
        for tid, task in tasks.items():
            context = f"task '{tid}'"
            self.ref(task.owner, self.pb.owners, "owner", partial(task.where, "owner"), context)
            self.ref(
                task.objective,
                self.pb.objectives,
                "objective",
                partial(task.where, "objective"),
                context,
            )
            seen = set()
            for i, dep in enumerate(task.depends_on):
                at = partial(task.where_item, "depends_on", i)
                if dep == tid:
                    self.error(f"{context} depends on itself", at())
                    continue
                if dep in seen:
                    self.error(f"{context} lists '{dep}' twice in depends_on", at())
                seen.add(dep)
                if not self.ref(dep, tasks, "task", at, context):
                    continue
                other = tasks[dep]
                if PHASE_INDEX.get(other.phase, 0) > PHASE_INDEX.get(task.phase, 0):
                    self.error(
                        f"{context} ({task.phase} phase) depends on '{dep}' of the later "
                        f"{other.phase} phase; a task can only wait for work of its own or an "
                        "earlier phase",
                        at(),
                    )
            if task.when is not None:
                self.ref(
                    task.when.metric,
                    self.pb.metrics,
                    "metric",
                    partial(_child, task, "when", "metric"),
                    context,
                )
                if task.phase != "act":
                    self.warn(
                        f"{context}: 'when' is evaluated when the act phase begins; this task is "
                        f"in the {task.phase} phase, so the condition is ignored",
                        task.where("when"),
                    )
            if task.action is not None:
                action = self.plugin(
                    "actions",
                    task.action.type,
                    "action type",
                    _child(task, "action", "type"),
                    context,
                )
                check = getattr(action, "check", None)
                if check is not None:
                    for key, message in check(task.action.options):
                        self.error(f"{context}: {message}", _child(task, "action", key))
            else:
                for key, value in (("retries", task.retries), ("retry_delay", task.retry_delay)):
                    if value:
                        self.warn(
                            f"{context}: '{key}' applies only to automated tasks "
                            "(with an 'action')",
                            task.where(key),
                        )
            if task.action is not None and task.retry_delay and not task.retries:
                self.warn(
                    f"{context}: 'retry_delay' has no effect without 'retries'",
                    task.where("retry_delay"),
                )

    def cycles(self) -> None:
        from pdca.playbook.order import task_order

        if task_order(self.pb.tasks) is not None:
            return  # no loop: networkx is needed only to name the tasks of one
        from pdca import graph

        for path in graph.cycles(graph.task_graph(self.pb)):
            if len(path) == 2:  # a task depending on itself, reported in tasks()
                continue
            waits = path[::-1]  # edges run dependency -> dependent; people read "a waits for b"
            first = self.pb.tasks[waits[0]]
            where = first.where_item("depends_on", first.depends_on.index(waits[1]))
            self.error(
                f"dependency cycle: {graph.format_cycle(map(shown, waits))} "
                "(each waits for the next); "
                "remove one of these depends_on entries",
                where,
            )

    def rules(self) -> None:
        for i, rule in enumerate(self.pb.rules):
            if rule not in RULES:
                self.error(
                    f"check rule {rule} does not exist: rules are numbered 1 to 10 "
                    "(1-8 Nelson's, 9 and 10 Wheeler's), or name a preset: "
                    "nhs, wheeler, western_electric, nelson",
                    self.pb.where_item("check.rules", i),
                )
        for key in ("shift_points", "trend_points"):
            value = getattr(self.pb, key)
            if value is not None and value not in RUN_LENGTHS:
                self.error(
                    f"'{key}' must be from 6 to 9, got {value}: shorter runs come by "
                    "chance too often, longer ones are found too late",
                    self.pb.where(f"check.{key}"),
                )


def _param(metric: Any, key: str | None) -> Location | None:
    """Where a KPI's finding about ``params[key]`` points; the ``field`` when it has no key."""
    return _child(metric, "params", key) if key else metric.where("field")


def _no_warnings(field: str | None, params: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """The warnings of a KPI object written before :meth:`pdca.kpi.Kpi.warnings` existed."""
    return []


def _child(entry: Any, key: str, sub: str | None) -> Location | None:
    """Location of ``entry[key][sub]``, falling back to ``entry[key]``, then the entry."""
    locs = entry.locs
    child = getattr(locs, "child", None)
    if sub and child is not None:
        inner = child(key)
        if inner is not None and sub in inner:
            return inner[sub]
    return entry.where(key)


def check(
    playbook: Playbook,
    registry: Registry | None,
    *,
    plugins_loaded: bool = True,
    source: str | None = None,
) -> list[Problem]:
    """Every cross-entry problem in the playbook (errors and warnings).

    ``plugins_loaded=False``: the registry holds pdca's built-ins only, so a name
    only a plugin could provide is a warning, not an error. ``source`` is the
    playbook's text, when the caller has it (it spares work, never a finding).
    """
    return _Checker(playbook, registry, plugins_loaded, source).run()


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]
