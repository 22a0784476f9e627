"""Rendering a report document: the renderer contract, the Jinja environment, the filters.

A renderer is any object with a ``name``, a one-line ``summary``, a file
``extension``, a ``media_type`` and ``render(document, env) -> str``
(:class:`pdca.report.Renderer`); plugins register them with
``pdca_register_renderers``. Most renderers are a template: subclass
:class:`pdca.report.TemplateRenderer` and name it.

Templates are looked up by name in this order, first match wins:

1. the playbook folder's ``templates/`` (a team restyles without a plugin);
2. the ``template_dir`` of each registered renderer that has one (plugins);
3. pdca's own ``report/templates/``, also reachable as ``builtin/NAME`` so an
   override can extend the template it replaces.

The playbook folder is a sandbox: a template name with ``..``, an absolute
path, or a file that is a link to somewhere outside ``templates/`` is refused
with a :class:`~pdca.report.context.ReportError`, and templates run in Jinja's
sandboxed environment, so a template cannot read files or reach Python
internals. HTML templates (``*.html.j2``) autoescape; Markdown ones
(``*.md.j2``) use the ``md`` filter instead. SVG charts are built by
:mod:`pdca.report.charts`, which escapes every text it draws; they are marked
safe (``Markup``) right where they are made, in the ``chart``/``graph_svg``
helpers below, never from template input.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from pdca import __version__
from pdca.report import Renderer, TemplateRenderer
from pdca.report.context import ReportError

TEMPLATE_DIR = Path(__file__).parent / "templates"
"""pdca's built-in templates."""
PLAYBOOK_TEMPLATES = "templates"
"""The folder beside a playbook whose templates override the built-ins by name."""
MERMAID_MAX_NODES = 200
"""Above this, the Markdown report leaves the graph out: GitHub and GitLab refuse (or
cannot lay out) much larger mermaid diagrams."""


# -- the environment ------------------------------------------------------------------------


class TemplateAccessError(jinja2.TemplateError):
    """A template name or file that would leave the templates folder."""


def check_template_name(name: str) -> None:
    """Refuse names that leave the folder they are looked up in: ``..``, absolute, drives."""
    text = str(name)
    parts = re.split(r"[\\/]", text)
    if (
        text.startswith(("/", "\\", "~"))
        or re.match(r"^[A-Za-z]:", text)
        or ".." in parts
        or "\x00" in text
    ):
        raise TemplateAccessError(
            f"template name '{text}' is not allowed: templates are loaded by name from "
            "inside a templates folder (no '..', no absolute paths)"
        )


class PlaybookTemplateLoader(jinja2.BaseLoader):
    """Templates from a playbook's ``templates/`` folder, and nothing outside it.

    It is asked first for every name, so it also guards the loaders after it:
    a name that tries to climb out of a folder is an error here, not a quiet
    "not found" that would fall through to the next loader.
    """

    def __init__(self, folder: Path | None):
        self.folder = folder

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        check_template_name(template)
        if self.folder is None or not self.folder.is_dir():
            raise jinja2.TemplateNotFound(template)
        root = self.folder.resolve()
        path = self.folder / template
        if not path.is_file():
            raise jinja2.TemplateNotFound(template)
        real = path.resolve()
        if not real.is_relative_to(root):
            raise TemplateAccessError(
                f"template '{template}' in {self.folder} leads to {real}, outside the "
                "playbook's templates folder; templates may not read other files"
            )
        try:
            source = real.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateAccessError(f"template '{template}' cannot be read: {exc}") from None
        mtime = real.stat().st_mtime
        return source, str(real), lambda: real.exists() and real.stat().st_mtime == mtime

    def list_templates(self) -> list[str]:
        if self.folder is None or not self.folder.is_dir():
            return []
        root = self.folder.resolve()
        return sorted(
            p.relative_to(self.folder).as_posix()
            for p in self.folder.rglob("*")
            if p.is_file() and p.resolve().is_relative_to(root)
        )


