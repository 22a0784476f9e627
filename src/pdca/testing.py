"""pytest fixtures for pdca and for plugin authors (loaded through the ``pytest11`` entry point).

Fixtures build real things (files on disk, plugin managers, CLI runs) so plugin
tests exercise the same paths users do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def write_playbook(folder: Path, text: str, name: str = "playbook.yaml") -> Path:
    """Write playbook YAML (dedented) into ``folder`` and return its path."""
    import textwrap

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def playbook_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a playbook into the test's temporary folder: ``playbook_file(yaml_text)``."""

    def make(text: str, name: str = "playbook.yaml", **files: Any) -> Path:
        for rel, content in files.items():
            target = tmp_path / rel.replace("__", "/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        return write_playbook(tmp_path, text, name)

    return make
