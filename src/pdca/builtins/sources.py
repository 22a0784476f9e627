"""The built-in source types: csv, json, parquet, sqlite and sql.

Registered through the same hook as any third-party plugin. This module is
imported by every ``pdca`` command, ``--help`` included, so it holds only the
option descriptions; DuckDB, pyarrow, sqlite3 and SQLAlchemy load inside the
methods that read data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pdca import hookimpl
from pdca.data.base import DataRequest, OptionProblem, SourceContext, SourceType
from pdca.data.stamps import FORMAT_DOC, FORMAT_OPTION

if TYPE_CHECKING:
    import duckdb

    from pdca.playbook.model import Source

CSV_ENCODINGS = ("utf-8", "utf-16", "latin-1")
PATH_DOC = (
    "the file to read; a relative path starts at the playbook's folder, which the file "
    "must be in unless the source sets allow_outside: true"
)


class FileSource(SourceType):
    """A file DuckDB reads itself; text formats go through the Parquet cache."""

    required = ("path",)
    #: the DuckDB table function that reads the format
    reader = ""
    cacheable = False

    def read_arguments(self, source: Source) -> dict[str, Any]:
        return {}

    def check(self, source: Source) -> list[OptionProblem]:
        from pdca.data.files import boundary_problems

        return super().check(source) + boundary_problems(source)

    def relation(
        self, source: Source, request: DataRequest, ctx: SourceContext
    ) -> duckdb.DuckDBPyRelation:
        from pdca.data.files import file_relation

        args = self.read_arguments(source)
        return file_relation(source, ctx, self.reader, args, self.cacheable)


class CsvSource(FileSource):
    name = "csv"
    reader = "read_csv"
    summary = "A CSV file (any delimiter, header optional), typed by DuckDB, cached as Parquet"
    cacheable = True
    option_docs: ClassVar[Mapping[str, str]] = {
        "path": PATH_DOC,
        "delimiter": "column separator, e.g. ';' or '\\t' (default: detected)",
        "header": "true when the first line names the columns (default: detected)",
        "encoding": f"text encoding: {', '.join(CSV_ENCODINGS)} (default utf-8; a BOM is skipped)",
        "skip": "number of lines to skip before the header (default 0)",
        "null": "text that means 'no value', e.g. 'NA' or '-' (default: empty field)",
        "decimal_separator": "',' for numbers written 3,5 (default '.')",
        "types": "column types DuckDB should not guess, e.g. {ticket_id: VARCHAR, score: DOUBLE}",
        FORMAT_OPTION: FORMAT_DOC,
    }

    def read_arguments(self, source: Source) -> dict[str, Any]:
        from pdca.data.files import csv_arguments

        return csv_arguments(source.options)

    def check(self, source: Source) -> list[OptionProblem]:
        problems = super().check(source)
        opts = source.options
        if "encoding" in opts and str(opts["encoding"]).lower() not in CSV_ENCODINGS:
            problems.append(("encoding", f"encoding must be one of {', '.join(CSV_ENCODINGS)}"))
        if "header" in opts and not isinstance(opts["header"], bool):
            problems.append(("header", "header must be true or false"))
        if "skip" in opts and (not isinstance(opts["skip"], int) or opts["skip"] < 0):
            problems.append(("skip", "skip must be a whole number, 0 or more"))
        for key in ("delimiter", "null", "decimal_separator"):
            if key in opts and (not isinstance(opts[key], str) or not opts[key]):
                problems.append((key, f"{key} must be non-empty text"))
        if "types" in opts and not isinstance(opts["types"], Mapping):
            problems.append(("types", "types must map column names to DuckDB types"))
        return problems


class JsonSource(FileSource):
    name = "json"
    reader = "read_json"
    summary = "A JSON file: an array of objects or one object per line (NDJSON), detected"
    cacheable = True
    option_docs: ClassVar[Mapping[str, str]] = {"path": PATH_DOC, FORMAT_OPTION: FORMAT_DOC}


class ParquetSource(FileSource):
    name = "parquet"
    reader = "read_parquet"
    summary = "A Parquet file, read in place (only the needed columns and row groups)"
    option_docs: ClassVar[Mapping[str, str]] = {"path": PATH_DOC, FORMAT_OPTION: FORMAT_DOC}


class DatabaseSource(SourceType):
    """A database that receives the metric's columns, time range and filter in its query."""

    pushdown = True

    def backend(self, source: Source) -> Any:
        raise NotImplementedError

    def check(self, source: Source) -> list[OptionProblem]:
        from pdca.data.databases import option_problems

        return super().check(source) + option_problems(source.options)

    def relation(
        self, source: Source, request: DataRequest, ctx: SourceContext
    ) -> duckdb.DuckDBPyRelation:
        from pdca.data.databases import database_relation

        return self._with_backend(source, lambda b: database_relation(b, request, ctx), ctx)

    def newest(self, source: Source, request: DataRequest, ctx: SourceContext) -> datetime | None:
        from pdca.data.databases import newest_before

        return self._with_backend(source, lambda b: newest_before(b, request, ctx), ctx)

    def aggregate(
        self, source: Source, wanted: Sequence[Any], ctx: SourceContext
    ) -> Mapping[str, Any]:
        from pdca.data.dialects import duckdb_zone
        from pdca.data.pushdown import compute

        # instants are compared in DuckDB's zone, as rows read into DuckDB are
        zone = duckdb_zone(ctx.con)
        return self._with_backend(source, lambda b: compute(b, wanted, zone), ctx)

    def columns(self, source: Source, ctx: SourceContext) -> list[str]:
        from pdca.data.databases import database_columns

        return self._with_backend(source, database_columns)

    def _with_backend(
        self, source: Source, use: Callable[[Any], Any], ctx: SourceContext | None = None
    ) -> Any:
        from pdca.data.dialects import duckdb_zone

        backend = self.backend(source)
        try:
            if ctx is not None:
                backend.use_zone(duckdb_zone(ctx.con))
            return use(backend)
        finally:
            backend.close()