_AUTOESCAPE = jinja2.select_autoescape(
    enabled_extensions=("html", "htm", "xml", "svg", "html.j2", "htm.j2", "xml.j2", "svg.j2"),
    disabled_extensions=("md", "md.j2", "txt", "txt.j2", "css", "css.j2", "json.j2"),
    default_for_string=True,
    default=True,
)
"""HTML escapes, Markdown and CSS do not (Markdown templates use ``md``); anything
else escapes, the safe default."""


def make_environment(
    *,
    playbook_dir: Path | None = None,
    renderers: Iterable[Any] = (),
    plugin_manager: Any = None,
) -> jinja2.Environment:
    """The Jinja environment reports render in (see the module doc for the lookup order).

    ``renderers`` contribute their ``template_dir``; ``plugin_manager`` gets
    ``pdca_prepare_jinja_env(env)`` once the built-in filters are in place, so a
    plugin may add filters and globals or replace a built-in one.
    """
    builtin = jinja2.FileSystemLoader(str(TEMPLATE_DIR))
    loaders: list[jinja2.BaseLoader] = [
        PlaybookTemplateLoader(playbook_dir / PLAYBOOK_TEMPLATES if playbook_dir else None)
    ]
    seen: set[str] = set()
    for renderer in renderers:
        folder = getattr(renderer, "template_dir", None)
        if folder and str(folder) not in seen:
            seen.add(str(folder))
            loaders.append(jinja2.FileSystemLoader(str(folder)))
    loaders.append(builtin)
    loaders.append(jinja2.PrefixLoader({"builtin": builtin}))
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=_AUTOESCAPE,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    if plugin_manager is not None:
        from pdca.plugins import call_each

        call_each(plugin_manager, "pdca_prepare_jinja_env", env=env)
    return env


# -- rendering ---------------------------------------------------------------------------------


