"""Rendering a report document: finding the renderer, running it, writing the file.

A renderer is any object with a ``name``, a one-line ``summary``, a file
``extension``, a ``media_type`` and ``render(document, env) -> str``
(:class:`pdca.report.Renderer`); plugins register them with
``pdca_register_renderers``. Most renderers are a template: subclass
:class:`pdca.report.TemplateRenderer` and name it. The environment they render
in (template lookup, sandbox, filters) is :mod:`pdca.report.templating`.

The templating names this module held before it was split (``make_environment``,
``render_template``, the filters such as ``md`` and the chart helpers such as
``chart``) are still importable from here; their homes are
:mod:`pdca.report.templating`, :mod:`pdca.report.filters` and
:mod:`pdca.report.figures`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pdca.report import Renderer, TemplateRenderer
from pdca.report.context import ReportError
from pdca.report.figures import MERMAID_MAX_NODES
from pdca.report.templating import (
    PlaybookTemplateLoader,
    TemplateAccessError,
    check_template_name,
    make_environment,
    render_template,
)


def renderer_names(registry: Any) -> list[str]:
    """Format names for ``--format``: every registered renderer, html first."""
    names = sorted(registry.renderers)
    preferred = [n for n in ("html", "markdown", "json", "a3", "text") if n in names]
    return preferred + [n for n in names if n not in preferred]


def get_renderer(registry: Any, name: str) -> Any:
    """The registered renderer ``name``, checked to be usable."""
    entry = registry.renderers.get(name)
    if entry is None:
        raise ReportError(
            f"no report format '{name}'; formats: {', '.join(renderer_names(registry))}"
        )
    renderer = entry.obj
    if not callable(getattr(renderer, "render", None)):
        raise ReportError(
            f"renderer '{name}' (plugin '{entry.plugin}') has no render(document, env) method"
        )
    return renderer


def render(
    document: Mapping[str, Any],
    fmt: str,
    *,
    registry: Any,
    playbook_dir: Path | None = None,
    plugin_manager: Any = None,
) -> str:
    """The document rendered by renderer ``fmt`` in a fresh environment."""
    renderer = get_renderer(registry, fmt)
    env = make_environment(
        playbook_dir=playbook_dir,
        renderers=[r.obj for r in registry.renderers.values()],
        plugin_manager=plugin_manager,
    )
    try:
        text = renderer.render(document, env)
    except ReportError:
        raise
    except Exception as exc:
        plugin = registry.renderers[fmt].plugin
        raise ReportError(
            f"renderer '{fmt}' (plugin '{plugin}') failed: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(text, str):
        raise ReportError(f"renderer '{fmt}' returned {type(text).__name__}, not text")
    return text


def default_output(renderer: Any) -> str:
    """The file name written when no output is given."""
    name = getattr(renderer, "default_output", None)
    return name or f"report.{getattr(renderer, 'extension', 'txt') or 'txt'}"


def write_report(
    playbook_path: str | Path,
    fmt: str = "html",
    output: str | Path | None = None,
    *,
    as_of: Any = None,
    cycle: int | None = None,
    state: str | Path | None = None,
) -> Path:
    """Build and render a playbook's report and write it to ``output``; return the path.

    ``output`` defaults to the renderer's default file name (``report.html``)
    in the current folder. Used by ``pdca demo`` and for embedding.
    """
    from pdca.report.context import load_document

    document, inspection = load_document(playbook_path, as_of=as_of, cycle=cycle, state=state)
    pb = inspection.playbook
    text = render(
        document,
        fmt,
        registry=inspection.registry,
        playbook_dir=pb.base_dir,
        plugin_manager=inspection.plugin_manager,
    )
    renderer = get_renderer(inspection.registry, fmt)
    path = Path(output) if output is not None else Path.cwd() / default_output(renderer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


__all__: Sequence[str] = (
    "MERMAID_MAX_NODES",
    "PlaybookTemplateLoader",
    "Renderer",
    "TemplateAccessError",
    "TemplateRenderer",
    "check_template_name",
    "default_output",
    "get_renderer",
    "make_environment",
    "render",
    "render_template",
    "renderer_names",
    "write_report",
)

_FILTERS = "pdca.report.filters"
_FIGURES = "pdca.report.figures"
_MOVED: Mapping[str, str] = {
    "TEMPLATE_DIR": "pdca.report.templating",
    "PLAYBOOK_TEMPLATES": "pdca.report.templating",
    "FILTERS": "pdca.report.templating",
    "GLOBALS": "pdca.report.templating",
    **dict.fromkeys(
        (
            "DASH",
            "DECISION_LABELS",
            "KPI_STATUS_LABELS",
            "PHASE_LABELS",
            "TASK_STATUS_LABELS",
            "VERDICT_LABELS",
            "day",
            "decision_label",
            "md",
            "mermaid_text",
            "metric_order",
            "num",
            "other_metrics",
            "percent",
            "phase_label",
            "plural",
            "short_reading",
            "signed",
            "status_label",
            "task_label",
            "tasks_in",
            "verdict_label",
            "who",
        ),
        _FILTERS,
    ),
    **dict.fromkeys(
        ("MARKER_LABEL_CHARS", "badge", "chart", "chart_markers", "graph_svg", "mermaid", "spark"),
        _FIGURES,
    ),
}
"""Names that moved to the templating modules, by their new home."""


def __getattr__(name: str) -> Any:
    home = _MOVED.get(name)
    if home is None:
        raise AttributeError(f"module 'pdca.report.render' has no attribute '{name}'")
    return getattr(importlib.import_module(home), name)
