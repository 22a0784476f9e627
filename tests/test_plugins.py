"""The plugin manager: load order, entry points, local files, and errors that name the culprit."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pluggy
import pytest
from click.testing import CliRunner

from pdca import hookimpl, hookspecs
from pdca.cli import cli
from pdca.errors import PluginError
from pdca.plugins import (
    BUILTINS,
    build_registry,
    call_each,
    describe,
    get_plugin_manager,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def fake_distribution(site: Path, name: str, module: str, code: str) -> None:
    """An installed distribution with a ``pdca`` entry point, as pip would leave it."""
    write(site / f"{module}.py", code)
    info = site / f"{name}-1.0.dist-info"
    write(info / "METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    write(info / "entry_points.txt", f"[pdca]\n{name} = {module}\n")


class SpreadKpi:
    name = "spread"
    summary = "max minus min"


def test_builtins_come_first_in_a_fixed_order() -> None:
    pm = get_plugin_manager(entry_points=False)
    names = [name for name, _ in pm.list_name_plugin()]
    assert names == list(BUILTINS)


def test_each_manager_is_independent() -> None:
    a = get_plugin_manager(entry_points=False, extra=[("x", type("X", (), {}))])
    b = get_plugin_manager(entry_points=False)
    assert a.has_plugin("x") and not b.has_plugin("x")


def test_entry_point_plugin_is_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distribution(
        tmp_path,
        "pdca-spread",
        "pdca_spread",
        """
        import pdca
        from pdca.kpi import FunctionKpi

        @pdca.hookimpl
        def pdca_register_kpis(register):
            register(FunctionKpi("spread", lambda v: max(v) - min(v), "max minus min"))
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = get_plugin_manager()
    registry = build_registry(pm)
    assert registry.kpis["spread"].plugin == "pdca-spread"
    assert [n for n, _ in pm.list_name_plugin()][: len(BUILTINS) + 1][-1] == "pdca-spread"


def test_entry_point_that_fails_to_import_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_distribution(tmp_path, "pdca-broken", "pdca_broken", "import no_such_module_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError) as info:
        get_plugin_manager()
    assert str(info.value).startswith(
        "plugin 'pdca-broken' (pdca_broken) failed to import: ModuleNotFoundError"
    )


def test_disable_env_blocks_entry_point_and_builtin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_distribution(tmp_path, "pdca-broken", "pdca_broken", "raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PDCA_DISABLE_PLUGINS", "pdca-broken, kpis")
    pm = get_plugin_manager()
    names = [n for n, _ in pm.list_name_plugin()]
    assert "pdca-broken" not in names
    assert "pdca.builtins.kpis" not in names
    assert "pdca.builtins.sources" in names


def test_duplicate_name_names_both_plugins() -> None:
    class Dup:
        @hookimpl
        def pdca_register_kpis(self, register):
            register(type("K", (), {"name": "nps"})())

    pm = get_plugin_manager(entry_points=False, extra=[("my-plugin", Dup())])
    with pytest.raises(PluginError) as info:
        build_registry(pm)
    assert str(info.value) == (
        "plugin 'my-plugin' registers 'nps', already registered by plugin 'pdca.builtins.kpis' "
        "(pdca_register_kpis); disable one with PDCA_DISABLE_PLUGINS"
    )


def test_registration_without_name_is_refused() -> None:
    class NoName:
        @hookimpl
        def pdca_register_source_types(self, register):
            register(object())

    pm = get_plugin_manager(entry_points=False, extra=[("nameless", NoName())])
    with pytest.raises(PluginError, match="plugin 'nameless' registered <object object"):
        build_registry(pm)


def test_hook_that_raises_is_named() -> None:
    class Raises:
        @hookimpl
        def pdca_register_actions(self, register):
            raise ValueError("bad config")

        @hookimpl
        def pdca_playbook_loaded(self, playbook):
            raise KeyError("x")

    pm = get_plugin_manager(entry_points=False, extra=[("raiser", Raises())])
    with pytest.raises(PluginError) as info:
        build_registry(pm)
    assert str(info.value) == (
        "plugin 'raiser' failed in pdca_register_actions: ValueError: bad config"
    )
    with pytest.raises(PluginError, match="plugin 'raiser' failed in pdca_playbook_loaded"):
        call_each(pm, "pdca_playbook_loaded", playbook=None)


def test_misspelt_hook_is_refused_with_the_plugin_name() -> None:
    class Typo:
        @hookimpl
        def pdca_register_kpi(self, register):  # missing 's'
            pass

    pm = pluggy.PluginManager("pdca")
    pm.add_hookspecs(hookspecs)
    pm.register(Typo(), name="typo")
    with pytest.raises(pluggy.PluginValidationError):
        pm.check_pending()
    # A hook implementation with a wrong argument is refused when registering.

    class WrongArgs:
        @hookimpl
        def pdca_register_kpis(self, registr):
            pass

    with pytest.raises(PluginError, match="plugin 'wrong' has an invalid hook"):
        get_plugin_manager(entry_points=False, extra=[("wrong", WrongArgs())])


def test_playbook_local_plugin_file_and_module(tmp_path: Path) -> None:
    write(
        tmp_path / "plugins" / "local_kpis.py",
        """
        import pdca
        from pdca.kpi import FunctionKpi

        @pdca.hookimpl
        def pdca_register_kpis(register):
            register(FunctionKpi("spread", lambda v: max(v) - min(v), "max minus min"))
        """,
    )
    pm = get_plugin_manager(tmp_path, ["plugins/local_kpis.py", "json"], entry_points=False)
    names = [n for n, _ in pm.list_name_plugin()]
    assert names[-2:] == ["local_kpis", "json"]  # a module name works too (here: stdlib json)
    assert build_registry(pm).kpis["spread"].plugin == "local_kpis"


def test_missing_local_plugin_file(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match=r"plugin file 'nope.py' not found"):
        get_plugin_manager(tmp_path, ["nope.py"], entry_points=False)


def test_local_plugin_with_syntax_error_is_reported_at_the_playbook(tmp_path: Path) -> None:
    write(tmp_path / "bad.py", "def broken(:\n")
    path = write(tmp_path / "p.yaml", "playbook: p\ntitle: T\nplugins: [bad.py]\n")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"{path}:3:10: error: plugin 'bad' (")
    assert "failed to import: SyntaxError" in result.output


