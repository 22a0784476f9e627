"""pytest fixtures and helpers for pdca and for plugin authors (the ``pytest11`` entry point).

Installing pdca makes these fixtures available in every pytest run, so a
plugin's tests need no conftest:

* ``pdca_plugin_manager(*plugins)``: a plugin manager with pdca's built-ins
  and the given plugin modules or objects;
* ``playbook_builder(id)``: writes a playbook and its data files into the
  test's temporary folder; ``playbook_file(yaml_text)`` writes one verbatim;
* ``pdca_cli(*args, plugins=...)``: runs the ``pdca`` command line in-process
  and returns a :class:`CliResult` (``exit_code``, ``stdout``, ``stderr``,
  ``json()``);
* :func:`run_check` and :func:`run_cycle`: ``pdca check`` and ``pdca run`` on
  a playbook, returning their JSON.

Everything goes through the same code paths as a user's command: the
helpers run the real command line, and ``plugins=`` adds plugins to every
plugin manager pdca builds meanwhile, exactly where installed plugins go.
So a test passes for the reasons the plugin will work in production, and a
plugin can be tested before it is installed.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import click
    import pluggy

PluginSpec = Any
"""A plugin: a module, an object with ``@pdca.hookimpl`` methods, or a ``(name, plugin)`` pair."""


# -- plugins ------------------------------------------------------------------------------


def plugin_name(plugin: object) -> str:
    """The name a plugin is registered under: a module's name, else its class name."""
    name = getattr(plugin, "__name__", None)
    if isinstance(name, str) and name:
        return name
    return type(plugin).__name__


def named_plugins(plugins: Iterable[PluginSpec]) -> list[tuple[str, object]]:
    """``(name, plugin)`` pairs; two plugins of one class get ``-2``, ``-3`` ... suffixes."""
    out: list[tuple[str, object]] = []
    taken: set[str] = set()
    for spec in plugins:
        if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
            name, plugin = spec
        else:
            name, plugin = plugin_name(spec), spec
        unique, n = name, 1
        while unique in taken:
            n += 1
            unique = f"{name}-{n}"
        taken.add(unique)
        out.append((unique, plugin))
    return out


def add_plugins(pm: pluggy.PluginManager, plugins: Iterable[PluginSpec]) -> pluggy.PluginManager:
    """Register ``plugins`` in ``pm`` after what it has, skipping any already there.

    Skipping matters for an installed plugin: pdca has loaded it through its
    entry point, and registering the module twice would be refused.
    ``PDCA_DISABLE_PLUGINS`` applies as it does to installed plugins.
    """
    from pdca import plugins as p
    from pdca.errors import PluginError

    disabled = p.disabled_plugins()
    for name, plugin in named_plugins(plugins):
        if pm.is_registered(plugin) or pm.has_plugin(name):
            continue
        if name in disabled or name.rsplit(".", 1)[-1] in disabled:
            continue
        try:
            pm.register(plugin, name=name)
        except ValueError as exc:
            raise PluginError(f"plugin '{name}' cannot be registered: {exc}") from None
        except Exception as exc:  # pluggy.PluginValidationError: a hook with wrong arguments
            raise PluginError(f"plugin '{name}' has an invalid hook: {exc}") from None
    return pm


def make_plugin_manager(
    *plugins: PluginSpec,
    entry_points: bool = False,
    playbook_dir: Path | None = None,
    plugin_files: Iterable[str] = (),
) -> pluggy.PluginManager:
    """pdca's built-ins, then ``plugins``; installed plugins only with ``entry_points=True``.

    Installed plugins are left out by default so that a test sees the
    plugins it names and no others, whatever else the machine has installed.
    """
    from pdca.plugins import get_plugin_manager

    pm = get_plugin_manager(playbook_dir, plugin_files, entry_points=entry_points)
    return add_plugins(pm, plugins)


