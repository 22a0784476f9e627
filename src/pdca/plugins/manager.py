"""Plugin manager factory and the registry of what plugins provide.

Load order is fixed: pdca's built-ins, then installed distributions' ``pdca``
entry points, then the playbook's own ``plugins:`` files. There is no module
level manager: each command (and each test) builds its own.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdca.errors import PluginError

if TYPE_CHECKING:
    import pluggy

BUILTINS: tuple[str, ...] = (
    "pdca.builtins.sources",
    "pdca.builtins.kpis",
    "pdca.builtins.actions",
    "pdca.builtins.renderers",
)
ENTRY_POINT_GROUP = "pdca"
DISABLE_ENV = "PDCA_DISABLE_PLUGINS"

KINDS: Mapping[str, str] = {
    "source_types": "pdca_register_source_types",
    "kpis": "pdca_register_kpis",
    "renderers": "pdca_register_renderers",
    "actions": "pdca_register_actions",
}


def disabled_plugins() -> set[str]:
    """Names listed in ``PDCA_DISABLE_PLUGINS`` (comma or space separated)."""
    raw = os.environ.get(DISABLE_ENV, "")
    return {name.strip() for name in raw.replace(",", " ").split() if name.strip()}


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _is_disabled(name: str, disabled: set[str]) -> bool:
    return name in disabled or _short(name) in disabled


def get_plugin_manager(
    playbook_dir: Path | None = None,
    plugin_files: Iterable[str] = (),
    *,
    entry_points: bool = True,
    extra: Iterable[tuple[str, object]] = (),
    builtins: bool = True,
) -> pluggy.PluginManager:
    """A fresh manager with built-ins, installed plugins and the playbook's plugin files.

    ``extra`` registers (name, plugin) pairs last: tests and embedding code use it.
    ``builtins=False`` leaves pdca's own plugins out: the command line asks only for
    plugin commands when it lists its commands, which no built-in adds, and importing
    the built-ins (and what they import) would slow ``pdca --help`` down for nothing.
    """
    import pluggy

    from pdca import hookspecs

    pm = pluggy.PluginManager("pdca")
    pm.add_hookspecs(hookspecs)
    disabled = disabled_plugins()
    for modname in BUILTINS if builtins else ():
        if _is_disabled(modname, disabled):
            continue
        pm.register(importlib.import_module(modname), name=modname)
    if entry_points:
        _load_entry_points(pm, disabled)
    for ref in plugin_files:
        _load_local(pm, ref, playbook_dir or Path.cwd(), disabled)
    for name, plugin in extra:
        if not _is_disabled(name, disabled):
            _register(pm, plugin, name)
    return pm


_FACTORY = get_plugin_manager


def may_add_commands() -> bool:
    """Whether asking for plugin commands can find any, without building a manager.

    No built-in adds a command, so only an installed distribution with a ``pdca``
    entry point can (:func:`declares_entry_points`), or plugins that were added to
    every manager by wrapping :func:`get_plugin_manager` (what
    :func:`pdca.testing.plugins_added` does). When neither holds, ``pdca --help``
    imports no pluggy and reads no distribution's metadata.
    """
    return get_plugin_manager is not _FACTORY or declares_entry_points()


def builtin_plugin_manager() -> pluggy.PluginManager:
    """A manager with pdca's built-ins only: nothing installed, nothing the playbook names.

    ``pdca validate --no-plugins`` uses it to check a playbook nobody has vetted
    yet (a pull request in CI): importing a plugin runs its code, with the
    rights (and secrets) of whoever validates. ``PDCA_DISABLE_PLUGINS`` still applies.
    """
    return get_plugin_manager(None, (), entry_points=False)


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    import pluggy

    try:
        pm.register(plugin, name=name)
    except ValueError as exc:
        raise PluginError(f"plugin '{name}' cannot be registered: {exc}") from None
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin '{name}' has an invalid hook: {exc}") from None


def declares_entry_points(paths: Iterable[str] | None = None) -> bool:
    """Whether any distribution on ``sys.path`` may declare a ``pdca`` entry point.

    A look at each ``*.dist-info``/``*.egg-info`` folder's ``entry_points.txt`` for
    the ``[pdca]`` section: far cheaper than importing :mod:`importlib.metadata`
    and parsing every distribution's metadata, which is then done only when one
    does. A path entry that is not a folder (a zip) cannot be looked into this way
    and counts as "may".
    """
    marker = f"[{ENTRY_POINT_GROUP}]"
    for entry in sys.path if paths is None else paths:
        try:
            with os.scandir(entry or ".") as listing:
                names = [e.name for e in listing if e.name.endswith((".dist-info", ".egg-info"))]
        except NotADirectoryError:
            return True
        except OSError:
            continue
        for name in names:
            try:
                text = Path(entry or ".", name, "entry_points.txt").read_text(errors="replace")
            except OSError:
                continue
            if marker in text:
                return True
    return False


def _load_entry_points(pm: pluggy.PluginManager, disabled: set[str]) -> None:
    if not declares_entry_points():
        return
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if _is_disabled(ep.name, disabled) or pm.has_plugin(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(
                f"plugin '{ep.name}' ({ep.value}) failed to import: {type(exc).__name__}: {exc}"
            ) from exc
        _register(pm, plugin, ep.name)


def _clip(text: str, limit: int = 120) -> str:
    """A bounded excerpt of something the playbook wrote, for messages."""
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _load_local(pm: pluggy.PluginManager, ref: str, base: Path, disabled: set[str]) -> None:
    """Load a playbook-local plugin: a ``.py`` path relative to the playbook, or a module name."""
    if not ref.strip():
        raise PluginError("an empty entry in 'plugins': give a .py file or a module name")
    if ref.endswith(".py") or "/" in ref or os.sep in ref:
        path = (base / ref).resolve()
        name = path.stem
        if _is_disabled(name, disabled) or _is_disabled(ref, disabled):
            return
        if not path.is_file():
            raise PluginError(
                f"plugin file '{_clip(ref)}' not found (looked for {_clip(str(path))})"
            )
        from importlib.util import module_from_spec, spec_from_file_location

        modname = f"pdca_local_{abs(hash(str(path))):x}_{name}"
        spec = spec_from_file_location(modname, path)
        if spec is None or spec.loader is None:
            raise PluginError(f"plugin file '{_clip(ref)}' cannot be imported")
        module = module_from_spec(spec)
        try:
            sys.modules[modname] = module
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(modname, None)
            raise PluginError(
                f"plugin '{_clip(name)}' ({_clip(str(path))}) failed to import: "
                f"{type(exc).__name__}: {_clip(str(exc))}"
            ) from exc
    else:
        name = ref
        if _is_disabled(name, disabled):
            return
        try:
            module = importlib.import_module(ref)
        except Exception as exc:
            raise PluginError(
                f"plugin '{_clip(ref)}' failed to import: {type(exc).__name__}: {_clip(str(exc))}"
            ) from exc
    if not pm.has_plugin(name) and not pm.is_registered(module):
        _register(pm, module, name)


@dataclass
class Registered:
    """Something a plugin registered, and which plugin did."""

    obj: Any
    plugin: str


@dataclass
class Registry:
    """Everything plugins registered, by kind and name."""

    source_types: dict[str, Registered] = field(default_factory=dict)
    kpis: dict[str, Registered] = field(default_factory=dict)
    renderers: dict[str, Registered] = field(default_factory=dict)
    actions: dict[str, Registered] = field(default_factory=dict)

    def get(self, kind: str, name: str) -> Any:
        return getattr(self, kind)[name].obj

    def names(self, kind: str) -> list[str]:
        return sorted(getattr(self, kind))


def call_each(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call a hook one implementation at a time, naming the plugin if one raises."""
    results = []
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():  # registration order: built-ins first
        args = {k: kwargs[k] for k in impl.argnames}
        try:
            results.append((impl.plugin_name, impl.function(**args)))
        except Exception as exc:
            raise PluginError(
                f"plugin '{impl.plugin_name}' failed in {hook_name}: {type(exc).__name__}: {exc}"
            ) from exc
    return results


