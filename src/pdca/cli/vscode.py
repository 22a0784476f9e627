"""``pdca schema --vscode``: point VS Code's YAML extension at pdca's schema.

SchemaStore maps every ``playbook.yaml`` to Ansible's schema, and VS Code's YAML
extension applies SchemaStore unless the workspace says otherwise, so a pdca
playbook opened there shows errors that are not errors. The workspace's
``yaml.schemas`` setting takes precedence over SchemaStore: this writes pdca's
schema into ``.vscode/`` and maps the playbooks found below the folder to it,
keeping every other setting of ``.vscode/settings.json`` as it was.

VS Code allows comments and trailing commas in settings; rewriting such a file
through a JSON parser would drop them, so a file that is not plain JSON is left
alone, with the lines to add by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pdca.errors import PdcaError

SETTINGS = Path(".vscode") / "settings.json"
SCHEMA = Path(".vscode") / "pdca-playbook.schema.json"
ANY_PDCA_YAML = "**/*.pdca.yaml"
"""Always mapped: the name is pdca's own, so no other tool's file is claimed."""


class SettingsRefused(PdcaError):
    """The settings file cannot be rewritten safely; ``entry`` is what to add by hand."""

    def __init__(self, message: str, entry: str):
        super().__init__(message)
        self.entry = entry


@dataclass(frozen=True)
class Written:
    """What ``--vscode`` wrote: the files, and the globs now mapped to the schema."""

    settings: Path
    schema: Path
    patterns: tuple[str, ...]
    playbooks: int


def patterns_for(root: Path, playbooks: list[Path]) -> list[str]:
    """Globs for the settings: each ``playbook.yaml`` found by its own path (a glob
    like ``**/playbook.yaml`` would claim Ansible's playbooks too), and ``*.pdca.yaml``.

    The YAML extension matches a glob against the end of a file's path, so each
    starts with ``/``: ``/a/playbook.yaml`` cannot match ``.../xa/playbook.yaml``.
    """
    out = []
    for path in playbooks:
        if not path.name.endswith(".pdca.yaml"):
            out.append("/" + path.relative_to(root).as_posix())
    return [*out, ANY_PDCA_YAML]


def _read_settings(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise PdcaError(f"{path}: cannot read: {why or exc}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PdcaError(
            f"{path}:{exc.lineno}:{exc.colno}: error: not plain JSON ({exc.msg}); VS Code "
            "allows comments and trailing commas here, which rewriting would lose, so pdca "
            "leaves the file as it is: add the yaml.schemas entry below yourself, or remove "
            "the comments and run again"
        ) from None
    if not isinstance(data, dict):
        raise PdcaError(f"{path}:1:1: error: settings must be a JSON object {{...}}")
    return data


def merged(settings: dict[str, Any], schema_ref: str, patterns: list[str], where: Path) -> dict:
    """The settings with ``yaml.schemas[schema_ref]`` holding ``patterns`` (and any globs
    the user had added there); every other key and mapping is kept, in its order."""
    schemas = settings.get("yaml.schemas", {})
    if not isinstance(schemas, dict):
        raise PdcaError(
            f"{where}:1:1: error: 'yaml.schemas' must be an object mapping schemas to globs"
        )
    before = schemas.get(schema_ref, [])
    before = [before] if isinstance(before, str) else before
    if not isinstance(before, list) or not all(isinstance(g, str) for g in before):
        raise PdcaError(
            f"{where}:1:1: error: 'yaml.schemas' maps {schema_ref} to something other than "
            "globs; make it a list of globs or remove it"
        )
    globs = list(dict.fromkeys([*before, *patterns]))
    return {**settings, "yaml.schemas": {**schemas, schema_ref: globs}}


def manual_entry(patterns: list[str]) -> str:
    """The lines to add by hand when the settings file cannot be rewritten."""
    body = json.dumps({"yaml.schemas": {f"./{SCHEMA.as_posix()}": patterns}}, indent=4)
    return body


def write_vscode(root: Path, schema_text: str) -> Written:
    """Write the schema and merge the mapping into ``root/.vscode/settings.json``.

    The settings are read first and refused before anything is written, so a
    refusal leaves the folder unchanged.
    """
    from pdca.playbook.paths import find_playbooks
    from pdca.state.files import write_atomically

    if not root.is_dir():
        raise PdcaError(f"{root}: not a folder; give --vscode the workspace folder")
    playbooks = find_playbooks(root)
    patterns = patterns_for(root, playbooks)
    settings_path, schema_path = root / SETTINGS, root / SCHEMA
    try:
        settings = _read_settings(settings_path)
        new = merged(settings, f"./{SCHEMA.as_posix()}", patterns, settings_path)
    except PdcaError as exc:
        raise SettingsRefused(str(exc), manual_entry(patterns)) from None
    try:
        (root / ".vscode").mkdir(exist_ok=True)
        write_atomically(schema_path, schema_text.encode("utf-8"))
        text = json.dumps(new, indent=4, ensure_ascii=False) + "\n"
        write_atomically(settings_path, text.encode("utf-8"))
    except OSError as exc:
        raise PdcaError(f"cannot write {root / '.vscode'}: {exc.strerror or exc}") from None
    return Written(settings_path, schema_path, tuple(patterns), len(playbooks))
