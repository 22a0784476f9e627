"""Writing generated values as file columns, the same bytes on every OS.

The committed example data is compared byte for byte with a fresh run, so the
text form of every value (timestamps, decimals, yes/no flags) and the CSV
dialect are fixed here in one place.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def iso(ts: np.ndarray) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS`` text, the way most ticketing exports write timestamps."""
    return [s.replace("T", " ") for s in np.datetime_as_string(ts, unit="s")]


def write_csv(path: Path, header: Sequence[str], columns: Sequence[Sequence[Any]]) -> Path:
    """Plain CSV (``\\n`` line ends, minimal quoting) so files are identical on every OS."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(zip(*columns, strict=True))
    return path


def decimals(values: np.ndarray, digits: int = 1) -> list[str]:
    """Numbers with a fixed count of decimals, never ``1e-05`` or ``0.30000000000000004``."""
    return [f"{v:.{digits}f}" for v in values]


def yes_no(values: np.ndarray) -> list[str]:
    """Flags as ``yes``/``no`` text, which the ``rate`` KPI reads as readily as a person does."""
    return ["yes" if v else "no" for v in values]
