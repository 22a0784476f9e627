"""pdca-excel: an ``xlsx`` source type, because managers keep survey results in spreadsheets.

One sheet of a workbook becomes one table: the ``header_row`` names the
columns (rows above it, such as a report title, are skipped), every non-blank
row below it is a row of data. Cells keep Excel's types: numbers stay
numbers, date cells become timestamps, so the source's ``timestamp`` column
usually needs no ``timestamp_format`` at all.

openpyxl and pyarrow are imported when a sheet is read, not when pdca loads
the plugin, so ``pdca --help`` does not pay for them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from pdca import hookimpl
from pdca.data.base import DataRequest, OptionProblem, SourceContext, SourceType
from pdca.data.files import existing_file
from pdca.data.messages import source_error
from pdca.data.stamps import FORMAT_DOC, FORMAT_OPTION, with_timestamp

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from pdca.playbook.model import Source

__version__ = "0.1.0"


class XlsxSource(SourceType):
    """A sheet of an Excel workbook, read with openpyxl."""

    name = "xlsx"
    summary = "A sheet of an Excel workbook (.xlsx, .xlsm): header row, typed cells, via openpyxl"
    required = ("path",)
    option_docs: ClassVar[Mapping[str, str]] = {
        "path": "the workbook; a relative path starts at the playbook's folder",
        "sheet": "the sheet's name, or its position from 1 (default: the first sheet)",
        "header_row": "the row that names the columns, from 1 (default 1); rows above are skipped",
        FORMAT_OPTION: FORMAT_DOC + "; only for dates typed as text, date cells need nothing",
    }

    def check(self, source: Source) -> list[OptionProblem]:
        problems = super().check(source)
        sheet = source.options.get("sheet")
        if sheet is not None and not (
            (isinstance(sheet, str) and sheet.strip())
            or (isinstance(sheet, int) and not isinstance(sheet, bool) and sheet >= 1)
        ):
            problems.append(("sheet", "sheet must be a sheet's name or its position from 1"))
        header = source.options.get("header_row")
        if header is not None and (
            isinstance(header, bool) or not isinstance(header, int) or header < 1
        ):
            problems.append(("header_row", "header_row must be a row number from 1"))
        return problems

    def relation(
        self, source: Source, request: DataRequest, ctx: SourceContext
    ) -> duckdb.DuckDBPyRelation:
        table = read_sheet(source)
        return with_timestamp(ctx.con.from_arrow(table), source, source.options.get(FORMAT_OPTION))


def read_sheet(source: Source) -> pa.Table:
    """The sheet as an Arrow table: one column per header cell, one row per non-blank row."""
    import zipfile

    import openpyxl
    import pyarrow as pa
    from openpyxl.utils.exceptions import InvalidFileException

    path = existing_file(source)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise source_error(
            source,
            f"cannot read {path} as an Excel workbook ({type(exc).__name__}: {exc}); "
            "save it from Excel as .xlsx (Excel 2007 or later; .xls and .csv are other formats)",
            "path",
        ) from None
    try:
        sheet = pick_sheet(source, workbook)
        header_row = int(source.options.get("header_row", 1))
        rows = sheet.iter_rows(min_row=header_row, values_only=True)
        header = next(rows, None)
        if header is None or all(blank(v) for v in header):
            raise source_error(
                source,
                f"row {header_row} of sheet '{sheet.title}' is empty, so it names no columns; "
                "set 'header_row' to the row with the column names",
                "header_row" if "header_row" in source.options else None,
            )
        names = column_names(header)
        columns: list[list[Any]] = [[] for _ in names]
        for row in rows:
            if all(blank(v) for v in row):
                continue  # spreadsheets have blank separator rows; they are not data
            for i, column in enumerate(columns):
                column.append(cell_value(row[i]) if i < len(row) else None)
    finally:
        workbook.close()
    return pa.Table.from_arrays([arrow_column(c) for c in columns], names=names)


def pick_sheet(source: Source, workbook: Any) -> Any:
    sheets = workbook.worksheets
    titles = [s.title for s in sheets]
    wanted = source.options.get("sheet")
    if wanted is None:
        return sheets[0]
    if isinstance(wanted, int):
        if wanted > len(sheets):
            raise source_error(
                source,
                f"sheet {wanted} does not exist: the workbook has {len(sheets)} "
                f"({', '.join(titles)})",
                "sheet",
            )
        return sheets[wanted - 1]
    if wanted in titles:
        return sheets[titles.index(wanted)]
    lowered = {t.lower().strip(): t for t in titles}
    close = lowered.get(str(wanted).lower().strip()) or next(
        iter(difflib.get_close_matches(str(wanted), titles, n=1, cutoff=0.6)), None
    )
    hint = f"; did you mean '{close}'?" if close else ""
    raise source_error(
        source, f"the workbook has no sheet '{wanted}' (sheets: {', '.join(titles)}){hint}", "sheet"
    )


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def column_names(header: Sequence[Any]) -> list[str]:
    """Names from the header cells: trailing empty cells dropped, gaps and repeats named.

    DuckDB compares column names without case, so ``Score`` and ``score`` are
    a repeat too; the second becomes ``score_2``. An empty header cell with
    data below it becomes ``column_C`` after its Excel column letter.
    """
    from openpyxl.utils import get_column_letter

    cells = list(header)
    while cells and blank(cells[-1]):
        cells.pop()
    names: list[str] = []
    taken: set[str] = set()
    for i, cell in enumerate(cells):
        if blank(cell):
            name = f"column_{get_column_letter(i + 1)}"
        elif isinstance(cell, datetime):
            name = cell.date().isoformat() if cell.time() == time() else cell.isoformat(" ")
        elif isinstance(cell, date):
            name = cell.isoformat()
        else:
            name = str(cell).strip()
        unique, n = name, 1
        while unique.lower() in taken:
            n += 1
            unique = f"{name}_{n}"
        taken.add(unique.lower())
        names.append(unique)
    return names


def cell_value(value: Any) -> Any:
    """A cell as Arrow should see it; durations ([h]:mm cells) become seconds."""
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, datetime | date):
        return "datetime"
    return "text"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 4.0 typed in a text column reads as "4", as Excel shows it
    return str(value)


def arrow_column(values: list[Any]) -> pa.Array:
    """One column, typed by its cells: numbers, booleans, timestamps, or text for a mix."""
    import pyarrow as pa

    kinds = {_kind(v) for v in values if v is not None}
    if kinds == {"bool"}:
        return pa.array(values, pa.bool_())
    if kinds == {"int"}:
        return pa.array(values, pa.int64())
    if kinds and kinds <= {"int", "float"}:
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if kinds == {"datetime"}:
        stamps = [
            v if v is None or isinstance(v, datetime) else datetime.combine(v, time())
            for v in values
        ]
        return pa.array(stamps, pa.timestamp("us"))
    return pa.array([_text(v) for v in values], pa.string())


@hookimpl
def pdca_register_source_types(register: Callable[[SourceType], None]) -> None:
    register(XlsxSource())