def _where(exc: BaseException, fallback: str) -> str:
    """``FILE:LINE`` of the template line that failed, from Jinja's rewritten traceback."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith((".j2", ".jinja", ".jinja2", ".html", ".md")) or (
            frame.filename.startswith("<template")
        ):
            found = f"{frame.filename}:{frame.lineno}"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"{exc.filename or exc.name or fallback}:{exc.lineno}"
    return found or f"template {fallback}"


def render_template(env: jinja2.Environment, name: str, document: Mapping[str, Any]) -> str:
    """Render template ``name`` with the document as ``report``; template problems are
    ReportError naming the template file and line."""
    try:
        return env.get_template(name).render(report=document)
    except TemplateAccessError as exc:
        raise ReportError(f"{_where(exc, name)}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        missing = exc.name or name
        raise ReportError(
            f"{_where(exc, name)}: template '{missing}' not found (looked in the playbook's "
            f"{PLAYBOOK_TEMPLATES}/ folder, plugin template folders and pdca's templates)"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise ReportError(f"{_where(exc, name)}: template syntax error: {exc.message}") from None
    except jinja2.exceptions.SecurityError as exc:
        raise ReportError(f"{_where(exc, name)}: not allowed in a template: {exc}") from None
    except jinja2.TemplateError as exc:
        raise ReportError(f"{_where(exc, name)}: {exc.message or exc}") from None
    except ReportError:
        raise
    except Exception as exc:  # a plugin filter's bug: name where it was called from
        raise ReportError(
            f"{_where(exc, name)}: rendering failed: {type(exc).__name__}: {exc}"
        ) from exc


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


# -- filters and helpers available in every template -------------------------------------------

KPI_STATUS_LABELS: Mapping[str, str] = {
    "met": "Met",
    "at_risk": "At risk",
    "off_track": "Off track",
    "no_data": "No data",
    "error": "Error",
    "not_measured": "Not measured",
}
TASK_STATUS_LABELS: Mapping[str, str] = {
    "pending": "Pending",
    "ready": "Ready",
    "in_progress": "In progress",
    "done": "Done",
    "blocked": "Blocked",
    "skipped": "Skipped",
    "failed": "Failed",
}
DECISION_LABELS: Mapping[str, str] = {
    "standardize": "Standardize",
    "adjust": "Adjust",
    "abandon": "Abandon",
}
PHASE_LABELS: Mapping[str, str] = {
    "plan": "Plan",
    "do": "Do",
    "check": "Check",
    "act": "Act",
    "closed": "Closed",
}
VERDICT_LABELS: Mapping[str, str] = {
    "improved": "improved",
    "deteriorated": "got worse",
    "no_signal": "no signal",
    "insufficient_data": "too few periods",
}
DASH = "–"


def _words(value: Any) -> str:
    return str(value).replace("_", " ")


def status_label(status: Any) -> str:
    """A KPI or objective status as a word: ``at_risk`` → ``At risk``."""
    if status is None:
        return DASH
    return KPI_STATUS_LABELS.get(str(status), _words(status).capitalize())


def task_label(status: Any) -> str:
    if status is None:
        return DASH
    return TASK_STATUS_LABELS.get(str(status), _words(status).capitalize())


def decision_label(decision: Any) -> str:
    if not decision:
        return DASH
    return DECISION_LABELS.get(str(decision), _words(decision).capitalize())


def phase_label(phase: Any) -> str:
    if not phase:
        return DASH
    return PHASE_LABELS.get(str(phase), _words(phase).capitalize())


def verdict_label(verdict: Any) -> str:
    if not verdict:
        return DASH
    return VERDICT_LABELS.get(str(verdict), _words(verdict))


def num(value: Any, unit: Any = None) -> str:
    """A value as a manager reads it (3 significant digits) with its unit: ``27.1 min``."""
    from pdca.report.svg import as_float, fmt_value, with_unit

    f = as_float(value)
    if f is None:
        return DASH
    return with_unit(fmt_value(f), str(unit or ""))


def signed(value: Any, unit: Any = None) -> str:
    """A difference with its sign: ``+2.95``, ``−12``."""
    from pdca.report.svg import as_float

    f = as_float(value)
    if f is None:
        return DASH
    return ("+" if f > 0 else "") + num(f, unit)


def percent(part: Any, whole: Any) -> int:
    """``part`` of ``whole`` as a whole percentage (0 when ``whole`` is 0)."""
    try:
        return round(100 * float(part) / float(whole)) if float(whole) else 0
    except (TypeError, ValueError):
        return 0


def day(value: Any) -> str:
    """The date part of a timestamp or date: ``2026-01-26``."""
    if not value:
        return DASH
    return str(value)[:10]


_MD_ESCAPE = re.compile(r"([\\`*_\[\]{}|#~$!])")
_MD_LIST = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_MD_RULE = re.compile(r"^[-=]{2,}$")


def md(value: Any) -> str:
    """Text for Markdown, inline or in a table cell, rendered literally on GitHub/GitLab.

    Line breaks become spaces; ``&``, ``<`` and ``>`` become entities (no HTML
    can form); Markdown punctuation (links, emphasis, code, tables, headings,
    math) is backslash-escaped, and so is a list marker at the start. Titles,
    names, notes and data labels cannot add markup, links, or table columns.
    """
    if value is None:
        return DASH
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_ESCAPE.sub(r"\\\1", text)
    text = _MD_LIST.sub(r"\1\\\2", text)
    if re.match(r"^[-+](\s|$)", text) or _MD_RULE.match(text):
        text = "\\" + text
    return text


def mermaid_text(value: Any) -> str:
    """A mermaid node label: quotes, angle brackets, backticks and ``#`` as entity codes."""
    text = " ".join(str(value if value is not None else "").split())
    for raw, code in (
        ("#", "#35;"),
        ("&", "#38;"),
        ('"', "#quot;"),
        ("<", "#lt;"),
        (">", "#gt;"),
        ("`", "#96;"),
        ("|", "#124;"),
    ):
        text = text.replace(raw, code)
    return text


_MERMAID_CLASSES: Mapping[str, str] = {
    "done": "fill:#e3f4ea,stroke:#1e6b43,color:#1e6b43",
    "active": "fill:#e6f0fa,stroke:#1f5f99,color:#1f5f99",
    "waiting": "fill:#ffffff,stroke:#52606d,color:#1f2933",
    "problem": "fill:#fbe4e2,stroke:#a3281d,color:#a3281d",
    "warn": "fill:#fdf1d8,stroke:#8a5a00,color:#8a5a00",
    "objective": "fill:#fff6e0,stroke:#b7892b,color:#1f2933",
}
_MERMAID_STATUS: Mapping[str, str] = {
    "done": "done",
    "skipped": "waiting",
    "pending": "waiting",
    "ready": "active",
    "in_progress": "active",
    "blocked": "warn",
    "failed": "problem",
    "met": "done",
    "at_risk": "warn",
    "off_track": "problem",
    "error": "problem",
}


