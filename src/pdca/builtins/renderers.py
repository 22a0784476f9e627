"""Built-in report renderers: ``html``, ``a3``, ``markdown``, ``json`` and the terminal ``text``.

Each is registered through ``pdca_register_renderers`` like a plugin's would
be; the contract is :class:`pdca.report.Renderer`. This module is
imported by every command that builds a plugin manager, so it imports neither
Jinja nor the report code until a report is rendered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from pdca import hookimpl
from pdca.report import Renderer, TemplateRenderer


class HtmlReport(TemplateRenderer):
    name: ClassVar[str] = "html"
    summary: ClassVar[str] = (
        "one self-contained HTML file: objective cards, control charts, tasks, graph, decisions"
    )
    extension: ClassVar[str] = "html"
    media_type: ClassVar[str] = "text/html"
    default_output: ClassVar[str | None] = "report.html"
    template: ClassVar[str] = "report.html.j2"


class A3Report(TemplateRenderer):
    name: ClassVar[str] = "a3"
    summary: ClassVar[str] = "the A3 improvement record on one landscape page (HTML, print to A3)"
    extension: ClassVar[str] = "html"
    media_type: ClassVar[str] = "text/html"
    default_output: ClassVar[str | None] = "a3.html"
    template: ClassVar[str] = "a3.html.j2"


class MarkdownReport(TemplateRenderer):
    name: ClassVar[str] = "markdown"
    summary: ClassVar[str] = "Markdown for a pull request or wiki: tables and a mermaid graph"
    extension: ClassVar[str] = "md"
    media_type: ClassVar[str] = "text/markdown"
    template: ClassVar[str] = "report.md.j2"


class JsonReport(Renderer):
    name: ClassVar[str] = "json"
    summary: ClassVar[str] = "the report document itself, for scripts (see docs/reports.md)"
    extension: ClassVar[str] = "json"
    media_type: ClassVar[str] = "application/json"

    def render(self, document: Mapping[str, Any], env: Any) -> str:
        return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


class TextReport(Renderer):
    name: ClassVar[str] = "text"
    summary: ClassVar[str] = "the terminal review, as pdca status prints it"
    extension: ClassVar[str] = "txt"
    media_type: ClassVar[str] = "text/plain"

    def render(self, document: Mapping[str, Any], env: Any) -> str:
        from pdca.cli.status_text import render_text

        return render_text(dict(document), color=False)


BUILTIN_RENDERERS: tuple[Renderer, ...] = (
    HtmlReport(),
    A3Report(),
    MarkdownReport(),
    JsonReport(),
    TextReport(),
)


@hookimpl
def pdca_register_renderers(register: Callable[[Any], None]) -> None:
    for renderer in BUILTIN_RENDERERS:
        register(renderer)
