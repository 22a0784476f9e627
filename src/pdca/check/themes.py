"""Themes in a metric's comments: which words set off-target rows apart from on-target ones.

Glue between a playbook metric and :mod:`pdca.check.stats.themes`: read the
metric's rows over its window with the free-text column, split them in two
groups, compare the groups' words, and shape the answer for ``pdca themes``,
its task stubs and the reports.

How rows are split, per KPI (the first group is the one that holds the metric
back, so its themes are the weaknesses and the other group's the strengths):

========================= ================================= ==============================
KPI                       first group                       second group
========================= ================================= ==============================
nps, enps                 detractors: score 0-6             promoters: score 9-10
csat                      below ``satisfied`` (default 4)   ``satisfied`` or more
sla                       field above ``limit``             field at or below ``limit``
rate                      no (yes when direction: decrease) yes (no when decrease)
mean, median, percentile, field worse than ``target``:      field at target or better
ces, min, max             above it when lower is better,
                          below it when higher is better
servqual_gap              perception below expectation      perception at or above it
========================= ================================= ==============================

Passives (7-8) and rows whose field is not usable (text in a number column,
a score outside 0-10) are in neither group. ``sum``, ``count``,
``count_distinct``, ``ratio``, ``retention``, ``churn``, ``clv`` and plugin
KPIs have no per-row meaning (their target is for the total, not for each
row): compare the values of a column instead, ``--by COLUMN --group VALUE``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pdca.errors import PlaybookError

if TYPE_CHECKING:
    from pathlib import Path

    from pdca.data.session import DataSession
    from pdca.playbook.model import Metric, Playbook
    from pdca.plugins import Registry

TODO_OWNER = "todo-owner"
"""Owner of generated task stubs: a valid owner id, to be replaced or defined."""
DEFAULT_TASKS = 3
STATISTIC = (
    "weighted log-odds ratio with an informative Dirichlet prior "
    "(Monroe, Colaresi & Quinn 2008, Fightin' Words)"
)

_NUMERIC_KPIS = ("mean", "median", "percentile", "ces", "min", "max")
PER_ROW_KPIS = ("nps", "enps", "csat", "sla", "rate", "servqual_gap", *_NUMERIC_KPIS)
"""KPIs whose rows can each be called on or off target."""


@dataclass(frozen=True)
class Split:
    """Two groups of a metric's rows, as SQL conditions over its table."""

    kind: str
    """``kpi``: judged by the metric's KPI; ``by``: values of a column."""
    rule: str
    labels: tuple[str, str]
    conditions: tuple[str, str]
    columns: tuple[str, ...]
    """Source columns the conditions read."""


def comments_column(playbook: Playbook, metric: Metric) -> str | None:
    """The metric's free-text column: its own ``comments``, else its source's."""
    if metric.comments:
        return metric.comments
    source = playbook.sources.get(metric.source)
    return source.comments if source is not None else None


def has_themes(playbook: Playbook, metric_id: str) -> bool:
    """Whether a report can show themes for the metric without being told how to split."""
    metric = playbook.metrics.get(metric_id)
    return (
        metric is not None
        and comments_column(playbook, metric) is not None
        and metric.kpi in PER_ROW_KPIS
        and bool(metric.field)
    )


def split_for(
    metric: Metric, *, by: str | None = None, group: str | None = None, vs: str | None = None
) -> Split:
    """How the metric's rows fall into two groups (see the module docstring)."""
    from pdca.kpi import quote, sql_literal

    if by is not None:
        if group is None:
            raise PlaybookError.at("--by needs --group VALUE: the rows to set apart")
        if vs is not None and vs == group:
            raise PlaybookError.at(f"--group and --vs are both '{group}': nothing to compare")
        label = f"CAST({quote(by)} AS VARCHAR)"
        mine = f"{label} = {sql_literal(group)}"
        if vs is None:
            theirs = f"{label} IS DISTINCT FROM {sql_literal(group)}"
            labels = (f"{by} = {group}", f"{by} != {group}")
        else:
            theirs = f"{label} = {sql_literal(vs)}"
            labels = (f"{by} = {group}", f"{by} = {vs}")
        return Split("by", f"{labels[0]} vs {labels[1]}", labels, (mine, theirs), (by,))
    if group is not None or vs is not None:
        raise PlaybookError.at("--group and --vs go with --by COLUMN")
    return _kpi_split(metric)


