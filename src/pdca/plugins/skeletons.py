"""The files ``pdca plugins new`` writes: one working plugin package per kind.

Each kind is a module and its tests, both real: the tests use pdca's pytest
plugin (``pdca.testing``), compute their expected values by hand in comments,
and pass as written, so an integrator starts from green and changes one thing
at a time. ``${...}`` fields are filled by :mod:`pdca.plugins.scaffold`.
"""

from __future__ import annotations

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "${dist}"
version = "0.1.0"
description = "${summary}"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["pdca>=${pdca_version}"]

[project.optional-dependencies]
test = ["pytest>=8"]

# How pdca finds the plugin once it is installed: the group "pdca", any name
# (it is what `pdca plugins` shows and PDCA_DISABLE_PLUGINS takes), the module.
[project.entry-points.pdca]
${dist} = "${module}"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["src"]

[tool.ruff]
line-length = 100
src = ["src"]
"""

README = """\
# ${dist}

${summary}

A pdca plugin (a ${kind_words}), made with `pdca plugins new`.

## Develop

pdca is not on a package index: install it from a checkout or a wheel first,
then this package in editable mode.

```console
$$ python -m venv .venv && . .venv/bin/activate
$$ pip install /path/to/pdca                      # a checkout of pdca (or: pip install pdca-*.whl)
$$ pip install -e '.[test]'
$$ python -m pytest -q                            # the tests use pdca's pytest plugin, pdca.testing
$$ pdca plugins                                   # lists ${dist} and its '${name}'
$$ pdca plugins --check                           # contracts: hooks, names, summaries
```

## Use

${usage}
"""

GITIGNORE = """\
__pycache__/
*.egg-info/
.venv/
build/
dist/
.pdca/
"""

KPI = '''\
"""${dist}: the '${name}' KPI, the percent of values at or above a threshold."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pdca import hookimpl
from pdca.kpi import PERCENT, KpiQuery, ParamProblem, SqlKpi, sql_literal


class ${cls}(SqlKpi):
    """Percent of the field's numeric values that are at or above ``threshold``.

    One SQL aggregate, which pdca runs over the window and over every period in
    the same scan. Columns come quoted from the query (``q.column``, ``q.col(name)``)
    and values from the playbook go through ``sql_literal``: nothing a playbook
    says is pasted into the SQL as it is written.
    """

    name = "${name}"
    summary = "100 * count(field >= threshold) / count(field): percent at or above a threshold"
    param_docs = MappingProxyType({"threshold": "the lowest value that counts, e.g. 4"})
    value_range = PERCENT

    def check(self, field: str | None, params: Mapping[str, Any]) -> list[ParamProblem]:
        # pdca validate reports these at the metric, before any data is read
        problems = super().check(field, params)
        threshold = params.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            key = "threshold" if "threshold" in params else None
            problems.append((key, f"KPI '{self.name}' needs parameter 'threshold': a number"))
        return problems

    def sql(self, q: KpiQuery) -> str:
        value = f"TRY_CAST({q.column} AS DOUBLE)"
        threshold = sql_literal(q.params["threshold"])
        return f"100.0 * count(CASE WHEN {value} >= {threshold} THEN 1 END) / count({value})"

    def n_sql(self, q: KpiQuery) -> str:
        # n: the values the percentage is of (a text like 'n/a' is not one)
        return f"count(TRY_CAST({q.column} AS DOUBLE))"


@hookimpl
def pdca_register_kpis(register):
    register(${cls}())
'''

KPI_TEST = '''\
from __future__ import annotations

import pytest
from pdca.plugins.check import check_plugins
from pdca.testing import run_check

import ${module}

ROWS = [
    {"answered_at": "2026-03-02", "score": 5},
    {"answered_at": "2026-03-03", "score": 3},
    {"answered_at": "2026-03-04", "score": 4},
    {"answered_at": "2026-03-05", "score": "n/a"},
    {"answered_at": "2026-02-20", "score": 1},  # before the 7-day window
]


def surveys(playbook_builder, **params):
    return (
        playbook_builder("desk")
        .source("surveys", rows=ROWS, timestamp="answered_at")
        .metric(
            "share",
            source="surveys",
            kpi="${name}",
            field="score",
            target=60,
            **params,
        )
        .write()
    )


def test_percent_at_or_above_the_threshold(playbook_builder):
    path = surveys(playbook_builder, params={"threshold": 4}, window="7d")
    report = run_check(path, as_of="2026-03-05", plugins=[${module}])
    share = report["metrics"]["share"]
    # window 2026-02-27 up to (not including) 2026-03-06: scores 5, 3, 4 and 'n/a';
    # 5 and 4 of the three numbers are >= 4: 2 / 3 = 66.67 %, above the target of 60
    assert share["value"] == pytest.approx(200 / 3)
    assert (share["n"], share["status"]) == (3, "met")


