"""Reports: the report document, its renderers, and the inline SVG charts they draw.

Import-light on purpose: ``pdca.report.charts`` is imported by code that never
renders a report, and the built-in renderers are registered by every command,
so this module holds only the renderer contract; the other names load their
modules (Jinja, the engine) on first use.

* :func:`write_report` builds, renders and writes a playbook's report;
* :func:`load_document` / :func:`build_document` make the report document
  (exactly the ``--format json`` output);
* :func:`render_document` renders a document with a registered renderer
  (``pdca.report.render.render``; ``pdca.report.render`` is the module);
* :func:`make_environment` / :func:`render_template` are the Jinja side
  (:mod:`pdca.report.templating`);
* :class:`Renderer` / :class:`TemplateRenderer` are the renderer contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar


class Renderer:
    """A report format. Register an instance with ``pdca_register_renderers``.

    A plugin may subclass this or provide the same attributes (duck typing):
    ``name`` is the ``--format`` value, ``summary`` a line for ``pdca plugins``.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    extension: ClassVar[str] = "txt"
    """File extension without the dot (``html``)."""
    media_type: ClassVar[str] = "text/plain"
    default_output: ClassVar[str | None] = None
    """File ``pdca report`` writes when no ``-o`` is given; None prints to standard output."""
    template_dir: ClassVar[Path | None] = None
    """A folder of templates this renderer ships; searched after the playbook's own."""

    def render(self, document: Mapping[str, Any], env: Any) -> str:
        """The report as text. ``document`` is the report document (read-only);
        ``env`` the Jinja environment with pdca's filters and the template lookup."""
        raise NotImplementedError


class TemplateRenderer(Renderer):
    """A renderer that is one template, rendered with the document as ``report``."""

    template: ClassVar[str] = ""

    def render(self, document: Mapping[str, Any], env: Any) -> str:
        # From templating, not render: render imports this package for the contract,
        # and templating never imports it, so no import circle runs through here.
        from pdca.report.templating import render_template

        return render_template(env, self.template, document)


_EXPORTS = {
    "SCHEMA": ("pdca.report.context", "SCHEMA"),
    "Measured": ("pdca.report.context", "Measured"),
    "ReportError": ("pdca.report.context", "ReportError"),
    "build_document": ("pdca.report.context", "build_document"),
    "document_for": ("pdca.report.context", "document_for"),
    "load_document": ("pdca.report.context", "load_document"),
    "make_environment": ("pdca.report.templating", "make_environment"),
    "render_document": ("pdca.report.render", "render"),
    "render_template": ("pdca.report.templating", "render_template"),
    "write_report": ("pdca.report.render", "write_report"),
}

__all__ = sorted([*_EXPORTS, "Renderer", "TemplateRenderer"])


def __getattr__(name: str) -> Any:
    found = _EXPORTS.get(name)
    if found is None:
        raise AttributeError(f"module 'pdca.report' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(found[0]), found[1])