def _kpi_split(metric: Metric) -> Split:
    from pdca.builtins.kpiparts import number_sql
    from pdca.kpi import quote, truthy_sql

    kpi, field = metric.kpi, metric.field
    if kpi not in PER_ROW_KPIS or not field:
        raise PlaybookError.at(
            f"metric '{metric.id}' uses KPI '{kpi}', which gives no verdict per row (its "
            "target is for the total, not for each row), so its comments cannot be split "
            f"into on- and off-target rows; compare the values of a column instead: "
            f"pdca themes PLAYBOOK {metric.id} --by COLUMN --group VALUE [--vs VALUE]",
            metric.where("kpi"),
        )
    v = number_sql(quote(field))
    params = metric.params
    if kpi in ("nps", "enps"):
        labels = ("detractors (0-6)", "promoters (9-10)")
        conditions = (f"{v} BETWEEN 0 AND 6", f"{v} BETWEEN 9 AND 10")
    elif kpi == "csat":
        s = float(params.get("satisfied", 4))
        labels = (f"dissatisfied (below {s:g})", f"satisfied ({s:g} or more)")
        conditions = (f"{v} < {s!r}", f"{v} >= {s!r}")
    elif kpi == "sla":
        limit = float(params["limit"])
        labels = (f"over the limit (above {limit:g})", f"within the limit ({limit:g} or less)")
        conditions = (f"{v} > {limit!r}", f"{v} <= {limit!r}")
    elif kpi == "rate":
        t = truthy_sql(quote(field))
        yes, no = (f"{t} = 1.0", "yes"), (f"{t} = 0.0", "no")
        bad, good = (no, yes) if metric.higher_is_better else (yes, no)
        labels = (f"{field}: {bad[1]}", f"{field}: {good[1]}")
        conditions = (bad[0], good[0])
    elif kpi == "servqual_gap":
        gap = f"({v} - {number_sql(quote(str(params['expectation'])))})"
        labels = ("below expectation", "meets or exceeds expectation")
        conditions = (f"{gap} < 0", f"{gap} >= 0")
        return Split("kpi", _rule(labels), labels, conditions, (field, str(params["expectation"])))
    else:
        target = float(metric.target)
        if metric.higher_is_better:
            labels = (f"below target ({target:g})", f"at or above target ({target:g})")
            conditions = (f"{v} < {target!r}", f"{v} >= {target!r}")
        else:
            labels = (f"above target ({target:g})", f"at or below target ({target:g})")
            conditions = (f"{v} > {target!r}", f"{v} <= {target!r}")
    return Split("kpi", _rule(labels), labels, conditions, (field,))


def _rule(labels: tuple[str, str]) -> str:
    return f"{labels[0]} vs {labels[1]}"