def test_playbook_uses_kpi_from_its_local_plugin(tmp_path: Path) -> None:
    write(
        tmp_path / "kpis.py",
        """
        import pdca
        from pdca.kpi import FunctionKpi

        @pdca.hookimpl
        def pdca_register_kpis(register):
            register(FunctionKpi("spread", lambda v: max(v) - min(v), "max minus min"))
        """,
    )
    write(tmp_path / "d.csv", "ts,x\n2026-01-05,3\n2026-01-06,10\n2026-01-07,4\n")
    path = write(
        tmp_path / "p.yaml",
        """\
        playbook: p
        title: T
        plugins: [kpis.py]
        sources: {d: {type: csv, path: d.csv, timestamp: ts}}
        metrics: {s: {source: d, kpi: spread, field: x, target: 5, direction: decrease}}
        """,
    )
    result = CliRunner().invoke(
        cli, ["check", str(path), "--as-of", "2026-01-07", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    metric = json.loads(result.output)["metrics"]["s"]
    assert (metric["value"], metric["n"], metric["status"]) == (7.0, 3, "off_track")  # 10 - 3


def test_failing_plugin_kpi_marks_only_its_metric(tmp_path: Path) -> None:
    write(
        tmp_path / "kpis.py",
        """
        import pdca
        from pdca.kpi import FunctionKpi

        def explode(values):
            raise ZeroDivisionError("no")

        @pdca.hookimpl
        def pdca_register_kpis(register):
            register(FunctionKpi("explode", explode, "always fails"))
        """,
    )
    write(tmp_path / "d.csv", "ts,x\n2026-01-05,3\n2026-01-06,10\n")
    path = write(
        tmp_path / "p.yaml",
        """\
        playbook: p
        title: T
        plugins: [kpis.py]
        sources: {d: {type: csv, path: d.csv, timestamp: ts}}
        metrics:
          bad: {source: d, kpi: explode, field: x, target: 5}
          good: {source: d, kpi: max, field: x, target: 5}
        """,
    )
    result = CliRunner().invoke(
        cli, ["check", str(path), "--as-of", "2026-01-07", "--format", "json"]
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["metrics"]["good"]["value"] == 10.0
    assert report["metrics"]["bad"]["status"] == "error"
    assert report["metrics"]["bad"]["error"] == (
        "KPI 'explode' (plugin 'kpis') failed: ZeroDivisionError: no"
    )


def test_lifecycle_hook_sees_each_evaluated_metric(tmp_path: Path) -> None:
    write(
        tmp_path / "spy.py",
        """
        import json, pathlib
        import pdca

        @pdca.hookimpl
        def pdca_metric_evaluated(playbook, metric, result):
            log = pathlib.Path(__file__).with_name("seen.jsonl")
            with log.open("a") as f:
                f.write(json.dumps([playbook.id, metric.id, result["value"]]) + "\\n")
        """,
    )
    write(tmp_path / "d.csv", "ts,x\n2026-01-05,3\n2026-01-06,10\n")
    path = write(
        tmp_path / "p.yaml",
        """\
        playbook: p
        title: T
        plugins: [spy.py]
        sources: {d: {type: csv, path: d.csv, timestamp: ts}}
        metrics:
          hi: {source: d, kpi: max, field: x, target: 5}
          lo: {source: d, kpi: min, field: x, target: 5}
        """,
    )
    assert CliRunner().invoke(cli, ["check", str(path), "--as-of", "2026-01-07"]).exit_code == 0
    seen = [json.loads(line) for line in (tmp_path / "seen.jsonl").read_text().splitlines()]
    assert seen == [["p", "hi", 10.0], ["p", "lo", 3.0]]


def test_describe_lists_registrations_per_plugin() -> None:
    pm = get_plugin_manager(entry_points=False, extra=[("extra", SpreadKpiPlugin())])
    described = {d["name"]: d for d in describe(pm, build_registry(pm))}
    assert described["extra"]["kpis"] == ["spread"]
    assert described["extra"]["hooks"] == ["pdca_register_kpis"]
    assert described["pdca.builtins.actions"]["actions"] == ["shell"]


class SpreadKpiPlugin:
    @hookimpl
    def pdca_register_kpis(self, register):
        register(SpreadKpi())


def test_plugin_commands_are_added_to_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_distribution(
        tmp_path,
        "pdca-hello",
        "pdca_hello",
        """
        import click
        import pdca

        @click.command()
        def hello():
            "Say hello."
            click.echo("hello from a plugin")

        @pdca.hookimpl
        def pdca_register_commands(cli):
            cli.add_command(hello)
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from pdca.cli import PdcaGroup
    from pdca.cli import cli as base

    group = PdcaGroup(commands=dict(base.commands))
    result = CliRunner().invoke(group, ["hello"])
    assert result.exit_code == 0
    assert result.output == "hello from a plugin\n"