@contextmanager
def plugins_added(*plugins: PluginSpec) -> Iterator[None]:
    """Within the block, every plugin manager pdca builds also has ``plugins``.

    They join after the built-ins, installed plugins and the playbook's own
    plugin files, where an installed plugin of the same name would be.
    """
    from pdca import plugins as p
    from pdca.plugins import manager

    if not plugins:
        yield
        return
    original = manager.get_plugin_manager

    def get_plugin_manager(*args: Any, **kwargs: Any) -> pluggy.PluginManager:
        return add_plugins(original(*args, **kwargs), plugins)

    # Both names: pdca's modules import it from the package, the manager's own
    # helpers (and ``pdca plugins --check``) call it in the manager module.
    p.get_plugin_manager = manager.get_plugin_manager = get_plugin_manager  # type: ignore[assignment]
    try:
        yield
    finally:
        p.get_plugin_manager = manager.get_plugin_manager = original  # type: ignore[assignment]


# -- the command line -----------------------------------------------------------------------


def cli_group() -> click.Group:
    """A fresh copy of the ``pdca`` command group, with every built-in command.

    A copy because the real group loads plugin commands once per process:
    a test that adds a plugin command must not see another test's, nor miss
    its own because an earlier test loaded the list first.
    """
    from pdca.cli import main as cli_module

    group = copy.copy(cli_module.cli)
    group.commands = {
        name: cmd
        for name, cmd in cli_module.cli.commands.items()
        if (getattr(cmd.callback, "__module__", "") or "").startswith("pdca.")
    }
    group._plugins_loaded = False  # type: ignore[attr-defined]
    return group


@dataclass
class CliResult:
    """What one ``pdca`` command did: exit code, standard output and error apart."""

    args: list[str]
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None

    @property
    def output(self) -> str:
        """Standard output then standard error, for messages in failed assertions."""
        return self.stdout + self.stderr

    def json(self) -> Any:
        """Standard output parsed as JSON (for ``--format json``)."""
        try:
            return json.loads(self.stdout)
        except ValueError:
            raise AssertionError(f"not JSON:\n{self}") from None

    def __str__(self) -> str:
        text = f"$ pdca {' '.join(self.args)}\nexit {self.exit_code}\n"
        text += f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        if self.exception is not None and not isinstance(self.exception, SystemExit):
            import traceback

            text += "--- exception\n" + "".join(traceback.format_exception(self.exception))
        return text


def invoke(
    *args: str | Path,
    plugins: Sequence[PluginSpec] = (),
    env: Mapping[str, str | None] | None = None,
    input: str | None = None,
) -> CliResult:
    """Run ``pdca ARGS`` in this process, with ``plugins`` added to every plugin manager."""
    from click.testing import CliRunner

    argv = [str(a) for a in args]
    runner = CliRunner()
    with plugins_added(*plugins):
        result = runner.invoke(
            cli_group(), argv, input=input, env=dict(env or {}), prog_name="pdca"
        )
    return CliResult(argv, result.exit_code, result.stdout, result.stderr, result.exception)


class CliFailed(AssertionError):
    """A helper's command did not produce its report; the message holds the whole run."""


def run_check(
    playbook_path: str | Path,
    *,
    as_of: date | str | None = None,
    plugins: Sequence[PluginSpec] = (),
    metrics: Iterable[str] = (),
    env: Mapping[str, str | None] | None = None,
    cache: bool = False,
) -> dict[str, Any]:
    """``pdca check PLAYBOOK --format json`` and its report.

    A metric that cannot be computed is in the report with status ``error``
    (the command exits 1 but still reports); a playbook that does not load
    raises :class:`CliFailed` with pdca's message. The Parquet cache is off
    unless ``cache=True``, so each call reads the data files as they are now.
    """
    args: list[str | Path] = ["check", playbook_path, "--format", "json"]
    if as_of is not None:
        args += ["--as-of", str(as_of)]
    for metric in metrics:
        args += ["--metric", metric]
    if not cache:
        args.append("--no-cache")
    result = invoke(*args, plugins=plugins, env=env)
    return _report(result, ok=(0, 1, 3))