def test_a_missing_threshold_is_reported_by_validate(playbook_file, pdca_cli):
    # playbook_file writes files beside the playbook; "__" in a name stands for "/"
    path = playbook_file(
        """
        playbook: desk
        title: Desk
        sources: {surveys: {type: csv, path: data/surveys.csv, timestamp: answered_at}}
        metrics:
          share: {source: surveys, kpi: ${name}, field: score, target: 60}
        """,
        **{"data/surveys.csv": "answered_at,score\\n2026-03-02,5\\n"},
    )
    result = pdca_cli("validate", path, plugins=[${module}])
    assert result.exit_code == 1
    assert "KPI '${name}' needs parameter 'threshold': a number" in result.stdout


def test_the_plugin_meets_pdcas_contracts(pdca_plugin_manager):
    assert check_plugins(pdca_plugin_manager(${module})) == []
'''

SOURCE = '''\
"""${dist}: the '${name}' source type, rows of a pipe-separated text file."""

from __future__ import annotations

from types import MappingProxyType

from pdca import hookimpl
from pdca.data.base import SourceType
from pdca.data.files import boundary_problems, existing_file
from pdca.data.stamps import with_timestamp
from pdca.kpi import sql_literal


class ${cls}(SourceType):
    """Rows of a text file whose columns are separated by ``|``, with a header line."""

    name = "${name}"
    summary = "A pipe-separated text file with a header line, read by DuckDB"
    required = ("path",)
    option_docs = MappingProxyType(
        {"path": "the file; a relative path starts at the playbook's folder"}
    )

    def check(self, source):
        # pdca validate: a list of (option or None, message), nothing read yet;
        # boundary_problems refuses a path outside the playbook's folder
        # unless the source says allow_outside: true
        return super().check(source) + boundary_problems(source)

    def relation(self, source, request, ctx):
        path = existing_file(source)  # absolute, checked, a regular file
        # a path may hold an apostrophe (O'Brien's export.psv): sql_literal quotes it
        rel = ctx.con.sql(
            f"SELECT * FROM read_csv({sql_literal(str(path))}, delim='|', header=true)"
        )
        return with_timestamp(rel, source)  # the timestamp column as TIMESTAMP, checked


@hookimpl
def pdca_register_source_types(register):
    register(${cls}())
'''

SOURCE_TEST = '''\
from __future__ import annotations

import pytest
from pdca.plugins.check import check_plugins
from pdca.testing import run_check

import ${module}

EXPORT = "closed_at|agent|minutes\\n2026-03-02|ana|30\\n2026-03-03|bo|50\\n2026-03-04|ana|40\\n"


def test_rows_are_read_from_a_file_with_an_apostrophe_in_its_name(playbook_builder):
    builder = playbook_builder("desk")
    builder.file("data/O'Brien's export.psv", EXPORT)
    path = (
        builder.source(
            "tickets",
            type="${name}",
            path="data/O'Brien's export.psv",
            timestamp="closed_at",
        )
        .metric(
            "handling",
            source="tickets",
            kpi="mean",
            field="minutes",
            target=45,
            direction="decrease",
            window="7d",
        )
        .write()
    )
    report = run_check(path, as_of="2026-03-04", plugins=[${module}])
    handling = report["metrics"]["handling"]
    # (30 + 50 + 40) / 3 = 40 minutes, below the target of 45
    assert handling["value"] == pytest.approx(40.0)
    assert (handling["n"], handling["status"]) == (3, "met")


def test_a_source_without_a_path_is_reported_by_validate(playbook_file, pdca_cli):
    path = playbook_file(
        """
        playbook: desk
        title: Desk
        sources: {tickets: {type: ${name}, timestamp: closed_at}}
        """
    )
    result = pdca_cli("validate", path, plugins=[${module}])
    assert result.exit_code == 1
    assert "source type '${name}' needs 'path'" in result.stdout


def test_the_plugin_meets_pdcas_contracts(pdca_plugin_manager):
    assert check_plugins(pdca_plugin_manager(${module})) == []
'''

RENDERER = '''\
"""${dist}: the '${name}' report format, one CSV line per metric."""

from __future__ import annotations

import csv
import io

from pdca import hookimpl
from pdca.report import Renderer


class ${cls}(Renderer):
    """Each metric's value, target and status as CSV, for a spreadsheet or a script."""

    name = "${name}"
    summary = "one CSV line per metric: id, title, value, n, target, status"
    extension = "csv"
    media_type = "text/csv"

    def render(self, document, env):
        # document: the report document, exactly `pdca report --format json`
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\\n")
        writer.writerow(["metric", "title", "value", "n", "target", "status"])
        for mid, metric in document["metrics"].items():
            value = metric["value"]
            writer.writerow(
                [
                    mid,
                    metric["title"],
                    "" if value is None else repr(value),
                    metric["n"],
                    metric["target"],
                    metric["status"],
                ]
            )
        return out.getvalue()


@hookimpl
def pdca_register_renderers(register):
    register(${cls}())
