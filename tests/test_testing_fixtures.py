"""pdca.testing: the fixtures and helpers integrators test their plugins with.

They are loaded through the ``pytest11`` entry point, so these tests use them
exactly as a plugin's own tests do: as fixture arguments, with no import.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click
import pluggy
import pytest

import pdca
from pdca import plugins as plugins_module
from pdca.errors import PluginError
from pdca.kpi import FunctionKpi
from pdca.plugins import BUILTINS, build_registry
from pdca.testing import (
    CliFailed,
    CliResult,
    PlaybookBuilder,
    csv_text,
    plugins_added,
    run_check,
    run_cycle,
)


class SpreadPlugin:
    """Registers ``spread`` (max - min), a KPI no built-in provides."""

    @pdca.hookimpl
    def pdca_register_kpis(self, register: Callable[[Any], None]) -> None:
        register(FunctionKpi("spread", lambda v: max(v) - min(v), "max minus min"))


class HelloPlugin:
    @pdca.hookimpl
    def pdca_register_commands(self, cli: click.Group) -> None:
        @click.command()
        @click.option("--name", default="world")
        def hello(name: str) -> None:
            """Say hello."""
            click.echo(f"hello {name}")
            click.echo("said hello", err=True)

        cli.add_command(hello)


def scores_playbook(build: Callable[..., PlaybookBuilder], kpi: str = "max") -> Path:
    return (
        build("desk", "Support desk")
        .source(
            "scores",
            rows=[
                {"day": "2026-01-05", "score": 3},
                {"day": "2026-01-06", "score": 10},
                {"day": "2026-01-07", "score": 4},
            ],
            timestamp="day",
        )
        .metric("s", source="scores", kpi=kpi, field="score", target=5)
        .write()
    )


# -- pdca_plugin_manager ------------------------------------------------------------------


def test_plugin_manager_has_builtins_then_the_given_plugins(
    pdca_plugin_manager: Callable[..., pluggy.PluginManager],
) -> None:
    spread = SpreadPlugin()
    pm = pdca_plugin_manager(spread, ("named", HelloPlugin()), SpreadPlugin())
    names = [name for name, _ in pm.list_name_plugin()]
    assert names == [*BUILTINS, "SpreadPlugin", "named", "SpreadPlugin-2"]
    assert pm.get_plugin("SpreadPlugin") is spread
    with pytest.raises(PluginError, match="plugin 'SpreadPlugin-2' registers 'spread', already"):
        build_registry(pm)


def test_plugin_manager_registers_modules_by_name(
    pdca_plugin_manager: Callable[..., pluggy.PluginManager], tmp_path: Path
) -> None:
    module = tmp_path / "my_kpis.py"
    module.write_text(
        textwrap.dedent(
            """
            import pdca
            from pdca.kpi import FunctionKpi

            @pdca.hookimpl
            def pdca_register_kpis(register):
                register(FunctionKpi("first", lambda v: v[0], "the first value"))
            """
        )
    )
    import importlib.util

    spec = importlib.util.spec_from_file_location("my_kpis", module)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    pm = pdca_plugin_manager(mod)
    assert build_registry(pm).kpis["first"].plugin == "my_kpis"


def test_plugin_manager_leaves_installed_plugins_out_unless_asked(
    pdca_plugin_manager: Callable[..., pluggy.PluginManager],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from test_plugins import fake_distribution

    fake_distribution(
        tmp_path,
        "pdca-installed",
        "pdca_installed",
        "import pdca\n\n@pdca.hookimpl\ndef pdca_playbook_loaded(playbook):\n    pass\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not pdca_plugin_manager().has_plugin("pdca-installed")
    pm = pdca_plugin_manager(entry_points=True)
    assert pm.has_plugin("pdca-installed")
    # the installed module passed again is not registered twice (pluggy would refuse)
    import pdca_installed  # type: ignore[import-not-found]

    again = pdca_plugin_manager(pdca_installed, entry_points=True)
    assert [n for n, p in again.list_name_plugin() if p is pdca_installed] == ["pdca-installed"]


def test_plugin_manager_names_a_plugin_with_a_wrong_hook_argument(
    pdca_plugin_manager: Callable[..., pluggy.PluginManager],
) -> None:
    class Wrong:
        @pdca.hookimpl
        def pdca_register_kpis(self, registr: Any) -> None:  # misspelt argument
            pass

    with pytest.raises(PluginError, match="plugin 'Wrong' has an invalid hook"):
        pdca_plugin_manager(Wrong())


def test_plugin_manager_respects_disabled_plugins(
    pdca_plugin_manager: Callable[..., pluggy.PluginManager], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PDCA_DISABLE_PLUGINS", "SpreadPlugin")
    assert not pdca_plugin_manager(SpreadPlugin()).has_plugin("SpreadPlugin")


# -- playbook_builder / playbook_file -----------------------------------------------------


def test_playbook_builder_writes_a_valid_playbook_and_its_data(
    playbook_builder: Callable[..., PlaybookBuilder], pdca_cli: Callable[..., CliResult]
) -> None:
    path = (
        playbook_builder("desk", "Support desk")
        .source("scores", rows=[{"day": "2026-01-05", "score": 4}], timestamp="day")
        .metric("score", source="scores", kpi="mean", field="score", target=5, warn=3)
        .objective("happy", title="Happy customers", owner="maria", metrics=["score"])
        .task("coach", owner="tom", phase="do", objective="happy")
        .cycle("2026-01-05", "14d")
        .write()
    )
    assert (path.parent / "data" / "scores.csv").read_text() == "day,score\n2026-01-05,4\n"
    import yaml

    data = yaml.safe_load(path.read_text())
    assert data["owners"] == {"maria": {"name": "maria"}, "tom": {"name": "tom"}}
    assert data["cycle"] == {"start": date(2026, 1, 5), "length": "14d"}
    result = pdca_cli("validate", path)
    assert result.exit_code == 0, result
    assert result.stdout == (f"{path}: ok: playbook 'desk' with 1 objectives, 1 metrics, 1 tasks\n")


def test_playbook_builder_keeps_playbooks_apart_and_writes_plugin_files(
    playbook_builder: Callable[..., PlaybookBuilder], tmp_path: Path
) -> None:
    a = playbook_builder("a", folder="one").write()
    b = (
        playbook_builder("b", folder="two")
        .plugin("local.py", "import pdca\n")
        .set(description="second")
        .write("b.yaml")
    )
    assert a == tmp_path / "one" / "playbook.yaml"
    assert b == tmp_path / "two" / "b.yaml"
    assert (tmp_path / "two" / "local.py").read_text() == "import pdca\n"
    assert "plugins:\n- local.py\n" in b.read_text()
    assert "owners" not in a.read_text()


def test_csv_text_takes_columns_in_order_of_appearance() -> None:
    rows = [{"a": 1, "b": None}, {"c": "x,y", "a": 2}]
    assert csv_text(rows) == 'a,b,c\n1,,\n2,,"x,y"\n'
    assert csv_text(rows, ["c", "a", "b"]) == 'c,a,b\n,1,\n"x,y",2,\n'


def test_playbook_file_writes_yaml_and_data_files(
    playbook_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = playbook_file(
        """
        playbook: p
        title: T
        """,
        data__d_csv="ts,x\n",
        **{"raw/e.csv": "y\n"},
    )
    assert path.read_text() == "playbook: p\ntitle: T\n"
    assert (tmp_path / "data" / "d_csv").read_text() == "ts,x\n"
    assert (tmp_path / "raw" / "e.csv").read_text() == "y\n"


# -- pdca_cli -----------------------------------------------------------------------------


def test_cli_separates_stdout_and_stderr_and_adds_plugin_commands(
    pdca_cli: Callable[..., CliResult],
) -> None:
    result = pdca_cli("hello", "--name", "desk", plugins=[HelloPlugin()])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "hello desk\n", "said hello\n")
    # the next run without the plugin does not see its command: each run has a fresh group
    missing = pdca_cli("hello")
    assert missing.exit_code == 2
    assert "No such command 'hello'" in missing.stderr


def test_cli_json_and_env(
    pdca_cli: Callable[..., CliResult], playbook_builder: Callable[..., PlaybookBuilder]
) -> None:
    path = scores_playbook(playbook_builder)
    result = pdca_cli("check", path, "--as-of", "2026-01-07", "--format", "json")
    assert result.json()["metrics"]["s"]["value"] == 10.0
    with pytest.raises(AssertionError, match="not JSON"):
        pdca_cli("check", path, "--as-of", "2026-01-07").json()
    disabled = pdca_cli("plugins", "--format", "json", env={"PDCA_DISABLE_PLUGINS": "kpis"})
    assert "pdca.builtins.kpis" not in [p["name"] for p in disabled.json()]


def test_cli_result_shows_the_whole_run_when_printed(
    pdca_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    result = pdca_cli("validate", tmp_path / "missing.yaml")
    assert result.exit_code == 1
    text = str(result)
    assert text.startswith(f"$ pdca validate {tmp_path / 'missing.yaml'}\nexit 1\n")
    assert "missing.yaml" in result.output


# -- run_check ----------------------------------------------------------------------------


def test_run_check_uses_the_given_plugins(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = scores_playbook(playbook_builder, kpi="spread")
    report = run_check(path, as_of="2026-01-07", plugins=[SpreadPlugin()])
    metric = report["metrics"]["s"]
    assert (metric["value"], metric["n"], metric["status"]) == (7.0, 3, "met")  # 10 - 3 >= 5


def test_run_check_raises_with_pdcas_message_when_the_playbook_does_not_load(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = scores_playbook(playbook_builder, kpi="spread")  # no plugin gives 'spread'
    with pytest.raises(CliFailed) as info:
        run_check(path, as_of="2026-01-07")
    assert f"{path}:11:10: error: metric 's' uses unknown KPI 'spread'" in str(info.value)
    assert "\nexit 1\n" in str(info.value)


def test_run_check_reports_a_metric_that_fails(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    class Explodes:
        @pdca.hookimpl
        def pdca_register_kpis(self, register: Callable[[Any], None]) -> None:
            register(FunctionKpi("boom", lambda v: 1 / 0, "always fails"))

    path = scores_playbook(playbook_builder, kpi="boom")
    report = run_check(path, as_of="2026-01-07", plugins=[Explodes()], metrics=["s"])
    assert report["metrics"]["s"]["status"] == "error"
    assert "ZeroDivisionError" in report["metrics"]["s"]["error"]


def test_plugins_added_restores_the_factory_even_after_an_error() -> None:
    original = plugins_module.get_plugin_manager
    with pytest.raises(RuntimeError), plugins_added(SpreadPlugin()):
        assert plugins_module.get_plugin_manager is not original
        assert plugins_module.get_plugin_manager(entry_points=False).has_plugin("SpreadPlugin")
        raise RuntimeError
    assert plugins_module.get_plugin_manager is original


# -- run_cycle ----------------------------------------------------------------------------


def test_run_cycle_opens_a_cycle_runs_automated_tasks_and_reviews(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    builder = playbook_builder("desk")
    path = (
        builder.task(
            "export",
            owner="tom",
            phase="plan",
            action={"type": "shell", "command": "echo cycle-$PDCA_CYCLE >> log.txt"},
        )
        .task("analyse", owner="aisha", phase="plan", depends_on=["export"], due="2026-01-06")
        .cycle("2026-01-05", "14d")
        .write()
    )
    first = run_cycle(path, as_of="2026-01-08")
    assert first["exit_code"] == 0, first["stderr"]
    assert first["run"]["cycle"] == {"number": 1, "phase": "plan"}
    assert (builder.folder / "log.txt").read_text() == "cycle-1\n"
    tasks = first["review"]["tasks"]
    assert tasks["export"]["status"] == "done"
    assert (tasks["analyse"]["status"], tasks["analyse"]["overdue"]) == ("ready", True)
    # the state is kept beside the playbook: a second run continues, the export does not rerun
    second = run_cycle(path, as_of="2026-01-09")
    assert second["run"]["events"] == []
    assert (builder.folder / "log.txt").read_text() == "cycle-1\n"


def test_run_cycle_reports_a_failed_automated_task(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    path = (
        playbook_builder("desk")
        .task("export", owner="tom", phase="plan", action={"type": "shell", "command": "exit 3"})
        .write()
    )
    result = run_cycle(path, as_of="2026-01-08")
    assert result["exit_code"] == 1
    assert result["run"]["failed"] == ["export"]
    assert result["review"]["tasks"]["export"]["status"] == "failed"


def test_the_fixtures_come_from_the_pytest11_entry_point() -> None:
    from importlib.metadata import entry_points

    assert "pdca.testing" in [ep.value for ep in entry_points(group="pytest11")]


def test_cli_json_parses_a_list_too(pdca_cli: Callable[..., CliResult]) -> None:
    data = pdca_cli("plugins", "--format", "json").json()
    assert [p["name"] for p in data][: len(BUILTINS)] == list(BUILTINS)
