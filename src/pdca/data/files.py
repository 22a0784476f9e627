"""Reading CSV, JSON and Parquet files through DuckDB, with the Parquet cache for text files.

DuckDB types every column once (sniffing CSV and JSON); pdca only insists on
the timestamp column. With a cache folder, a text file is converted once to
Parquet with its timestamp already cast, so later checks neither parse the
text nor re-check the timestamps.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdca.data import stamps
from pdca.data.messages import excerpt, first_line, quoted, source_error
from pdca.data.sniff import explicit_scan
from pdca.data.sniff import scan_sql as scan_sql
from pdca.kpi import quote, sql_literal

if TYPE_CHECKING:
    import duckdb

    from pdca.data.base import SourceContext
    from pdca.data.cache import ParquetCache
    from pdca.errors import SourceError
    from pdca.playbook.model import Playbook, Source

CSV_ENCODINGS = ("utf-8", "utf-16", "latin-1")


def csv_arguments(options: Mapping[str, Any]) -> dict[str, Any]:
    """The playbook's csv options as ``read_csv`` named arguments."""
    names = {
        "delimiter": "delim",
        "header": "header",
        "encoding": "encoding",
        "skip": "skip",
        "null": "nullstr",
        "decimal_separator": "decimal_separator",
        "types": "types",
    }
    return {arg: options[key] for key, arg in names.items() if options.get(key) is not None}


def outside(source: Source) -> Path | None:
    """The resolved ``path`` when it leaves the playbook's folder without ``allow_outside``.

    Resolved first, links followed: a link inside the folder that leads out is
    out. Nothing is opened here, so a refused path is never read.
    """
    return None if source.path is None else leaves_folder(source, source.path)


class UnusablePath(ValueError):
    """A path no file can have (a NUL character) or that cannot be resolved (a link loop)."""


def resolved(path: Path) -> Path:
    """``path`` made absolute, links followed; :class:`UnusablePath` saying why not."""
    try:
        return path.resolve()
    except ValueError:
        raise UnusablePath("holds a NUL character, which no file name can") from None
    except (OSError, RuntimeError) as exc:
        raise UnusablePath(f"cannot be resolved ({excerpt(str(exc))})") from None


def leaves_folder(source: Source, path: Path) -> Path | None:
    """``path`` resolved, when it is outside the source's playbook folder and the source
    does not say ``allow_outside``; None when it may be read."""
    if source.allow_outside:
        return None
    out = resolved(path)
    return None if out.is_relative_to(source.base_dir.resolve()) else out


def check_inside(source: Source, path: Path, what: str, key: str) -> None:
    """SourceError at ``key`` when ``path`` (a file named by the source, ``what`` in
    messages) is unusable or leaves the playbook's folder without ``allow_outside``."""
    try:
        out = leaves_folder(source, path)
    except UnusablePath as exc:
        raise source_error(source, f"{what} {exc}", key) from None
    if out is not None:
        raise source_error(source, _outside_message(source, what), key)


def boundary_problems(source: Source) -> list[tuple[str | None, str]]:
    """``pdca validate``'s finding for a path out of bounds (see :func:`outside`)."""
    try:
        out = outside(source)
    except UnusablePath as exc:
        return [("path", f"'path' {quoted(str(source.options.get('path')))} {exc}")]
    return [] if out is None else [("path", _outside_message(source))]


def _outside_message(source: Source, what: str = "") -> str:
    what = what or f"'path' {quoted(str(source.options.get('path')))}"
    return (
        f"{what} is outside the playbook's folder "
        f"({excerpt(str(source.base_dir.resolve()))}): pdca reads only files under it; "
        "move the file into the folder, or add 'allow_outside: true' to the source "
        "if you trust this playbook"
    )


