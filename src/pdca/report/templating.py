"""The Jinja environment reports render in: template lookup, the sandbox, filters and globals.

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
safe (``Markup``) right where they are made, in :mod:`pdca.report.figures`,
never from template input.

This module never imports :mod:`pdca.report` itself: the package's
:class:`~pdca.report.TemplateRenderer` calls :func:`render_template` from here,
so the renderer contract and the templating stay free of each other.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from pdca import __version__
from pdca.check.mdc_words import chart_notes
from pdca.report.context import ReportError
from pdca.report.figures import (
    badge,
    chart,
    chart_colours,
    graph_svg,
    mdc_icons,
    mermaid,
    mr_chart,
    spark,
    unique_ids,
)
from pdca.report.filters import (
    assurance_label,
    day,
    decision_label,
    md,
    mermaid_text,
    metric_order,
    num,
    other_metrics,
    percent,
    phase_label,
    plural,
    reason_label,
    short_reading,
    signed,
    status_label,
    task_label,
    tasks_in,
    variation_label,
    verdict_label,
    who,
)
from pdca.report.verdicts import evidence, headline

TEMPLATE_DIR = Path(__file__).parent / "templates"
"""pdca's built-in templates."""
PLAYBOOK_TEMPLATES = "templates"
"""The folder beside a playbook whose templates override the built-ins by name."""


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
    "variation_label": variation_label,
    "assurance_label": assurance_label,
    "reason_label": reason_label,
    "unique_ids": unique_ids,
}
"""Filters every template can use (plugins add theirs in ``pdca_prepare_jinja_env``)."""

GLOBALS: Mapping[str, Any] = {
    "chart": chart,
    "mr_chart": mr_chart,
    "spark": spark,
    "badge": badge,
    "mdc_icons": mdc_icons,
    "graph_svg": graph_svg,
    "chart_colours": chart_colours,
    "mermaid": mermaid,
    "percent": percent,
    "plural": plural,
    "who": who,
    "metric_order": metric_order,
    "short_reading": short_reading,
    "headline": headline,
    "evidence": evidence,
    "chart_notes": chart_notes,
    "other_metrics": other_metrics,
    "tasks_in": tasks_in,
    "phases": ("plan", "do", "check", "act"),
    "pdca_version": __version__,
}
"""Functions and values every template can use."""
