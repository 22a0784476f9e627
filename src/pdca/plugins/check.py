"""``pdca plugins --check``: load every plugin and list everything wrong with them.

Normal loading stops at the first broken plugin, which is right for a command
that needs all of them but slow for an integrator fixing three problems one
run at a time. The check loads tolerantly (a plugin that fails to import or
register is noted and the rest load anyway) and then asks pluggy and pdca's
contracts about each one, so a single run lists every problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pluggy

from pdca.errors import PluginError
from pdca.plugins import manager as plugins

KIND_LABELS: Mapping[str, str] = {
    "source_types": "source type",
    "kpis": "KPI",
    "renderers": "renderer",
    "actions": "action type",
}


@dataclass(frozen=True)
class Contract:
    """What a registered object of one kind must be: a base class and methods it implements."""

    base: str
    #: methods the object must have; those in ``abstract`` must also override the base's
    methods: tuple[str, ...] = ()
    abstract: tuple[str, ...] = ()
    docs: str | None = None
    #: False where the contract allows duck typing: the methods are enough
    subclass: bool = True


CONTRACTS: Mapping[str, Contract] = {
    "kpis": Contract("pdca.kpi:Kpi", ("check", "compute"), ("compute",), "param_docs"),
    "source_types": Contract(
        "pdca.data.base:SourceType", ("check", "relation"), ("relation",), "option_docs"
    ),
    "actions": Contract("pdca.action:ActionType", ("check", "run"), ("run",), "option_docs"),
    "renderers": Contract("pdca.report:Renderer", ("render",), ("render",), subclass=False),
}


def _import(ref: str) -> type:
    import importlib

    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _disabled(name: str, disabled: set[str]) -> bool:
    return name in disabled or _short(name) in disabled


def load_all(
    playbook_dir: Path | None = None, plugin_files: Iterable[str] = ()
) -> tuple[pluggy.PluginManager, list[str]]:
    """A manager with every plugin that loads, in pdca's load order, and why others did not."""
    from importlib.metadata import entry_points

    problems: list[str] = []
    disabled = plugins.disabled_plugins()
    pm = plugins.get_plugin_manager(entry_points=False)
    for ep in entry_points(group=plugins.ENTRY_POINT_GROUP):
        if _disabled(ep.name, disabled) or pm.has_plugin(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            problems.append(
                f"plugin '{ep.name}' ({ep.value}) failed to import: {type(exc).__name__}: {exc}"
            )
            continue
        _try(problems, lambda p=plugin, n=ep.name: plugins._register(pm, p, n))
    base = playbook_dir or Path.cwd()
    for ref in plugin_files:
        _try(problems, lambda r=ref: plugins._load_local(pm, r, base, disabled))
    return pm, problems


def _try(problems: list[str], step: Callable[[], None]) -> None:
    try:
        step()
    except PluginError as exc:
        problems.append(str(exc))


def check_plugins(pm: pluggy.PluginManager) -> list[str]:
    """Every problem with the plugins registered in ``pm``, one message each."""
    problems = _unknown_hooks(pm) + _unmarked_hooks(pm) + _registrations(pm)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        if not any("is not a pdca hook" in p for p in problems):
            problems.append(f"plugin '{exc.plugin}': {exc}")
    try:
        plugins.build_registry(pm)
    except PluginError as exc:
        if str(exc) not in problems:
            problems.append(str(exc))
    return problems


def check_installed(
    playbook_dir: Path | None = None, plugin_files: Iterable[str] = ()
) -> tuple[int, list[str]]:
    """For the command line: how many plugins loaded, and every problem found."""
    pm, problems = load_all(playbook_dir, plugin_files)
    problems.extend(p for p in check_plugins(pm) if p not in problems)
    count = sum(1 for _, plugin in pm.list_name_plugin() if plugin is not None)
    return count, problems


def _hook_names(pm: pluggy.PluginManager) -> list[str]:
    return [name for name, caller in vars(pm.hook).items() if caller.spec is not None]


def _unknown_hooks(pm: pluggy.PluginManager) -> list[str]:
    """Hook implementations that match no hookspec: a typo pdca would otherwise never call."""
    known = _hook_names(pm)
    problems = []
    for name, caller in sorted(vars(pm.hook).items()):
        if caller.spec is not None:
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(
                f"plugin '{impl.plugin_name}' implements '{name}', which is not a pdca hook{hint}"
            )
    return problems


def _unmarked_hooks(pm: pluggy.PluginManager) -> list[str]:
    """Functions named like a hook but not marked ``@pdca.hookimpl``: pluggy ignores them."""
    known = set(_hook_names(pm))
    problems = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        implemented = {caller.name for caller in pm.get_hookcallers(plugin) or []}
        for attr in sorted(known - implemented):
            if callable(getattr(plugin, attr, None)):
                problems.append(
                    f"plugin '{name}' defines '{attr}' without @pdca.hookimpl, so pdca never "
                    "calls it; mark it with the decorator"
                )
    return problems


def _registrations(pm: pluggy.PluginManager) -> list[str]:
    """What each registration hook registers, against the contract of its kind."""
    problems: list[str] = []
    for kind, hook_name in plugins.KINDS.items():
        seen: dict[str, str] = {}
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            plugin = impl.plugin_name
            try:
                impl.function(register=_recorder(kind, hook_name, plugin, seen, problems))
            except Exception as exc:
                problems.append(
                    f"plugin '{plugin}' failed in {hook_name}: {type(exc).__name__}: {exc}"
                )
    return problems


def _recorder(
    kind: str, hook_name: str, plugin: str, seen: dict[str, str], problems: list[str]
) -> Callable[[Any], None]:
    """The ``register`` callback one plugin gets: it notes problems instead of raising.

    The wording of the name problems is :func:`pdca.plugins.build_registry`'s,
    so the final check against it does not report them twice.
    """
    contract = CONTRACTS[kind]
    base = _import(contract.base)

    def register(obj: Any) -> None:
        name = getattr(obj, "name", None)
        if not isinstance(name, str) or not name:
            problems.append(f"plugin '{plugin}' registered {obj!r} without a name ({hook_name})")
            return
        if name in seen:
            problems.append(
                f"plugin '{plugin}' registers '{name}', already registered by plugin "
                f"'{seen[name]}' ({hook_name}); disable one with {plugins.DISABLE_ENV}"
            )
        else:
            seen[name] = plugin
        problems.extend(_contract_problems(kind, contract, base, obj, name, plugin))

    return register


def _contract_problems(
    kind: str, contract: Contract, base: type, obj: Any, name: str, plugin: str
) -> list[str]:
    label = f"plugin '{plugin}': {KIND_LABELS[kind]} '{name}'"
    problems = []
    summary = getattr(obj, "summary", None)
    if not isinstance(summary, str) or not summary.strip():
        problems.append(f"{label} has no summary (the one line `pdca plugins` shows)")
    if contract.subclass and not isinstance(obj, base):
        problems.append(
            f"{label} is a {type(obj).__name__}, not a {base.__module__}.{base.__name__}; "
            "subclass it"
        )
    for method in contract.methods:
        if not callable(getattr(obj, method, None)):
            problems.append(f"{label} has no {method}() method")
        elif method in contract.abstract and getattr(type(obj), method, None) is getattr(
            base, method
        ):
            problems.append(f"{label} does not implement {method}()")
    if kind == "kpis" and isinstance(obj, base):
        from pdca.kpi import SqlKpi

        if isinstance(obj, SqlKpi) and type(obj).sql is SqlKpi.sql:
            problems.append(f"{label} is a SqlKpi but does not implement sql()")
    if contract.docs and not isinstance(getattr(obj, contract.docs, {}), Mapping):
        problems.append(f"{label}: {contract.docs} must map each name to a one-line description")
    return problems