def build_registry(pm: pluggy.PluginManager) -> Registry:
    """Ask every plugin what it provides; two plugins may not claim the same name."""
    registry = Registry()
    for kind, hook_name in KINDS.items():
        table: dict[str, Registered] = getattr(registry, kind)
        hook = getattr(pm.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order: built-ins first
            _collect(impl, hook_name, table)
    return registry


def _collect(impl: Any, hook_name: str, table: dict[str, Registered]) -> None:
    plugin = impl.plugin_name

    def register(obj: Any) -> None:
        name = getattr(obj, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin '{plugin}' registered {obj!r} without a name ({hook_name})")
        if name in table:
            raise PluginError(
                f"plugin '{plugin}' registers '{name}', already registered by plugin "
                f"'{table[name].plugin}' ({hook_name}); disable one with {DISABLE_ENV}"
            )
        table[name] = Registered(obj, plugin)

    try:
        impl.function(register=register)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(
            f"plugin '{plugin}' failed in {hook_name}: {type(exc).__name__}: {exc}"
        ) from exc


def notify(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> None:
    """Fire a lifecycle hook; a failing plugin is named, not swallowed."""
    call_each(pm, hook_name, **kwargs)


def describe(pm: pluggy.PluginManager, registry: Registry) -> list[dict[str, Any]]:
    """For ``pdca plugins``: each plugin, its hooks, and what it registered."""
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        entry: dict[str, Any] = {
            "name": name,
            "module": getattr(plugin, "__name__", type(plugin).__name__),
            "hooks": sorted(impl.name for impl in pm.get_hookcallers(plugin) or []),
        }
        for kind in KINDS:
            table: dict[str, Registered] = getattr(registry, kind)
            entry[kind] = sorted(k for k, r in table.items() if r.plugin == name)
        out.append(entry)
    return out
