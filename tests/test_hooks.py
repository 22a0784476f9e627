"""One test per hook, named after it (``test_<hook>``), through the paths users take.

``tests/test_hookspecs_meta.py`` fails when a hook in :mod:`pdca.hookspecs`
has no test here (or elsewhere) of that name, so a new hook cannot ship
untested. Registration hooks are checked by what the registered thing does
in a real command; lifecycle hooks by what an implementation receives when a
real command fires them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import click
import pluggy

import pdca
from pdca.action import ActionContext, ActionResult, ActionType
from pdca.data.base import DataRequest, SourceContext, SourceType
from pdca.kpi import FunctionKpi
from pdca.plugins import build_registry, notify
from pdca.testing import CliResult, PlaybookBuilder, run_check, run_cycle


class Recorder:
    """Implements every lifecycle hook and keeps what each call received."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [c[1:] for c in self.calls if c[0] == kind]

    @pdca.hookimpl
    def pdca_playbook_loaded(self, playbook: Any) -> None:
        self.calls.append(("loaded", playbook.id))

    @pdca.hookimpl
    def pdca_metric_evaluated(self, playbook: Any, metric: Any, result: dict[str, Any]) -> None:
        self.calls.append(("metric", playbook.id, metric.id, result))

    @pdca.hookimpl
    def pdca_phase_changed(self, playbook: Any, cycle: int, old: str | None, new: str) -> None:
        self.calls.append(("phase", playbook.id, cycle, old, new))

    @pdca.hookimpl
    def pdca_task_changed(
        self,
        playbook: Any,
        cycle: int,
        task: str,
        old: str | None,
        new: str,
        by: str | None,
        note: str | None,
    ) -> None:
        self.calls.append(("task", cycle, task, old, new, by, note))

    @pdca.hookimpl
    def pdca_cycle_reviewed(self, playbook: Any, review: dict[str, Any]) -> None:
        self.calls.append(("reviewed", playbook.id, review))


def desk(build: Callable[..., PlaybookBuilder]) -> Path:
    """Two metrics over four days; a plan task for aisha, a do task for tom."""
    return (
        build("desk", "Support desk")
        .source(
            "scores",
            rows=[
                {"day": "2026-01-05", "score": 4, "wait": 30},
                {"day": "2026-01-06", "score": 6, "wait": 20},
                {"day": "2026-01-07", "score": 8, "wait": 10},
                {"day": "2026-01-08", "score": 9, "wait": 12},
            ],
            timestamp="day",
        )
        .metric("score", source="scores", kpi="mean", field="score", target=9, warn=5)
        .metric(
            "wait", source="scores", kpi="median", field="wait", target=10, direction="decrease"
        )
        .task("analyse", owner="aisha", phase="plan", due="2026-01-06")
        .task("coach", owner="tom", depends_on=["analyse"])
        .cycle("2026-01-05", "7d")
        .write()
    )


# -- registration hooks ---------------------------------------------------------------------


class InlineSource(SourceType):
    """Rows written in the playbook itself: the smallest possible source type."""

    name = "inline"
    summary = "rows listed under the source's 'records' option"
    option_docs: ClassVar[Mapping[str, str]] = {"records": "a list of mappings, one per row"}
    required = ("records",)

    def relation(self, source: Any, request: DataRequest, ctx: SourceContext) -> Any:
        import pyarrow as pa

        from pdca.data.stamps import with_timestamp

        table = pa.Table.from_pylist([dict(row) for row in source.options["records"]])
        return with_timestamp(ctx.con.from_arrow(table), source)


class InlinePlugin:
    @pdca.hookimpl
    def pdca_register_source_types(self, register: Callable[[SourceType], None]) -> None:
        register(InlineSource())


def test_pdca_register_source_types(playbook_builder: Callable[..., PlaybookBuilder]) -> None:
    records = [
        {"day": "2026-01-05", "x": 2},
        {"day": "2026-01-06", "x": 5},
        {"day": "2025-12-01", "x": 100},  # outside the 7-day window
    ]
    path = (
        playbook_builder("p")
        .source("mem", type="inline", timestamp="day", records=records)
        .metric("m", source="mem", kpi="sum", field="x", target=5, window="7d")
        .write()
    )
    metric = run_check(path, as_of="2026-01-06", plugins=[InlinePlugin()])["metrics"]["m"]
    assert (metric["value"], metric["n"], metric["status"]) == (7.0, 2, "met")