def mermaid(graph: Mapping[str, Any]) -> str:
    """The task/objective graph as a mermaid flowchart (no fences); empty when it has no
    nodes or more than :data:`MERMAID_MAX_NODES`."""
    nodes = list(graph.get("nodes") or [])
    if not nodes or len(nodes) > MERMAID_MAX_NODES:
        return ""
    ids = {n["id"]: f"n{i}" for i, n in enumerate(nodes)}
    lines = ["flowchart LR"]
    classes: dict[str, list[str]] = {}
    for n in nodes:
        nid = ids[n["id"]]
        objective = n.get("kind") == "objective"
        word = status_label(n.get("status")) if objective else task_label(n.get("status"))
        label = f"{mermaid_text(n.get('label'))}<br/>{mermaid_text(word)}"
        left, right = ('{{"', '"}}') if objective else ('["', '"]')
        lines.append(f"    {nid}{left}{label}{right}")
        cls = _MERMAID_STATUS.get(str(n.get("status")), "waiting")
        classes.setdefault("objective" if objective and cls == "waiting" else cls, []).append(nid)
    for a, b in graph.get("edges") or []:
        if a in ids and b in ids:
            lines.append(f"    {ids[a]} --> {ids[b]}")
    for cls, members in classes.items():
        lines.append(f"    classDef {cls} {_MERMAID_CLASSES[cls]}")
        lines.append(f"    class {','.join(members)} {cls}")
    return "\n".join(lines)


MARKER_LABEL_CHARS = 48
"""A countermeasure's label on a chart is cut to this; the full titles are in the report."""


def chart_markers(metric: Mapping[str, Any]) -> list[dict[str, str]]:
    """One marker per charted period: the countermeasures finished in the same period
    share a line, labelled with the first one and how many more (twenty task titles
    side by side would be unreadable, and slow to lay out)."""
    from bisect import bisect_left

    starts = [str(p.get("start")) for p in metric.get("series") or [] if p.get("start")]
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for m in sorted(metric.get("markers") or [], key=lambda m: str(m.get("date"))):
        day = str(m.get("date"))
        k = bisect_left(starts, day)
        groups.setdefault(starts[k] if k < len(starts) else day, []).append(m)
    out = []
    for group in groups.values():
        first = str(group[0].get("label") or "Countermeasure")
        if len(first) > MARKER_LABEL_CHARS:
            first = first[: MARKER_LABEL_CHARS - 1].rstrip() + "…"
        more = f" + {len(group) - 1} more" if len(group) > 1 else ""
        out.append({"date": str(group[0].get("date")), "label": first + more})
    return out


def chart(metric: Mapping[str, Any], title: str = "") -> Markup:
    """The metric's control chart: series, centre line and limits, target, warn, baseline,
    benchmark, signals and countermeasure markers (an inline SVG)."""
    from pdca.report.charts import control_chart, placeholder

    if metric.get("error"):
        return Markup(placeholder(title, "Could not be measured", str(metric["error"])))
    signal = metric.get("signal") or {}
    limits = signal.get("limits") or {}
    rules = [
        {**r, "periods": r.get("indices", r.get("periods")) or []}
        for r in signal.get("rules") or []
    ]
    benchmark = (metric.get("benchmark") or {}).get("value")
    return Markup(
        control_chart(
            metric.get("series") or [],
            centre=limits.get("centre"),
            lower=limits.get("lower"),
            upper=limits.get("upper"),
            target=metric.get("target"),
            warn=metric.get("warn"),
            baseline=metric.get("baseline"),
            benchmark=benchmark,
            signals=rules,
            markers=chart_markers(metric),
            direction=metric.get("direction") or "increase",
            title=str(title or ""),
            unit=str(metric.get("unit") or ""),
        )
    )


