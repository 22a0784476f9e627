"""The plugin manager: load order, entry points, local files, errors that name the culprit,
and ``pdca plugins --check``.

Playbook-level tests use the fixtures of :mod:`pdca.testing`, as integrators do.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pluggy
import pytest

from pdca import hookimpl, hookspecs
from pdca.errors import PluginError
from pdca.kpi import FunctionKpi, Kpi, SqlKpi
from pdca.plugins import (
    BUILTINS,
    build_registry,
    call_each,
    describe,
    get_plugin_manager,
)
from pdca.plugins.check import check_plugins
from pdca.testing import CliResult, PlaybookBuilder, run_check


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def fake_distribution(site: Path, name: str, module: str, code: str) -> None:
    """An installed distribution with a ``pdca`` entry point, as pip would leave it."""
    write(site / f"{module}.py", code)
    # pip names the folder with '_' for '-': importlib.metadata reads the name up to the first '-'
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
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


SPREAD_PLUGIN = """
import pdca
from pdca.kpi import FunctionKpi

@pdca.hookimpl
def pdca_register_kpis(register):
    register(FunctionKpi("spread", lambda v: max(v) - min(v), "max minus min"))
"""


def spread_playbook(build: Callable[..., PlaybookBuilder], *plugins: str, **metrics: Any) -> Path:
    builder = build("p", "T").source(
        "d",
        rows=[
            {"ts": "2026-01-05", "x": 3},
            {"ts": "2026-01-06", "x": 10},
            {"ts": "2026-01-07", "x": 4},
        ],
        timestamp="ts",
    )
    for ref in plugins:
        builder.plugin(ref)
    for mid, keys in metrics.items():
        builder.metric(mid, source="d", **keys)
    return builder.write()


def test_local_plugin_with_syntax_error_is_reported_at_the_playbook(
    playbook_file: Callable[..., Path], pdca_cli: Callable[..., CliResult]
) -> None:
    path = playbook_file(
        "playbook: p\ntitle: T\nplugins: [bad.py]\n", **{"bad.py": "def broken(:\n"}
    )
    result = pdca_cli("validate", path)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{path}:3:10: error: plugin 'bad' (")
    assert "failed to import: SyntaxError" in result.stdout


def test_playbook_uses_kpi_from_its_local_plugin(
    playbook_builder: Callable[..., PlaybookBuilder],
) -> None:
    playbook_builder("p").file("kpis.py", SPREAD_PLUGIN)
    path = spread_playbook(
        playbook_builder,
        "kpis.py",
        s={"kpi": "spread", "field": "x", "target": 5, "direction": "decrease"},
    )
    metric = run_check(path, as_of="2026-01-07")["metrics"]["s"]
    assert (metric["value"], metric["n"], metric["status"]) == (7.0, 3, "off_track")  # 10 - 3


def test_failing_plugin_kpi_marks_only_its_metric(
    playbook_builder: Callable[..., PlaybookBuilder], pdca_cli: Callable[..., CliResult]
) -> None:
    def explode(values: Any) -> float:
        raise ZeroDivisionError("no")

    class Kpis:
        @hookimpl
        def pdca_register_kpis(self, register: Callable[[Any], None]) -> None:
            register(FunctionKpi("explode", explode, "always fails"))

    path = spread_playbook(
        playbook_builder,
        bad={"kpi": "explode", "field": "x", "target": 5},
        good={"kpi": "max", "field": "x", "target": 5},
    )
    result = pdca_cli(
        "check", path, "--as-of", "2026-01-07", "--format", "json", plugins=[("kpis", Kpis())]
    )
    assert result.exit_code == 1
    report = result.json()
    assert report["metrics"]["good"]["value"] == 10.0
    assert report["metrics"]["bad"]["status"] == "error"
    assert report["metrics"]["bad"]["error"] == (
        "KPI 'explode' (plugin 'kpis') failed: ZeroDivisionError: no"
    )
    assert (
        result.stderr == "error: metric 'bad': KPI 'explode' (plugin 'kpis') failed: "
        "ZeroDivisionError: no\n"
    )


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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pdca_cli: Callable[..., CliResult]
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
    result = pdca_cli("hello")
    assert (result.exit_code, result.stdout) == (0, "hello from a plugin\n")
    assert "hello" in pdca_cli("--help").stdout


# -- pdca plugins --check ---------------------------------------------------------------------


class Good:
    """A plugin that meets every contract: the check must say nothing about it."""

    class Spread(SqlKpi):
        name = "spread"
        summary = "max(field) - min(field)"

        def sql(self, q: Any) -> str:
            return f"max({q.column}) - min({q.column})"

    @hookimpl
    def pdca_register_kpis(self, register: Callable[[Any], None]) -> None:
        register(self.Spread())

    @hookimpl
    def pdca_task_changed(self, playbook: Any, task: str, new: str) -> None:
        pass


def test_builtins_meet_their_own_contracts() -> None:
    assert check_plugins(get_plugin_manager(entry_points=False)) == []


def test_check_is_quiet_about_a_good_plugin(pdca_cli: Callable[..., CliResult]) -> None:
    result = pdca_cli("plugins", "--check", plugins=[("good", Good())])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("ok: ") and result.stdout.endswith(" plugins, no problems\n")
    count = int(result.stdout.split()[1])
    assert count == len(get_plugin_manager().list_name_plugin()) + 1  # the installed ones + good


def test_check_lists_every_problem_of_every_plugin_in_one_run(
    pdca_cli: Callable[..., CliResult],
) -> None:
    class NotAKpi:
        name = "fake"
        summary = "looks like a KPI"

    class Lazy(Kpi):  # never implements compute
        name = "lazy"
        summary = "does nothing"

    class Silent(SqlKpi):
        name = "silent"
        summary = ""

    class Source:
        name = "sheet"

    class Nameless:
        def __repr__(self) -> str:
            return "<nameless>"

    class Broken:
        @hookimpl
        def pdca_register_kpis(self, register: Callable[[Any], None]) -> None:
            register(NotAKpi())
            register(Lazy())
            register(Silent())
            register(FunctionKpi("nps", lambda v: 0.0, "shadows the built-in"))
            register(Nameless())

        @hookimpl
        def pdca_register_source_types(self, register: Callable[[Any], None]) -> None:
            register(Source())

        @hookimpl
        def pdca_register_actions(self, register: Callable[[Any], None]) -> None:
            raise RuntimeError("no config")

        @hookimpl
        def pdca_register_renderers(self, register: Callable[[Any], None]) -> None:
            register(type("Pdf", (), {"name": "pdf", "summary": "a PDF"})())

        @hookimpl
        def pdca_metric_evaluate(self, metric: Any) -> None:  # a typo: not a hook
            pass

        def pdca_phase_changed(self, playbook: Any) -> None:  # forgot @hookimpl
            pass

    result = pdca_cli("plugins", "--check", plugins=[("broken", Broken()), ("good", Good())])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "error: plugin 'broken' implements 'pdca_metric_evaluate', which is not a pdca hook; "
        "did you mean 'pdca_metric_evaluated'?",
        "error: plugin 'broken' defines 'pdca_phase_changed' without @pdca.hookimpl, so pdca "
        "never calls it; mark it with the decorator",
        "error: plugin 'broken': source type 'sheet' has no summary (the one line `pdca plugins` "
        "shows)",
        "error: plugin 'broken': source type 'sheet' is a Source, not a "
        "pdca.data.base.SourceType; subclass it",
        "error: plugin 'broken': source type 'sheet' has no check() method",
        "error: plugin 'broken': source type 'sheet' has no relation() method",
        "error: plugin 'broken': KPI 'fake' is a NotAKpi, not a pdca.kpi.Kpi; subclass it",
        "error: plugin 'broken': KPI 'fake' has no check() method",
        "error: plugin 'broken': KPI 'fake' has no compute() method",
        "error: plugin 'broken': KPI 'lazy' does not implement compute()",
        "error: plugin 'broken': KPI 'silent' has no summary (the one line `pdca plugins` shows)",
        "error: plugin 'broken': KPI 'silent' is a SqlKpi but does not implement sql()",
        "error: plugin 'broken' registers 'nps', already registered by plugin "
        "'pdca.builtins.kpis' (pdca_register_kpis); disable one with PDCA_DISABLE_PLUGINS",
        "error: plugin 'broken' registered <nameless> without a name (pdca_register_kpis)",
        "error: plugin 'broken': renderer 'pdf' has no render() method",
        "error: plugin 'broken' failed in pdca_register_actions: RuntimeError: no config",
    ]


def test_check_reports_a_broken_installed_plugin_and_loads_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pdca_cli: Callable[..., CliResult]
) -> None:
    fake_distribution(tmp_path, "pdca-broken", "pdca_broken", "import no_such_module_here\n")
    fake_distribution(
        tmp_path,
        "pdca-typo",
        "pdca_typo",
        "import pdca\n\n@pdca.hookimpl\ndef pdca_register_kpi(register):\n    pass\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    result = pdca_cli("plugins", "--check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "error: plugin 'pdca-broken' (pdca_broken) failed to import: ModuleNotFoundError: "
        "No module named 'no_such_module_here'",
        "error: plugin 'pdca-typo' implements 'pdca_register_kpi', which is not a pdca hook; "
        "did you mean 'pdca_register_kpis'?",
    ]


def test_check_includes_the_playbooks_own_plugin_files(
    playbook_file: Callable[..., Path], pdca_cli: Callable[..., CliResult]
) -> None:
    path = playbook_file(
        "playbook: p\ntitle: T\nplugins: [good.py, missing.py]\n",
        **{"good.py": SPREAD_PLUGIN},
    )
    result = pdca_cli("plugins", "--check", "--playbook", path)
    assert result.exit_code == 1
    assert result.stdout == (
        f"error: plugin file 'missing.py' not found (looked for {path.parent / 'missing.py'})\n"
    )
    path.write_text("playbook: p\ntitle: T\nplugins: [good.py]\n")
    ok = pdca_cli("plugins", "--check", "--playbook", path)
    plain = pdca_cli("plugins", "--check")
    assert ok.exit_code == 0, ok
    assert int(ok.stdout.split()[1]) == int(plain.stdout.split()[1]) + 1


def test_optional_hooks_are_not_reported(pdca_cli: Callable[..., CliResult]) -> None:
    class Future:
        @hookimpl(optionalhook=True)
        def pdca_some_future_hook(self, playbook: Any) -> None:
            pass

    result = pdca_cli("plugins", "--check", plugins=[("future", Future())])
    assert result.exit_code == 0, result


def test_empty_plugin_entry_is_a_clear_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pdca.cli import cli

    path = tmp_path / "p.yaml"
    path.write_text("playbook: p\ntitle: T\nplugins: ['']\n")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.output == (
        f"{path}:3:10: error: an empty entry in 'plugins': give a .py file or a module name\n"
    )