def test_pdca_register_kpis(playbook_builder: Callable[..., PlaybookBuilder]) -> None:
    class Spread:
        @pdca.hookimpl
        def pdca_register_kpis(self, register: Callable[[Any], None]) -> None:
            register(FunctionKpi("spread", lambda v: max(v) - min(v), "max minus min"))

    path = desk(playbook_builder)
    text = path.read_text().replace("kpi: median", "kpi: spread")
    path.write_text(text)
    metric = run_check(path, as_of="2026-01-08", plugins=[Spread()])["metrics"]["wait"]
    assert (metric["value"], metric["n"]) == (20.0, 4)  # 30 - 10


def test_pdca_register_renderers(
    pdca_plugin_manager: Callable[..., pluggy.PluginManager], pdca_cli: Callable[..., CliResult]
) -> None:
    # Rendering a whole report through a plugin renderer is tests/test_report.py's
    # test_pdca_register_renderers; here: registered, owned, listed, checked, callable.
    from pdca.report import Renderer

    class Csv(Renderer):
        name = "csv-report"
        summary = "the check report as one CSV row per metric"

        def render(self, document: Mapping[str, Any], env: Any) -> str:
            rows = [f"{mid},{m['status']}" for mid, m in document["metrics"].items()]
            return "metric,status\n" + "".join(f"{row}\n" for row in rows)

    class Renderers:
        @pdca.hookimpl
        def pdca_register_renderers(self, register: Callable[[Any], None]) -> None:
            register(Csv())

    registry = build_registry(pdca_plugin_manager(("reports", Renderers())))
    assert registry.renderers["csv-report"].plugin == "reports"
    document = {"metrics": {"nps": {"status": "met"}, "csat": {"status": "at_risk"}}}
    rendered = registry.get("renderers", "csv-report").render(document, None)
    assert rendered == "metric,status\nnps,met\ncsat,at_risk\n"
    listed = pdca_cli("plugins", "--format", "json", plugins=[("reports", Renderers())]).json()
    entry = next(p for p in listed if p["name"] == "reports")
    assert [{k: r[k] for k in ("name", "summary", "extension")} for r in entry["renderers"]] == [
        {
            "name": "csv-report",
            "summary": "the check report as one CSV row per metric",
            "extension": "txt",
        }
    ]
    assert pdca_cli("plugins", "--check", plugins=[("reports", Renderers())]).exit_code == 0


def test_pdca_register_actions(playbook_builder: Callable[..., PlaybookBuilder]) -> None:
    class Note(ActionType):
        name = "note"
        summary = "append a line to a file"
        option_docs: ClassVar[Mapping[str, str]] = {"file": "where to append"}
        required = ("file",)

        def run(self, options: Mapping[str, Any], ctx: ActionContext) -> ActionResult:
            with (ctx.cwd / options["file"]).open("a") as f:
                f.write(f"{ctx.playbook_id} {ctx.task_id} cycle {ctx.cycle} as of {ctx.as_of}\n")
            return ActionResult(True, 0, "noted")

    class Actions:
        @pdca.hookimpl
        def pdca_register_actions(self, register: Callable[[ActionType], None]) -> None:
            register(Note())

    builder = playbook_builder("desk")
    path = builder.task(
        "export", owner="tom", phase="plan", action={"type": "note", "file": "log.txt"}
    ).write()
    result = run_cycle(path, as_of="2026-01-08", plugins=[Actions()])
    assert result["exit_code"] == 0, result["stderr"]
    assert (builder.folder / "log.txt").read_text() == "desk export cycle 1 as of 2026-01-08\n"
    assert result["review"]["tasks"]["export"]["status"] == "done"


def test_pdca_register_commands(pdca_cli: Callable[..., CliResult]) -> None:
    class Commands:
        @pdca.hookimpl
        def pdca_register_commands(self, cli: click.Group) -> None:
            @cli.command("hello")
            @click.argument("who")
            def hello(who: str) -> None:
                """Greet someone."""
                click.echo(f"hello {who}")

    result = pdca_cli("hello", "maria", plugins=[Commands()])
    assert (result.exit_code, result.stdout) == (0, "hello maria\n")
    assert "Greet someone." in pdca_cli("--help", plugins=[Commands()]).stdout


# -- lifecycle hooks ------------------------------------------------------------------------


def test_pdca_playbook_loaded(
    playbook_builder: Callable[..., PlaybookBuilder],
    pdca_plugin_manager: Callable[..., pluggy.PluginManager],
) -> None:
    recorder = Recorder()
    pm = pdca_plugin_manager(recorder)
    playbook = pdca.load_playbook(desk(playbook_builder), plugin_manager=pm)
    assert recorder.of("loaded") == [("desk",)]  # fired once, by the loader itself
    notify(pm, "pdca_playbook_loaded", playbook=playbook)
    assert recorder.of("loaded") == [("desk",), ("desk",)]


