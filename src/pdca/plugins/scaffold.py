"""``pdca plugins new NAME --kind KIND``: a plugin package that works before it is changed.

An integrator's first hour goes into the parts no tutorial repeats: the entry
point, the package layout, how tests reach pdca's fixtures. This writes them
for one kind (source, kpi, renderer, action), with a module that implements
the contract and tests that pass as written, into a new folder; it never
writes into a folder that has anything in it.
"""

from __future__ import annotations

import keyword
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from string import Template

from pdca.errors import PdcaError

NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*\Z")
KIND_NAMES = ("source", "kpi", "renderer", "action")


@dataclass(frozen=True)
class Names:
    """The names one plugin goes by: its distribution, module, registered name, class."""

    dist: str
    module: str
    name: str
    cls: str


def names_for(name: str) -> Names:
    """``pdca-survey``: module ``pdca_survey``, registered name ``survey``, class ``Survey``."""
    if not NAME.match(name) or len(name) > 60:
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise PdcaError(
            f"'{shown}' is not a plugin name: use lower-case letters and digits in words "
            "joined by '-', starting with a letter, e.g. pdca-survey"
        )
    base = name[len("pdca-") :] if name.startswith("pdca-") else name
    module = name.replace("-", "_")
    if keyword.iskeyword(module) or module in ("pdca", "test", "tests"):
        raise PdcaError(f"'{name}' would make a module named {module}; choose another name")
    cls = "".join(part.capitalize() for part in base.split("-"))
    return Names(dist=name, module=module, name=base.replace("-", "_"), cls=cls)


def package_files(kind: str, names: Names, pdca_version: str) -> dict[str, str]:
    """Every file of the package, by path relative to its folder."""
    from pdca.plugins import skeletons as sk

    words, module, tests = sk.KINDS[kind]
    fields = {
        "dist": names.dist,
        "module": names.module,
        "name": names.name,
        "cls": names.cls,
        "kind_words": words,
        "pdca_version": pdca_version,
    }
    fill = lambda text: Template(text).substitute(fields)  # noqa: E731
    fields["summary"] = f"A pdca {words}: '{names.name}'."
    fields["usage"] = fill(sk.USAGE[kind])
    return {
        "pyproject.toml": fill(sk.PYPROJECT),
        "README.md": fill(sk.README),
        ".gitignore": sk.GITIGNORE,
        f"src/{names.module}/__init__.py": fill(module),
        f"tests/test_{names.module}.py": fill(tests),
    }


def new_plugin(parent: Path, name: str, kind: str, pdca_version: str) -> tuple[Path, list[str]]:
    """Write the package into ``parent/NAME``; its folder and the files written.

    Written into a temporary folder beside it and renamed into place, so an
    error half-way (a full disk) leaves nothing behind, and an existing folder
    with anything in it is refused, never merged into.
    """
    if kind not in KIND_NAMES:
        raise PdcaError(f"unknown kind '{kind}': use one of {', '.join(KIND_NAMES)}")
    names = names_for(name)
    folder = parent / names.dist
    taken = folder.is_symlink() or (
        folder.exists() and (not folder.is_dir() or any(folder.iterdir()))
    )
    if taken:
        raise PdcaError(
            f"{folder} already exists; pdca plugins new writes only into a new (or empty) "
            "folder: choose another name or --dir"
        )
    files = package_files(kind, names, pdca_version)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{names.dist}-", dir=parent))
    except OSError as exc:
        raise PdcaError(f"cannot write into {parent}: {exc.strerror or exc}") from None
    try:
        for rel, text in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        os.chmod(tmp, 0o777 & ~_umask())
        if folder.is_dir():
            folder.rmdir()  # empty, checked above
        os.rename(tmp, folder)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise PdcaError(f"cannot write {folder}: {exc.strerror or exc}") from None
    return folder, list(files)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