_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def existing_file(source: Source) -> Path:
    """The absolute path of the source's file, or an error saying where pdca looked.

    Refused before anything opens it: a path outside the playbook's folder (unless
    ``allow_outside``), and anything but a regular file. ``/dev/zero`` or a FIFO
    never ends, and DuckDB would read it until memory or patience ran out.
    """
    path = source.path
    raw = source.options.get("path")
    if path is None:
        raise source_error(source, f"needs a 'path' to the {source.type} file")
    shown = quoted(str(raw))
    check_inside(source, path, f"'path' {shown}", "path")
    path = resolved(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise source_error(
            source, f"file {shown} cannot be read ({exc.strerror or exc}); fix 'path'", "path"
        ) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise source_error(
            source, f"'path' {shown} is a folder ({path}); point it at a file", "path"
        )
    if mode is None:
        raise source_error(
            source,
            f"file {shown} not found (looked for {excerpt(str(path))}); fix 'path' "
            "(a relative path starts at the playbook's folder)",
            "path",
        )
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise source_error(
            source,
            f"'path' {shown} is {kind} ({excerpt(str(path))}), not a file; pdca reads only "
            "regular files: point 'path' at the export itself",
            "path",
        )
    return path


def allowed_paths(playbook: Playbook) -> list[str]:
    """The files DuckDB may open for ``playbook``: each source's ``path`` within bounds."""
    out = []
    for source in playbook.sources.values():
        try:
            if source.path is not None and outside(source) is None:
                out.append(str(resolved(source.path)))
        except UnusablePath:
            continue  # refused when the source is read
    return out


def confine(con: duckdb.DuckDBPyConnection, playbook: Playbook, cache_dir: Path | None) -> bool:
    """Let DuckDB open only the sources' files and the cache folder, for good.

    Defence in depth behind the vetted filters (:mod:`pdca.data.sqlfilter`): even
    SQL nobody foresaw cannot read ``/etc/passwd``, write a file, attach a
    database or install an extension. Once external access is off DuckDB itself
    refuses to turn it on again or to widen the allowed paths, so the rest of the
    configuration stays open (``lock_configuration`` would also stop a plugin or a
    test from setting the time zone). False with a DuckDB too old for
    ``allowed_paths``, which is then left as it was.
    """
    import duckdb

    folders = []
    if cache_dir is not None:
        folders = sorted({f"{Path(cache_dir)}{os.sep}", f"{Path(cache_dir).resolve()}{os.sep}"})
    try:
        con.execute(f"SET allowed_paths = {_list_sql(allowed_paths(playbook))}").fetchall()
        con.execute(f"SET allowed_directories = {_list_sql(folders)}").fetchall()
    except duckdb.Error:
        return False
    con.execute("SET enable_external_access = false").fetchall()
    return True


def _list_sql(items: list[str]) -> str:
    return "[" + ", ".join(sql_literal(item) for item in items) + "]::VARCHAR[]"


def unreadable(source: Source, reader: str, path: Path, exc: BaseException) -> SourceError:
    hint = ""
    text = str(exc)
    csv = reader == "read_csv"
    if csv and ("Conversion" in text or "CSV Error" in text or "sniff" in text):
        hint = (
            "; if a column's type was guessed from the first rows and a later row does not fit, "
            "set its type with the csv option 'types' (e.g. types: {ticket_id: VARCHAR})"
        )
    if csv and "encoding" in text.lower():
        hint = f"; set 'encoding' to one of {', '.join(CSV_ENCODINGS)}"
    kind = reader.removeprefix("read_")
    return source_error(source, f"cannot read {path} as {kind}: {first_line(exc)}{hint}", "path")


def file_relation(
    source: Source,
    ctx: SourceContext,
    reader: str,
    arguments: Mapping[str, Any],
    cacheable: bool,
) -> duckdb.DuckDBPyRelation:
    """The file's rows, timestamp cast; through the Parquet cache when there is one."""
    import duckdb

    path = existing_file(source)
    fmt = source.options.get(stamps.FORMAT_OPTION)
    scan = scan_sql(reader, path, arguments)
    if reader in ("read_csv", "read_json"):
        _refuse_empty(source, path, str(arguments.get("encoding", "")))
    try:
        cache = _cache(source, ctx, scan, fmt) if cacheable else None
        if cache is not None:
            entry = cache.lookup(path)
            if entry is not None:  # read once already: no text to parse, nothing to sniff
                ctx.columnar.add(source.id)
                return entry
        # the cache's key is the scan as the playbook asks for it; the file is read
        # with what a sniff found spelled out, so later binds do not sniff again
        bound = explicit_scan(ctx.con, path, arguments, scan) if reader == "read_csv" else scan
        try:
            rel = ctx.con.sql(f"SELECT * FROM {bound}")
        except duckdb.Error:
            if bound == scan:
                raise
            bound = scan  # what the sniff found does not bind: read with detection, as before
            rel = ctx.con.sql(f"SELECT * FROM {bound}")
        if reader == "read_csv" and "delim" not in arguments:
            _refuse_one_column(source, path, rel.columns, arguments)
        if cache is not None:
            cached = cache.store(path, rel, bound)
            if cached is not None:
                ctx.columnar.add(source.id)
                return cached
        if reader == "read_parquet":
            ctx.columnar.add(source.id)
        return stamps.with_timestamp(rel, source, fmt)
    except duckdb.Error as exc:
        raise unreadable(source, reader, path, exc) from None


def _refuse_empty(source: Source, path: Path, encoding: str = "") -> None:
    """An empty export is an error, not a file with one column called ``column0``; so is
    a text file holding NUL bytes (binary, or damaged), which DuckDB would read as one
    column named after the whole file."""
    with path.open("rb") as f:
        head = f.read(65536)
    utf16 = encoding.lower().startswith("utf-16") or head[:2] in (b"\xff\xfe", b"\xfe\xff")
    if b"\x00" in head and not utf16:
        offset = head.index(b"\x00")
        raise source_error(
            source,
            f"file {path.name} holds NUL bytes (the first at byte {offset:,}): it is not a "
            f"text {source.type} file; check the export that writes it (a UTF-16 file "
            "takes encoding: utf-16)",
            "path",
        )
    if head.strip(b" \t\r\n\xef\xbb\xbf") or len(head) == 65536:
        return
    what = "is empty (0 bytes)" if not head else "holds nothing but blank lines"
    raise source_error(
        source, f"file {path.name} {what}: no rows to read; check the export that writes it", "path"
    )


_DELIMITERS = (",", ";", "\t", "|")


def _refuse_one_column(
    source: Source, path: Path, columns: list[str], arguments: Mapping[str, Any]
) -> None:
    """DuckDB reads a CSV whose rows it cannot split as one column named after the header
    (``"ts,score"``); say why, instead of "no column 'ts' (available: ts,score)"."""
    if len(columns) != 1:
        return
    delim = next((d for d in _DELIMITERS if d in columns[0]), None)
    if delim is None:
        return
    where = _first_bad_row(path, delim, str(arguments.get("encoding", "utf-8")))
    raise source_error(
        source,
        f"cannot split the rows of {path.name} into columns (it reads as one column "
        f"{_cut(columns[0])!r}){where}; fix the file, or set 'delimiter' if it is "
        "not the separator",
        "path",
    )


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _first_bad_row(path: Path, delim: str, encoding: str) -> str:
    """``": line 3 has 4 fields, the header 2"`` for the first row that does not fit."""
    import csv

    line = 1
    try:
        with path.open(newline="", encoding=encoding, errors="replace") as f:
            rows = csv.reader(f, delimiter=delim, strict=True)
            header = next(rows, [])
            for _ in range(1_000_000):
                line = rows.line_num + 1  # where the next row starts
                row = next(rows, None)
                if row is None:
                    break
                if len(row) != len(header):
                    return f": line {line} has {len(row)} fields, the header {len(header)}"
    except csv.Error as exc:
        return f": the row starting on line {line} does not parse ({exc}; a quote left open?)"
    except (OSError, LookupError):
        pass
    return ""


@dataclass(frozen=True)
class _Cached:
    """The Parquet cache as one source's file uses it: where, and the key's parameters."""

    source: Source
    con: duckdb.DuckDBPyConnection
    cache: ParquetCache
    params: Mapping[str, Any]
    fmt: str | None

    def _count_rows(self, entry: Path) -> int | None:
        import duckdb

        try:
            sql = f"SELECT num_rows FROM parquet_file_metadata({sql_literal(str(entry))})"
            return int(self.con.execute(sql).fetchall()[0][0])
        except (duckdb.Error, IndexError, TypeError, ValueError):
            return None

    def lookup(self, path: Path) -> duckdb.DuckDBPyRelation | None:
        """The verified copy of ``path`` as a relation; None when there is none."""
        import duckdb

        entry = self.cache.lookup(path, self.params, self._count_rows)
        if entry is None:
            return None
        try:
            return self.con.sql(f"SELECT * FROM read_parquet({sql_literal(str(entry))})")
        except duckdb.Error:
            entry.unlink(missing_ok=True)  # damaged entry (disk full, killed copy): rebuild it
            return None

    def store(
        self, path: Path, rel: duckdb.DuckDBPyRelation, scan: str
    ) -> duckdb.DuckDBPyRelation | None:
        """Copy the rows ``scan`` reads into a new entry; None when it cannot be written."""
        import duckdb

        source, fmt = self.source, self.fmt
        expr = stamps.timestamp_cast(rel, source, fmt)
        select = "*"
        if expr is not None and source.timestamp is not None:
            select = f"* REPLACE ({expr} AS {quote(source.timestamp)})"

        def write(temp: Path) -> int:
            try:
                (rows,) = self.con.execute(
                    f"COPY (SELECT {select} FROM {scan}) TO {sql_literal(str(temp))} "
                    "(FORMAT parquet, COMPRESSION zstd)"
                ).fetchall()[0]
                return int(rows)
            except duckdb.IOException as exc:  # a full disk: the caller reads the file itself
                raise OSError(first_line(exc)) from None
            except duckdb.ConversionException:
                problem = stamps.first_bad_value(rel, source, fmt)
                if problem is not None:
                    raise problem from None
                raise

        entry = self.cache.store(path, self.params, write)
        if entry is None:
            return None
        return self.con.sql(f"SELECT * FROM read_parquet({sql_literal(str(entry))})")


def _cache(source: Source, ctx: SourceContext, scan: str, fmt: str | None) -> _Cached | None:
    """The cache for this source's file, or None when the check has no cache folder."""
    import duckdb

    from pdca.data.cache import ParquetCache

    if ctx.cache_dir is None:
        return None
    params = {
        "scan": scan,
        "timestamp": source.timestamp,
        "format": fmt,
        "duckdb": duckdb.__version__,
        "cast": stamps.CAST_VERSION,
        # zoned times are converted to the machine's zone: a copy made in another is stale
        "zone": ctx.con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0],
    }
    return _Cached(source, ctx.con, ParquetCache(ctx.cache_dir), params, fmt)