def test_pdca_playbook_loaded_fires_when_check_loads_the_playbook(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    recorder = Recorder()
    run_check(desk(playbook_builder), as_of="2026-01-08", plugins=[recorder])
    assert recorder.of("loaded") == [("desk",)]


def test_pdca_metric_evaluated(playbook_builder: Callable[..., PlaybookBuilder]) -> None:
    recorder = Recorder()
    report = run_check(desk(playbook_builder), as_of="2026-01-08", plugins=[recorder])
    seen = recorder.of("metric")
    assert [(pb, mid) for pb, mid, _ in seen] == [("desk", "score"), ("desk", "wait")]
    for _, mid, result in seen:
        assert result == report["metrics"][mid]  # the metric's entry of the check JSON
    score = seen[0][2]
    assert (score["value"], score["status"]) == (6.75, "at_risk")  # mean(4, 6, 8, 9)
    assert score["signal"]["verdict"] == "insufficient_data"


def test_pdca_phase_changed(
    playbook_builder: Callable[..., PlaybookBuilder], pdca_cli: Callable[..., CliResult]
) -> None:
    recorder = Recorder()
    path = desk(playbook_builder)
    run_cycle(path, as_of="2026-01-08", plugins=[recorder])
    assert recorder.of("phase") == [("desk", 1, None, "plan")]
    assert pdca_cli("task", path, "done", "analyse", "--by", "aisha").exit_code == 0
    run_cycle(path, as_of="2026-01-08", plugins=[recorder])
    assert recorder.of("phase")[1:] == [("desk", 1, "plan", "do")]


def test_pdca_task_changed(
    playbook_builder: Callable[..., PlaybookBuilder], pdca_cli: Callable[..., CliResult]
) -> None:
    recorder = Recorder()
    path = desk(playbook_builder)
    run_cycle(path, as_of="2026-01-08", plugins=[recorder])
    assert recorder.of("task") == [(1, "analyse", "pending", "ready", None, None)]
    started = pdca_cli("task", path, "start", "analyse", "--by", "aisha", plugins=[recorder])
    done = pdca_cli(
        "task", path, "done", "analyse", "--by", "aisha", "--note", "3 causes", plugins=[recorder]
    )
    assert (started.exit_code, done.exit_code) == (0, 0)
    assert recorder.of("task")[1:] == [
        (1, "analyse", "ready", "in_progress", "aisha", None),
        (1, "analyse", "in_progress", "done", "aisha", "3 causes"),
    ]


def test_pdca_cycle_reviewed(
    playbook_builder: Callable[..., PlaybookBuilder],
    pdca_plugin_manager: Callable[..., pluggy.PluginManager],
) -> None:
    # Fired through notify with a real review, as the engine does after pdca run / status.
    path = desk(playbook_builder)
    review = run_cycle(path, as_of="2026-01-08")["review"]
    recorder = Recorder()
    pm = pdca_plugin_manager(recorder)
    playbook = pdca.load_playbook(path, plugin_manager=pm)
    notify(pm, "pdca_cycle_reviewed", playbook=playbook, review=review)
    [(pb_id, seen)] = recorder.of("reviewed")
    assert pb_id == "desk"
    assert seen["cycle"]["number"] == 1 and seen["cycle"]["phase"] == "plan"
    assert seen["tasks"]["analyse"]["overdue"] is True  # due 2026-01-06, still ready
    assert seen["tasks"]["coach"]["overdue"] is False


def test_pdca_cycle_reviewed_fires_after_run_and_status(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    recorder = Recorder()
    result = run_cycle(desk(playbook_builder), as_of="2026-01-08", plugins=[recorder])
    reviews = recorder.of("reviewed")
    assert [pb_id for pb_id, _ in reviews] == ["desk", "desk"]  # pdca run, then pdca status
    printed = result["review"]
    for _, review in reviews:
        assert review["cycle"]["number"] == printed["cycle"]["number"] == 1
        assert review["tasks"]["analyse"]["overdue"] is printed["tasks"]["analyse"]["overdue"]


def test_pdca_prepare_jinja_env(pdca_plugin_manager: Callable[..., pluggy.PluginManager]) -> None:
    # A whole report rendered with a plugin's filter is tests/test_report.py's
    # test_pdca_prepare_jinja_env; here: the hook reaches a real environment.
    import jinja2

    class Filters:
        @pdca.hookimpl
        def pdca_prepare_jinja_env(self, env: jinja2.Environment) -> None:
            env.filters["percent"] = lambda v: f"{v:.0%}"

    env = jinja2.Environment(autoescape=True)
    notify(pdca_plugin_manager(Filters()), "pdca_prepare_jinja_env", env=env)
    assert env.from_string("{{ 0.853 | percent }}").render() == "85%"