'''

RENDERER_TEST = """\
from __future__ import annotations

import csv
import io

from pdca.plugins.check import check_plugins

import ${module}

ROWS = [
    {"day": "2026-03-02", "score": 8},
    {"day": "2026-03-03", "score": 4},
    {"day": "2026-03-04", "score": 7},
]


def test_one_line_per_metric_with_the_exact_value(playbook_builder, pdca_cli):
    path = (
        playbook_builder("desk")
        .source("scores", rows=ROWS, timestamp="day")
        .metric(
            "avg",
            source="scores",
            kpi="mean",
            field="score",
            target=7,
            window="7d",
            title='Average, "all" scores',
        )
        .write()
    )
    result = pdca_cli(
        "report",
        path,
        "--format",
        "${name}",
        "--as-of",
        "2026-03-04",
        plugins=[${module}],
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    # (8 + 4 + 7) / 3 = 6.333..., short of the target of 7 (read as 7.0) with no warn
    # level: off track; the title's comma and quotes are CSV-quoted, the value in full
    assert rows == [
        ["metric", "title", "value", "n", "target", "status"],
        ["avg", 'Average, "all" scores', repr(19 / 3), "3", "7.0", "off_track"],
    ]


def test_the_plugin_meets_pdcas_contracts(pdca_plugin_manager):
    assert check_plugins(pdca_plugin_manager(${module})) == []
"""

ACTION = '''\
"""${dist}: the '${name}' action, an automated task that appends a line to a file."""

from __future__ import annotations

import time
from pathlib import PurePosixPath
from types import MappingProxyType

from pdca import hookimpl
from pdca.action import ActionResult, ActionType


class ${cls}(ActionType):
    """Appends ``text`` (with the cycle number) to ``file`` in the playbook's folder.

    Stands in for a call to a ticket system or a chat: one step, a result pdca
    records, and a clear error when it cannot be done. A rerun after a crash
    appends again, so a real action should check first whether its work is done.
    """

    name = "${name}"
    summary = "append a line to a file in the playbook's folder"
    required = ("file",)
    option_docs = MappingProxyType(
        {
            "file": "the file, relative to the playbook's folder",
            "text": "the line to add",
        }
    )

    def check(self, options):
        # pdca validate: a list of (option or None, message)
        problems = super().check(options)
        file = options.get("file")
        if isinstance(file, str) and (PurePosixPath(file).is_absolute() or ".." in file):
            problems.append(("file", "'file' must stay inside the playbook's folder"))
        return problems

    def run(self, options, ctx):
        started = time.monotonic()
        line = f"{options.get('text', ctx.task_id)} (cycle {ctx.cycle})\\n"
        try:
            with (ctx.cwd / options["file"]).open("a", encoding="utf-8") as f:
                f.write(line)
        except OSError as exc:
            return ActionResult(
                ok=False,
                error=f"cannot write {options['file']}: {exc.strerror}",
                duration=time.monotonic() - started,
            )
        return ActionResult(ok=True, output=line, duration=time.monotonic() - started)


@hookimpl
def pdca_register_actions(register):
    register(${cls}())
'''

ACTION_TEST = """\
from __future__ import annotations

from pdca.plugins.check import check_plugins
from pdca.testing import run_cycle

import ${module}


def desk(playbook_builder, **options):
    builder = playbook_builder("desk")
    path = (
        builder.task(
            "notify",
            owner="tom",
            phase="plan",
            action={"type": "${name}", **options},
        )
        .cycle("2026-01-05", "14d")
        .write()
    )
    return builder, path


def test_the_automated_task_runs_once_and_is_done(playbook_builder):
    builder, path = desk(playbook_builder, file="log.txt", text="kick-off")
    first = run_cycle(path, as_of="2026-01-05", plugins=[${module}])
    assert first["exit_code"] == 0, first["stderr"]
    assert first["review"]["tasks"]["notify"]["status"] == "done"
    assert (builder.folder / "log.txt").read_text() == "kick-off (cycle 1)\\n"
    run_cycle(path, as_of="2026-01-06", plugins=[${module}])  # done: not run again
    assert (builder.folder / "log.txt").read_text() == "kick-off (cycle 1)\\n"


def test_a_file_outside_the_folder_is_refused_by_validate(playbook_builder, pdca_cli):
    _, path = desk(playbook_builder, file="../elsewhere.txt")
    result = pdca_cli("validate", path, plugins=[${module}])
    assert result.exit_code == 1
    assert "'file' must stay inside the playbook's folder" in result.stdout


def test_the_plugin_meets_pdcas_contracts(pdca_plugin_manager):
    assert check_plugins(pdca_plugin_manager(${module})) == []
"""

KINDS = {
    "kpi": ("KPI calculator", KPI, KPI_TEST),
    "source": ("source type", SOURCE, SOURCE_TEST),
    "renderer": ("report format", RENDERER, RENDERER_TEST),
    "action": ("action for automated tasks", ACTION, ACTION_TEST),
}
"""Each kind: how the README names it, the module, its tests."""

USAGE = {
    "kpi": "In a playbook's metric: `kpi: ${name}` with `params: {threshold: 4}`.",
    "source": "In a playbook's sources: `{type: ${name}, path: data/export.psv, "
    "timestamp: closed_at}`.",
    "renderer": "`pdca report playbook.yaml --format ${name} -o metrics.csv`.",
    "action": "In a playbook's task: `action: {type: ${name}, file: log.txt, "
    "text: Kick-off}`; `pdca run` runs it when the task is ready.",
}