def run_cycle(
    playbook_path: str | Path,
    *,
    as_of: date | str | None = None,
    plugins: Sequence[PluginSpec] = (),
    state: str | Path | None = None,
    env: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """``pdca run`` then ``pdca status`` (both ``--format json``) on a playbook.

    Returns ``{"exit_code": ..., "run": <pdca run JSON>, "review": <pdca
    status JSON>, "stderr": ...}``. The state is kept in ``.pdca/`` beside the
    playbook unless ``state`` names another store, so calling again continues
    the same cycle, as a team's daily ``pdca run`` does.
    """
    tail: list[str | Path] = ["--format", "json"]
    if as_of is not None:
        tail += ["--as-of", str(as_of)]
    if state is not None:
        tail += ["--state", state]
    ran = invoke("run", playbook_path, *tail, plugins=plugins, env=env)
    run = _report(ran, ok=(0, 1))
    reviewed = invoke("status", playbook_path, *tail, plugins=plugins, env=env)
    review = _report(reviewed, ok=(0,))
    return {
        "exit_code": ran.exit_code,
        "run": run,
        "review": review,
        "stderr": ran.stderr + reviewed.stderr,
    }


def _report(result: CliResult, ok: tuple[int, ...]) -> dict[str, Any]:
    if result.exit_code not in ok or not result.stdout.strip():
        raise CliFailed(str(result))
    try:
        data = json.loads(result.stdout)
    except ValueError:
        raise CliFailed(f"the command did not print JSON\n{result}") from None
    if not isinstance(data, dict):
        raise CliFailed(f"the command printed JSON but not an object\n{result}")
    return data


# -- playbooks ----------------------------------------------------------------------------


def write_playbook(folder: Path, text: str, name: str = "playbook.yaml") -> Path:
    """Write playbook YAML (dedented) into ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """CSV with a header row; columns in the order of ``columns`` or of first appearance."""
    names = list(columns or {})
    if not names:
        for row in rows:
            names.extend(k for k in row if k not in names)
    out = io.StringIO()
    writer = csv.DictWriter(out, names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


class PlaybookBuilder:
    """A playbook assembled in Python and written, with its data files, into one folder.

    Each method adds an entry and returns the builder, so a test reads like
    the playbook it makes::

        path = (
            playbook_builder("desk")
            .source("scores", rows=[{"day": "2026-01-05", "score": 4}], timestamp="day")
            .metric("score", source="scores", kpi="mean", field="score", target=5)
            .write()
        )

    Owners that tasks or objectives name but nobody defined are added with
    their id as name, so a test states only the owners it is about.
    """

    def __init__(self, folder: Path, playbook_id: str = "test", title: str | None = None):
        self.folder = folder
        self.data: dict[str, Any] = {"playbook": playbook_id, "title": title or playbook_id}
        self.files: dict[str, str | bytes] = {}

    def set(self, **keys: Any) -> PlaybookBuilder:
        """Top-level keys as they are (``description``, ``check`` ...)."""
        self.data.update(keys)
        return self

    def _entry(self, section: str, entry_id: str, keys: Mapping[str, Any]) -> PlaybookBuilder:
        self.data.setdefault(section, {})[entry_id] = {
            k: v for k, v in keys.items() if v is not None
        }
        return self

    def owner(self, owner_id: str, name: str | None = None, **keys: Any) -> PlaybookBuilder:
        return self._entry("owners", owner_id, {"name": name or owner_id, **keys})

    def source(
        self,
        source_id: str,
        *,
        type: str = "csv",
        rows: Sequence[Mapping[str, Any]] | None = None,
        text: str | None = None,
        path: str | None = None,
        timestamp: str | None = None,
        **options: Any,
    ) -> PlaybookBuilder:
        """A source; ``rows`` (dicts) or ``text`` are written to ``path`` as its data.

        ``path`` defaults to ``data/<id>.csv`` when there is data to write. For
        a format pdca cannot write from rows (a spreadsheet), write the file
        with :meth:`file` or into :attr:`folder` and give its ``path``.
        """
        if rows is not None or text is not None:
            path = path or f"data/{source_id}.csv"
            self.files[path] = csv_text(rows) if rows is not None else textwrap.dedent(text or "")
        return self._entry(
            "sources", source_id, {"type": type, "path": path, "timestamp": timestamp, **options}
        )

    def metric(
        self, metric_id: str, *, source: str, kpi: str, target: float, **keys: Any
    ) -> PlaybookBuilder:
        return self._entry(
            "metrics", metric_id, {"source": source, "kpi": kpi, "target": target, **keys}
        )

    def objective(
        self, objective_id: str, *, title: str | None = None, **keys: Any
    ) -> PlaybookBuilder:
        return self._entry("objectives", objective_id, {"title": title or objective_id, **keys})

    def task(
        self, task_id: str, *, owner: str, title: str | None = None, **keys: Any
    ) -> PlaybookBuilder:
        return self._entry("tasks", task_id, {"title": title or task_id, "owner": owner, **keys})

    def cycle(self, start: date | str, length: str | None = None) -> PlaybookBuilder:
        start_date = date.fromisoformat(start) if isinstance(start, str) else start
        self.data["cycle"] = {k: v for k, v in {"start": start_date, "length": length}.items() if v}
        return self

    def plugin(self, ref: str, code: str | None = None) -> PlaybookBuilder:
        """List a playbook-local plugin; with ``code``, also write it as that file."""
        if code is not None:
            self.files[ref] = textwrap.dedent(code)
        self.data.setdefault("plugins", []).append(ref)
        return self

    def file(self, rel: str, content: str | bytes) -> Path:
        """Write a file beside the playbook now (data, a plugin) and return its path."""
        target = self.folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def _with_owners(self) -> dict[str, Any]:
        data = copy.deepcopy(self.data)
        owners = data.setdefault("owners", {})
        named = [t.get("owner") for t in data.get("tasks", {}).values()]
        named += [o.get("owner") for o in data.get("objectives", {}).values()]
        for owner in named:
            if isinstance(owner, str) and owner not in owners:
                owners[owner] = {"name": owner}
        if not owners:
            del data["owners"]
        return data

    def yaml(self) -> str:
        # pdca's own dumper: it quotes text such as '1e-3' that pdca reads as a number
        from pdca.playbook.loader import dump

        return dump(self._with_owners())

    def write(self, name: str = "playbook.yaml") -> Path:
        """Write the data files and the playbook; return the playbook's path."""
        for rel, content in self.files.items():
            self.file(rel, content)
        path = self.folder / name
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_text(self.yaml(), encoding="utf-8")
        return path


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def pdca_plugin_manager() -> Callable[..., pluggy.PluginManager]:
    """A factory: ``pdca_plugin_manager(my_plugin)`` gives pdca's built-ins plus ``my_plugin``.

    Pass modules, objects with ``@pdca.hookimpl`` methods, or ``(name, plugin)``
    pairs; ``entry_points=True`` also loads installed plugins, and
    ``playbook_dir=``/``plugin_files=`` a playbook's own plugin files.
    """
    return make_plugin_manager


@pytest.fixture
def playbook_builder(tmp_path: Path) -> Callable[..., PlaybookBuilder]:
    """A factory: ``playbook_builder("desk")`` gives a :class:`PlaybookBuilder` in ``tmp_path``.

    Several playbooks in one test go into subfolders: ``playbook_builder("b", folder="b")``.
    """

    def make(
        playbook_id: str = "test", title: str | None = None, folder: str | None = None
    ) -> PlaybookBuilder:
        return PlaybookBuilder(tmp_path / folder if folder else tmp_path, playbook_id, title)

    return make


@pytest.fixture
def playbook_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a playbook into the test's temporary folder: ``playbook_file(yaml_text)``.

    Other keyword arguments are files to write beside it, by path relative to
    the playbook (``**{"data/scores.csv": text}``); ``__`` in a name stands for ``/``.
    """

    def make(text: str, name: str = "playbook.yaml", **files: Any) -> Path:
        for rel, content in files.items():
            target = tmp_path / rel.replace("__", "/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        return write_playbook(tmp_path, text, name)

    return make


@pytest.fixture
def pdca_cli() -> Callable[..., CliResult]:
    """Run the ``pdca`` command line in-process: ``pdca_cli("check", path, plugins=[mine])``.

    Returns a :class:`CliResult`; ``env={"NAME": "value"}`` sets environment
    variables for the run and ``input=`` feeds standard input.
    """
    return invoke


__all__ = [
    "CliFailed",
    "CliResult",
    "PlaybookBuilder",
    "add_plugins",
    "cli_group",
    "csv_text",
    "invoke",
    "make_plugin_manager",
    "named_plugins",
    "plugin_name",
    "plugins_added",
    "run_check",
    "run_cycle",
    "write_playbook",
]