def spark(
    metric: Mapping[str, Any], periods: int = 26, width: float = 120, height: float = 28
) -> Markup:
    """A word-sized trend of the last ``periods`` full periods, with the target."""
    from pdca.report.charts import sparkline

    values = [p.get("value") for p in metric.get("series") or [] if not p.get("partial")]
    return Markup(
        sparkline(
            values[-periods:],
            target=metric.get("target"),
            direction=metric.get("direction") or "increase",
            width=float(width),
            height=float(height),
        )
    )


def badge(status: Any, label: Any = None) -> Markup:
    """A status pill (icon + word) as an inline SVG."""
    from pdca.report.charts import status_badge

    key = str(status or "no_data")
    word = label if label is not None else status_label(key)
    return Markup(status_badge("no_data" if key == "not_measured" else key, str(word)))


_VIEWBOX = re.compile(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"')


def graph_svg(graph: Mapping[str, Any], title: str = "") -> Markup:
    """The dependency graph at its natural size (the page scrolls it, never shrinks it)."""
    from pdca.report.charts import dependency_graph

    svg = dependency_graph(
        graph.get("nodes") or [], [tuple(e) for e in graph.get("edges") or []], title=str(title)
    )
    size = _VIEWBOX.search(svg)
    if size:
        svg = svg.replace('width="100%"', f'width="{size[1]}" height="{size[2]}"', 1)
    return Markup(svg)


def short_reading(metric: Mapping[str, Any]) -> str:
    """The verdict in two or three words and the rule it rests on: ``improved (rule 2)``."""
    from pdca.report.context import deciding_rule

    signal = metric.get("signal")
    if metric.get("error"):
        return "not measured (error)"
    if not signal:
        return "not measured yet"
    verdict = signal.get("verdict")
    if verdict == "no_signal":
        return "no signal: possibly luck" if metric.get("status") == "met" else "noise only"
    rule = deciding_rule(signal)
    return verdict_label(verdict) + (f" (rule {rule['rule']})" if rule else "")


def metric_order(report: Mapping[str, Any]) -> list[str]:
    """Metric ids as the report shows them: by objective, then the others."""
    from pdca.report.context import iter_metric_ids

    return list(iter_metric_ids(report))


def other_metrics(report: Mapping[str, Any]) -> list[str]:
    """Metrics that belong to no objective."""
    return [mid for mid, m in report["metrics"].items() if not m["objectives"]]


def tasks_in(report: Mapping[str, Any], phase: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The tasks of one phase, in playbook order."""
    return [(tid, t) for tid, t in report["tasks"].items() if t["phase"] == phase]


def who(report: Mapping[str, Any], owner: Any) -> str:
    """An owner's name from their id (the id itself when the playbook no longer has them)."""
    if not owner:
        return DASH
    entry = report["owners"].get(str(owner))
    return str(entry["name"]) if entry else str(owner)


def plural(count: Any, word: str, words: str | None = None) -> str:
    """``1 task``, ``3 tasks``."""
    n = int(count or 0)
    return f"{n} {word if n == 1 else (words or word + 's')}"


FILTERS: Mapping[str, Callable[..., Any]] = {
    "md": md,
    "mermaid_text": mermaid_text,
    "num": num,
    "signed": signed,
    "day": day,
    "status_label": status_label,
    "task_label": task_label,
    "decision_label": decision_label,
    "phase_label": phase_label,
    "verdict_label": verdict_label,
}
"""Filters every template can use (plugins add theirs in ``pdca_prepare_jinja_env``)."""

GLOBALS: Mapping[str, Any] = {
    "chart": chart,
    "spark": spark,
    "badge": badge,
    "graph_svg": graph_svg,
    "mermaid": mermaid,
    "percent": percent,
    "plural": plural,
    "who": who,
    "metric_order": metric_order,
    "short_reading": short_reading,
    "other_metrics": other_metrics,
    "tasks_in": tasks_in,
    "phases": ("plan", "do", "check", "act"),
    "pdca_version": __version__,
}
"""Functions and values every template can use."""