def analyse(
    playbook: Playbook,
    registry: Registry,
    metric_id: str,
    as_of: date,
    *,
    by: str | None = None,
    group: str | None = None,
    vs: str | None = None,
    top: int | None = None,
    min_count: int | None = None,
    min_z: float | None = None,
    prior: float | None = None,
    days: int | None = None,
    comments: str | None = None,
    session: DataSession | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """The themes of one metric's comments over its window, as ``pdca themes`` JSON.

    ``comments`` overrides the playbook's comments column, ``days`` the
    metric's window. Pass the ``session`` of a report to read each source once.
    """
    from pdca.check.stats import themes as fw
    from pdca.kpi import TS, quote

    metric = playbook.metrics.get(metric_id)
    if metric is None:
        known = ", ".join(playbook.metrics) or "none"
        raise PlaybookError.at(f"{playbook.path}: no metric '{metric_id}' (metrics: {known})")
    column = comments or comments_column(playbook, metric)
    if not column:
        raise PlaybookError.at(
            f"metric '{metric.id}' names no comments column: add `comments: COLUMN` to the "
            f"metric or to source '{metric.source}', or pass --comments COLUMN",
            metric.where(),
        )
    split = split_for(metric, by=by, group=group, vs=vs)
    window_days = days or metric.window_days
    end = datetime.combine(as_of + timedelta(days=1), time())
    start = end - timedelta(days=window_days)
    settings = {
        "top": fw.DEFAULT_TOP if top is None else top,
        "min_count": fw.DEFAULT_MIN_COUNT if min_count is None else min_count,
        "min_z": fw.DEFAULT_MIN_Z if min_z is None else min_z,
        "prior": fw.DEFAULT_PRIOR if prior is None else prior,
    }

    own = session is None
    if session is None:
        from pdca.data.session import DataSession

        session = DataSession(playbook, registry, cache_dir=cache_dir)
    try:
        _check_columns(playbook, metric, session, column, comments is not None, split)
        table = session.rows(metric, [column, *split.columns], start, end)
        text = f"CAST({quote(column)} AS VARCHAR)"
        rows = session.con.execute(
            f"SELECT count(*) FILTER (WHERE {split.conditions[0]}), "
            f"count(*) FILTER (WHERE {split.conditions[1]}) FROM {table}"
        ).fetchone() or (0, 0)
        texts = [
            [
                r[0]
                for r in session.con.execute(
                    f"SELECT {text} FROM {table} WHERE ({condition}) AND {text} IS NOT NULL "
                    f"ORDER BY {quote(TS)} DESC, 1"
                ).fetchall()
            ]
            for condition in split.conditions
        ]
    finally:
        if own:
            session.close()

    result = fw.compare(
        texts[0],
        texts[1],
        labels=split.labels,
        top=settings["top"],
        min_count=settings["min_count"],
        min_z=settings["min_z"],
        prior=settings["prior"],
    )
    groups = []
    for side, n_rows in zip((result.group, result.other), rows, strict=True):
        themes = []
        other = result.other if side is result.group else result.group
        for theme in side.themes:
            themes.append(
                {
                    "term": theme.term,
                    "z": round(theme.z, 2),
                    "log_odds": round(theme.log_odds, 3),
                    "count": theme.count,
                    "share": _percent(theme.count, side.comments),
                    "other_count": theme.other_count,
                    "other_share": _percent(theme.other_count, other.comments),
                    "examples": list(theme.examples),
                }
            )
        groups.append(
            {"label": side.label, "rows": n_rows, "comments": side.comments, "themes": themes}
        )
    return {
        "playbook": playbook.id,
        "metric": metric.id,
        "title": metric.label,
        "kpi": metric.kpi,
        "as_of": as_of.isoformat(),
        "window": {
            "start": start.date().isoformat(),
            "end": as_of.isoformat(),
            "days": window_days,
        },
        "comments_column": column,
        "split": {
            "kind": split.kind,
            "rule": split.rule,
            "column": by if split.kind == "by" else metric.field,
        },
        "method": {"statistic": STATISTIC, **settings, "terms": result.terms},
        "groups": groups,
    }


def _percent(count: int, total: int) -> float | None:
    return round(100.0 * count / total, 1) if total else None


def _check_columns(
    playbook: Playbook,
    metric: Metric,
    session: DataSession,
    column: str,
    from_option: bool,
    split: Split,
) -> None:
    """Name the key to fix when a column is missing, before any row is read."""
    from pdca.data.messages import at, unknown_column
    from pdca.errors import SourceError

    available = session.columns(metric.source)
    if column not in available:
        if from_option:
            where, what = "", "--comments column"
        elif metric.comments:
            where, what = at(metric.where("comments")), f"metric '{metric.id}' comments column"
        else:
            source = playbook.sources[metric.source]
            where, what = at(source.where("comments")), "comments column"
        raise SourceError(
            f"{where}{what} '{column}' is not in source '{metric.source}' "
            f"{unknown_column(column, available)}"
        )
    if split.kind == "by" and split.columns[0] not in available:
        raise SourceError(
            f"--by column '{split.columns[0]}' is not in source '{metric.source}' "
            f"{unknown_column(split.columns[0], available)}"
        )


# -- text ------------------------------------------------------------------------------


def to_text(result: Mapping[str, Any]) -> str:
    """The themes as a person reads them in a terminal."""
    window = result["window"]
    method = result["method"]
    name = result["metric"]
    if result["title"] != name:
        name += f" ({result['title']})"
    lines = [
        f"Themes in '{result['comments_column']}' comments on {name}, "
        f"{window['start']} to {window['end']}",
        f"Split: {result['split']['rule']}",
    ]
    groups = result["groups"]
    for g in groups:
        lines.append(f"  {g['label']}: {g['rows']} rows, {g['comments']} with a comment")
    for g, other in ((groups[0], groups[1]), (groups[1], groups[0])):
        lines.append("")
        lines.append(f"What sets {g['label']} apart:")
        if not g["themes"]:
            why = "no comments" if not g["comments"] else "no theme stands out"
            lines.append(f"  ({why})")
            continue
        mine = [f"{t['count']} of {g['comments']} ({_share(t['share'])})" for t in g["themes"]]
        width = max(len(t["term"]) for t in g["themes"])
        count_width = max(len(m) for m in mine)
        for t, m in zip(g["themes"], mine, strict=True):
            lines.append(
                f"  {t['term']:<{width}}  z {t['z']:4.1f}   {m:<{count_width}}   vs "
                f"{t['other_count']} of {other['comments']} ({_share(t['other_share'])})"
            )
            for example in t["examples"]:
                lines.append(f"      {example}")
    lines += [
        "",
        f"Terms with |z| >= {method['min_z']:g} in at least {method['min_count']} comments of "
        f"their group, of {method['terms']} terms; {method['statistic']}. "
        "z above 3 is firm; about 2 can be chance among many terms.",
    ]
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:g}%"