class SqliteSource(DatabaseSource):
    name = "sqlite"
    summary = "A SQLite database file (read-only); the metric's rows are selected in SQLite"
    required = ("path",)
    option_docs: ClassVar[Mapping[str, str]] = {
        "path": "the database file; a relative path starts at the playbook's folder",
        "table": "table or view to read (or give 'query')",
        "query": "a SELECT whose result is read as a table (or give 'table')",
        FORMAT_OPTION: FORMAT_DOC,
    }

    def check(self, source: Source) -> list[OptionProblem]:
        from pdca.data.files import boundary_problems

        return super().check(source) + boundary_problems(source)

    def backend(self, source: Source) -> Any:
        from pdca.data.databases import SqliteBackend
        from pdca.data.files import existing_file

        return SqliteBackend(source, existing_file(source))


class SqlSource(DatabaseSource):
    name = "sql"
    summary = "Any database with a SQLAlchemy URL (PostgreSQL, MySQL ...); rows selected there"
    option_docs: ClassVar[Mapping[str, str]] = {
        "url": "SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db (prefer url_env)",
        "url_env": "environment variable holding the URL, so secrets stay out of playbooks",
        "table": "table or view to read, 'schema.table' allowed (or give 'query')",
        "query": "a SELECT whose result is read as a table (or give 'table')",
        FORMAT_OPTION: FORMAT_DOC,
    }

    def check(self, source: Source) -> list[OptionProblem]:
        from pdca.data.databases import ENV_NAME

        problems = super().check(source)
        url, env = source.options.get("url"), source.options.get("url_env")
        if url and env:
            problems.append(("url_env", "give either 'url' or 'url_env', not both"))
        elif not url and not env:
            problems.append((None, "needs 'url_env' (a variable holding the URL) or 'url'"))
        elif env and not ENV_NAME.match(str(env)):
            problems.append(("url_env", f"'{env}' is not an environment variable name"))
        return problems

    def backend(self, source: Source) -> Any:
        from pdca.data.databases import SqlAlchemyBackend

        return SqlAlchemyBackend(source)


BUILTIN_SOURCE_TYPES: tuple[type[SourceType], ...] = (
    CsvSource,
    JsonSource,
    ParquetSource,
    SqliteSource,
    SqlSource,
)


@hookimpl
def pdca_register_source_types(register: Callable[[SourceType], None]) -> None:
    for cls in BUILTIN_SOURCE_TYPES:
        register(cls())