# -- task stubs ------------------------------------------------------------------------


def to_tasks(result: Mapping[str, Any], playbook: Playbook, count: int | None = None) -> str:
    """YAML task stubs for the first group's top themes, to paste under ``tasks:``.

    Each is a Plan-phase root-cause task with the placeholder owner
    ``todo-owner`` (a valid owner id: replace it or define it), tied to the
    metric's objective when exactly one objective lists the metric.
    """
    metric_id = result["metric"]
    first = result["groups"][0]
    themes = first["themes"][: DEFAULT_TASKS if count is None else count]
    window = result["window"]
    lines = [
        f"# Root-cause tasks from `pdca themes` on metric '{metric_id}', "
        f"{window['start']} to {window['end']} ({first['label']}).",
        f"# Paste under `tasks:`; replace {TODO_OWNER} with an owner id, or define that owner.",
    ]
    if not themes:
        lines.append(f"# No theme sets {first['label']} apart: no tasks to suggest.")
        return "\n".join(lines) + "\n"
    objectives = [oid for oid, o in playbook.objectives.items() if metric_id in o.metrics]
    taken = set(playbook.tasks)
    for theme in themes:
        tid = _task_id(metric_id, theme["term"], taken)
        taken.add(tid)
        share = _share(theme["share"])
        other = result["groups"][1]
        description = (
            f"pdca themes found '{theme['term']}' in {theme['count']} of {first['comments']} "
            f"comments of {first['label']} ({share}) against {theme['other_count']} of "
            f"{other['comments']} of {other['label']} (z {theme['z']:g}), "
            f"{window['start']} to {window['end']}. Find the root cause (5 whys, affinity "
            "diagram) and propose a countermeasure."
        )
        if theme["examples"]:
            description += f' Example: "{theme["examples"][0]}"'
        lines.append(f"  {tid}:")
        lines.append(
            "    title: "
            + _yaml_str(f"Root-cause analysis: '{theme['term']}' in comments of {first['label']}")
        )
        lines.append(f"    owner: {TODO_OWNER}")
        lines.append("    phase: plan")
        if len(objectives) == 1:
            lines.append(f"    objective: {objectives[0]}")
        lines.append("    estimate: 1d")
        lines.append("    description: " + _yaml_str(description))
    return "\n".join(lines) + "\n"


def _yaml_str(text: str) -> str:
    """A double-quoted YAML scalar: JSON's string syntax is a subset of YAML's."""
    return json.dumps(text, ensure_ascii=False)


def _task_id(metric_id: str, term: str, taken: set[str]) -> str:
    ascii_term = unicodedata.normalize("NFKD", term).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_term.lower()).strip("-") or "theme"
    base = f"rca-{metric_id}-{slug}"
    tid, n = base, 2
    while tid in taken:
        tid, n = f"{base}-{n}", n + 1
    return tid
