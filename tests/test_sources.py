"""The built-in source types against real files, a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from pdca.data.base import DataRequest, SourceContext
from pdca.errors import Location, SourceError
from pdca.playbook.model import Source
from pdca.plugins import build_registry, get_plugin_manager

PB = "playbook.yaml"
SOURCE_LOC = Location(PB, 4, 3)
OPTION_LOCS = {
    "type": Location(PB, 5, 11),
    "path": Location(PB, 6, 11),
    "timestamp": Location(PB, 7, 16),
    "table": Location(PB, 8, 12),
    "query": Location(PB, 8, 12),
    "url": Location(PB, 9, 10),
    "url_env": Location(PB, 9, 14),
}

TICKETS_CSV = (
    "id,created,score,team\n"
    "1,2024-01-05 10:00:00,9,a\n"
    "2,2024-01-20T16:30:00,7,b\n"
    "3,2024-02-03,5,a\n"
)


@pytest.fixture(scope="module")
def types() -> dict[str, Any]:
    registry = build_registry(get_plugin_manager(entry_points=False))
    return {name: reg.obj for name, reg in registry.source_types.items()}


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[SourceContext]:
    con = duckdb.connect()
    yield SourceContext(con, None)
    con.close()


def make(tmp_path: Path, type_: str, timestamp: str | None = "created", **options: Any) -> Source:
    return Source(
        id="tickets",
        type=type_,
        options=options,
        timestamp=timestamp,
        base_dir=tmp_path,
        loc=SOURCE_LOC,
        locs=OPTION_LOCS,
    )


def rows(rel: duckdb.DuckDBPyRelation, order: str = "id") -> list[tuple[Any, ...]]:
    return rel.order(order).fetchall()


def col_types(rel: duckdb.DuckDBPyRelation) -> dict[str, str]:
    return {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True)}


def read(types: dict[str, Any], source: Source, ctx: SourceContext, **request: Any) -> Any:
    return types[source.type].relation(source, DataRequest(**request), ctx)


EXPECTED = [
    (1, datetime(2024, 1, 5, 10, 0), 9, "a"),
    (2, datetime(2024, 1, 20, 16, 30), 7, "b"),
    (3, datetime(2024, 2, 3, 0, 0), 5, "a"),
]


# -- registration ----------------------------------------------------------------------------
def test_builtin_types_are_registered_with_documented_options(types: dict[str, Any]) -> None:
    assert sorted(types) == ["csv", "json", "parquet", "sql", "sqlite"]
    assert set(types["csv"].option_docs) == {
        "path", "delimiter", "header", "encoding", "skip", "null",
        "decimal_separator", "types", "timestamp_format",
    }  # fmt: skip
    assert set(types["sql"].option_docs) == {"url", "url_env", "table", "query", "timestamp_format"}
    assert set(types["sqlite"].option_docs) == {"path", "table", "query", "timestamp_format"}
    assert [t.pushdown for t in (types["csv"], types["sqlite"], types["sql"])] == [
        False,
        True,
        True,
    ]
    assert all(t.summary for t in types.values())


def test_importing_the_builtins_loads_no_database_library() -> None:
    code = (
        "import sys, pdca.builtins.sources; "
        "heavy = ('duckdb', 'pyarrow', 'sqlalchemy', 'sqlite3'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_option_checks(tmp_path: Path, types: dict[str, Any]) -> None:
    csv_problems = types["csv"].check(
        make(tmp_path, "csv", path="a.csv", encoding="cp1252", skip=-1)
    )
    assert [k for k, _ in csv_problems] == ["encoding", "skip"]
    both = types["sqlite"].check(make(tmp_path, "sqlite", path="a.db", table="t", query="SELECT 1"))
    assert both == [("query", "give either 'table' or 'query', not both")]
    neither = types["sql"].check(make(tmp_path, "sql", table="t"))
    assert neither == [(None, "needs 'url_env' (a variable holding the URL) or 'url'")]
    bad_env = types["sql"].check(make(tmp_path, "sql", url_env="MY-URL", table="t"))
    assert bad_env == [("url_env", "'MY-URL' is not an environment variable name")]
    unknown = types["json"].check(make(tmp_path, "json", path="a.json", delimiter=";"))
    assert unknown == [("delimiter", "source type 'json' has no option 'delimiter' (known: path, "
                        "timestamp_format)")]  # fmt: skip


# -- files ---------------------------------------------------------------------------------
def test_csv_with_bom_mixed_iso_timestamps(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    (tmp_path / "t.csv").write_bytes(b"\xef\xbb\xbf" + TICKETS_CSV.encode())
    rel = read(types, make(tmp_path, "csv", path="t.csv"), ctx)
    assert rel.columns == ["id", "created", "score", "team"]
    assert col_types(rel)["created"] == "TIMESTAMP"
    assert rows(rel) == EXPECTED


def test_csv_options(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    text = (
        "export of 2024-02-01\nid;created;score;agent\n"
        "1;05/01/2024 10:00;9,5;José\n2;20/01/2024 16:30;NA;Zoë\n"
    )
    (tmp_path / "t.csv").write_bytes(text.encode("latin-1"))
    source = make(
        tmp_path, "csv", path="t.csv", delimiter=";", skip=1, header=True, encoding="latin-1",
        decimal_separator=",", null="NA", types={"id": "VARCHAR"},
        timestamp_format="%d/%m/%Y %H:%M",
    )  # fmt: skip
    rel = read(types, source, ctx)
    assert col_types(rel) == {
        "id": "VARCHAR", "created": "TIMESTAMP", "score": "DOUBLE", "agent": "VARCHAR",
    }  # fmt: skip
    assert rows(rel) == [
        ("1", datetime(2024, 1, 5, 10, 0), 9.5, "José"),
        ("2", datetime(2024, 1, 20, 16, 30), None, "Zoë"),
    ]


def test_json_array_and_ndjson_read_alike(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    records = [
        {"id": 1, "created": "2024-01-05 10:00:00", "score": 9, "team": "a"},
        {"id": 2, "created": "2024-01-20T16:30:00", "score": 7, "team": "b"},
        {"id": 3, "created": "2024-02-03", "score": 5, "team": "a"},
    ]
    (tmp_path / "a.json").write_text(json.dumps(records, indent=2))
    (tmp_path / "b.ndjson").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    for name in ("a.json", "b.ndjson"):
        rel = read(types, make(tmp_path, "json", path=name), ctx)
        assert col_types(rel)["created"] == "TIMESTAMP"
        assert rows(rel) == EXPECTED


def test_parquet_with_text_and_typed_timestamps(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    pq.write_table(
        pa.table({"id": [1, 2], "created": ["2024-01-05 10:00:00", "2024-01-20"]}),
        tmp_path / "text.parquet",
    )
    pq.write_table(
        pa.table({"id": [1, 2], "created": pa.array([date(2024, 1, 5), date(2024, 1, 20)])}),
        tmp_path / "dates.parquet",
    )
    text = read(types, make(tmp_path, "parquet", path="text.parquet"), ctx)
    dates = read(types, make(tmp_path, "parquet", path="dates.parquet"), ctx)
    assert col_types(text)["created"] == col_types(dates)["created"] == "TIMESTAMP"
    assert rows(text) == [(1, datetime(2024, 1, 5, 10, 0)), (2, datetime(2024, 1, 20))]
    assert rows(dates) == [(1, datetime(2024, 1, 5)), (2, datetime(2024, 1, 20))]


def test_source_without_timestamp_keeps_its_columns(
    tmp_path: Path, types: dict[str, Any], ctx
) -> None:
    (tmp_path / "t.csv").write_text("team,open\na,3\nb,4\n")
    rel = read(types, make(tmp_path, "csv", timestamp=None, path="t.csv"), ctx)
    assert rows(rel, "team") == [("a", 3), ("b", 4)]


# -- file errors -----------------------------------------------------------------------------
def test_missing_file(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    with pytest.raises(SourceError) as err:
        read(types, make(tmp_path, "csv", path="exports/tickets.csv"), ctx)
    assert str(err.value) == (
        f"playbook.yaml:6:11: source 'tickets': file 'exports/tickets.csv' not found (looked for "
        f"{tmp_path.resolve() / 'exports' / 'tickets.csv'}); fix 'path' (a relative path starts "
        "at the playbook's folder)"
    )


def test_folder_instead_of_file(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    (tmp_path / "exports").mkdir()
    expected = (
        r"^playbook.yaml:6:11: source 'tickets': 'path' 'exports' is a folder .*; point it at"
    )
    with pytest.raises(SourceError, match=expected + " a file$"):
        read(types, make(tmp_path, "json", path="exports"), ctx)


def test_unreadable_parquet(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    (tmp_path / "t.parquet").write_text("id,created\n1,2024-01-01\n")
    with pytest.raises(SourceError) as err:
        read(types, make(tmp_path, "parquet", path="t.parquet"), ctx)
    message = str(err.value)
    assert message.startswith(
        f"playbook.yaml:6:11: source 'tickets': cannot read {tmp_path.resolve() / 't.parquet'} "
        "as parquet: "
    )
    assert "Traceback" not in message and "LINE 1" not in message


@pytest.mark.parametrize("cache", [False, True])
def test_bad_timestamp_names_column_and_value(
    tmp_path: Path, types: dict[str, Any], cache: bool
) -> None:
    (tmp_path / "t.csv").write_text("id,created\n1,2024-01-05\n2,yesterday\n3,2024-01-07\n4,soon\n")
    con = duckdb.connect()
    cache_dir = tmp_path / "cache" if cache else None
    with pytest.raises(SourceError) as err:
        read(types, make(tmp_path, "csv", path="t.csv"), SourceContext(con, cache_dir))
    assert str(err.value).startswith(
        "playbook.yaml:7:16: source 'tickets': column 'created' (its 'timestamp') holds 2 values "
        "that are not timestamps, e.g. 'yesterday'; write them as ISO 8601"
    )
    if cache:
        assert list((tmp_path / "cache").iterdir()) == []  # no entry, no temp file left


def test_timestamp_format_mismatch(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    (tmp_path / "t.csv").write_text("id,created\n1,05/01/2024\n2,2024-01-06\n")
    source = make(tmp_path, "csv", path="t.csv", timestamp_format="%d/%m/%Y")
    with pytest.raises(SourceError) as err:
        read(types, source, ctx)
    assert str(err.value) == (
        "playbook.yaml:7:16: source 'tickets': column 'created' (its 'timestamp') holds a value "
        "that is not a timestamp, e.g. '2024-01-06'; the values must match 'timestamp_format' "
        "'%d/%m/%Y'"
    )


def test_missing_timestamp_column_lists_columns(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    (tmp_path / "t.csv").write_text("id,created_at,score\n1,2024-01-05,3\n")
    with pytest.raises(SourceError) as err:
        read(types, make(tmp_path, "csv", path="t.csv"), ctx)
    assert str(err.value) == (
        "playbook.yaml:7:16: source 'tickets': has no column 'created' to use as its 'timestamp' "
        "(available: id, created_at, score); did you mean 'created_at'?"
    )


def test_numeric_timestamp_column_is_refused(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    (tmp_path / "t.csv").write_text("id,created\n1,1704448800\n")
    expected = (
        r"^playbook.yaml:7:16: source 'tickets': column 'created' \(its 'timestamp'\) holds BIGINT "
        r"values, not dates or times"
    )
    with pytest.raises(SourceError, match=expected):
        read(types, make(tmp_path, "csv", path="t.csv"), ctx)


# -- the Parquet cache ------------------------------------------------------------------------
def cache_entries(folder: Path) -> list[Path]:
    """The Parquet entries; each has a JSON manifest beside it."""
    entries = sorted(folder.glob("*.parquet"))
    assert sorted(folder.glob("*.json")) == [e.with_suffix(".json") for e in entries]
    return entries


def test_cache_is_used_until_the_file_changes(tmp_path: Path, types: dict[str, Any]) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("id,created,score\n1,2024-01-05,9\n")
    cache = tmp_path / "cache"
    source = make(tmp_path, "csv", path="t.csv")
    con = duckdb.connect()
    ctx = SourceContext(con, cache)

    assert rows(read(types, source, ctx)) == [(1, datetime(2024, 1, 5), 9)]
    (entry,) = cache_entries(cache)
    assert entry.suffix == ".parquet"
    assert pq.read_table(entry).schema.field("created").type == pa.timestamp("us")

    # unchanged: the cache answers
    assert rows(read(types, source, ctx)) == [(1, datetime(2024, 1, 5), 9)]
    assert cache_entries(cache) == [entry]

    # same size and modification time kept (cp -p, rsync -a): the new numbers, not the copy's
    stat = csv.stat()
    csv.write_text("id,created,score\n1,2024-01-05,8\n")
    os.utime(csv, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert csv.stat().st_size == stat.st_size
    assert rows(read(types, source, ctx)) == [(1, datetime(2024, 1, 5), 8)]
    (entry,) = cache_entries(cache)
    csv.write_text("id,created,score\n1,2024-01-05,7\n")
    os.utime(csv, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    # touching the file makes a new entry and removes the stale one
    os.utime(csv, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert rows(read(types, source, ctx)) == [(1, datetime(2024, 1, 5), 7)]
    (new_entry,) = cache_entries(cache)
    assert new_entry != entry


def test_cache_entry_depends_on_read_options(tmp_path: Path, types: dict[str, Any]) -> None:
    (tmp_path / "t.csv").write_text("id;created\n1;2024-01-05\n")
    cache = tmp_path / "cache"
    ctx = SourceContext(duckdb.connect(), cache)
    read(types, make(tmp_path, "csv", path="t.csv"), ctx)
    (first,) = cache_entries(cache)
    rel = read(
        types, make(tmp_path, "csv", path="t.csv", delimiter=";", types={"id": "VARCHAR"}), ctx
    )
    assert rows(rel) == [("1", datetime(2024, 1, 5))]
    (second,) = cache_entries(cache)
    assert second != first


def test_json_is_cached_and_parquet_is_not(tmp_path: Path, types: dict[str, Any]) -> None:
    (tmp_path / "t.json").write_text('[{"id": 1, "created": "2024-01-05"}]')
    pq.write_table(pa.table({"id": [1], "created": ["2024-01-05"]}), tmp_path / "t.parquet")
    cache = tmp_path / "cache"
    ctx = SourceContext(duckdb.connect(), cache)
    assert rows(read(types, make(tmp_path, "parquet", path="t.parquet"), ctx)) == [
        (1, datetime(2024, 1, 5))
    ]
    assert not cache.exists()
    assert rows(read(types, make(tmp_path, "json", path="t.json"), ctx)) == [
        (1, datetime(2024, 1, 5))
    ]
    assert len(cache_entries(cache)) == 1


def test_unwritable_cache_folder_falls_back_to_the_file(
    tmp_path: Path, types: dict[str, Any]
) -> None:
    (tmp_path / "t.csv").write_text("id,created\n1,2024-01-05\n")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    ctx = SourceContext(duckdb.connect(), blocker / "cache")
    assert rows(read(types, make(tmp_path, "csv", path="t.csv"), ctx)) == [
        (1, datetime(2024, 1, 5))
    ]


def test_damaged_cache_entry_is_rebuilt(tmp_path: Path, types: dict[str, Any]) -> None:
    (tmp_path / "t.csv").write_text("id,created\n1,2024-01-05\n")
    cache = tmp_path / "cache"
    ctx = SourceContext(duckdb.connect(), cache)
    source = make(tmp_path, "csv", path="t.csv")
    read(types, source, ctx)
    (entry,) = cache_entries(cache)
    entry.write_bytes(b"PAR1 truncated")
    assert rows(read(types, source, ctx)) == [(1, datetime(2024, 1, 5))]
    assert pq.read_table(entry).num_rows == 1


# -- SQLite ---------------------------------------------------------------------------------
INSIDE = [
    (1, "2024-01-01 00:00:00", 9, "a"),
    (2, "2024-01-15T12:30:00", 7, "b"),
    (3, "2024-01-31 23:59:59", 5, "a"),
    (4, "2024-01-20", 10, "a"),
]
OUTSIDE_ROWS = 5000


def tickets_db(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE tickets (id INTEGER, created TIMESTAMP, score INTEGER, team TEXT, note TEXT)"
    )
    con.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?, 'x')", INSIDE)
    outside = [
        (100 + i, f"2023-{1 + i % 12:02d}-{1 + i % 28:02d} 08:00:00", i % 11, "a")
        for i in range(OUTSIDE_ROWS)
    ]
    outside.append((99, "2024-02-01 00:00:00", 1, "a"))  # exactly at the end: outside
    con.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?, 'x')", outside)
    con.execute("CREATE VIEW team_a AS SELECT * FROM tickets WHERE team = 'a'")
    con.commit()
    con.close()
    return path


class CountingCursor:
    def __init__(self, cursor: sqlite3.Cursor, counter: dict[str, int]):
        self.cursor, self.counter = cursor, counter

    @property
    def description(self) -> Any:
        return self.cursor.description

    def fetchmany(self, size: int) -> list[Any]:
        batch = self.cursor.fetchmany(size)
        self.counter["rows"] += len(batch)
        return batch


class SpyConnection:
    """Wraps the driver's connection: records the SQL SQLite ran and counts rows fetched."""

    def __init__(self, con: sqlite3.Connection, log: list[str], counter: dict[str, int]):
        self.con, self.counter = con, counter
        con.set_trace_callback(log.append)

    def execute(self, sql: str, params: Any = ()) -> CountingCursor:
        return CountingCursor(self.con.execute(sql, params), self.counter)

    def close(self) -> None:
        self.con.close()


@pytest.fixture
def sqlite_spy(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], dict[str, int]]:
    log: list[str] = []
    counter = {"rows": 0}
    real = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        con = real(*args, **kwargs)
        # only pdca's connections (read-only URIs), not the ones tests use to make databases
        return SpyConnection(con, log, counter) if kwargs.get("uri") else con

    monkeypatch.setattr(sqlite3, "connect", connect)
    return log, counter


JANUARY = {"start": datetime(2024, 1, 1), "end": datetime(2024, 2, 1)}


def test_sqlite_pushes_columns_range_and_filter(
    tmp_path: Path, types: dict[str, Any], ctx, sqlite_spy
) -> None:
    log, counter = sqlite_spy
    tickets_db(tmp_path / "t.db")
    source = make(tmp_path, "sqlite", path="t.db", table="tickets")
    rel = read(types, source, ctx, columns=("score",), filter="team = 'a'", **JANUARY)
    assert rel.columns == ["score", "created"]
    assert col_types(rel)["created"] == "TIMESTAMP"
    assert rows(rel, "created") == [
        (9, datetime(2024, 1, 1)),
        (10, datetime(2024, 1, 20)),
        (5, datetime(2024, 1, 31, 23, 59, 59)),
    ]
    # text bounds reach two days past the window: offsets written in the text cannot
    # push a row of the window out; the exact bounds are applied to the instants after
    assert (
        'SELECT "score", "created" FROM "tickets" AS __pdca_src WHERE "created" >= '
        "'2023-12-30' AND \"created\" < '2024-02-03' AND (team = 'a')"
    ) in log
    # what SQLite sent back: the three rows, the one written at 2024-02-01 00:00 (inside
    # the text margin, outside the window once read), and one row probing the
    # timestamp's storage class
    assert counter["rows"] == 3 + 1 + 1
    assert not any("note" in sql for sql in log)


def test_sqlite_without_request_reads_everything(
    tmp_path: Path, types: dict[str, Any], ctx
) -> None:
    tickets_db(tmp_path / "t.db")
    rel = read(types, make(tmp_path, "sqlite", path="t.db", table="tickets"), ctx)
    assert rel.columns == ["id", "created", "score", "team", "note"]
    assert len(rel.fetchall()) == len(INSIDE) + OUTSIDE_ROWS + 1


def test_sqlite_bounds_inside_a_day_are_exact(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    tickets_db(tmp_path / "t.db")
    source = make(tmp_path, "sqlite", path="t.db", table="tickets")
    rel = read(
        types, source, ctx, columns=("id",),
        start=datetime(2024, 1, 15, 12, 30), end=datetime(2024, 1, 31, 23, 59, 59),
    )  # fmt: skip
    assert rows(rel) == [(2, datetime(2024, 1, 15, 12, 30)), (4, datetime(2024, 1, 20))]


def test_sqlite_query_is_wrapped_as_subquery(
    tmp_path: Path, types: dict[str, Any], ctx, sqlite_spy
) -> None:
    log, _ = sqlite_spy
    tickets_db(tmp_path / "t.db")
    query = "SELECT id, created, score * 10 AS points FROM tickets WHERE team = 'a';"
    source = make(tmp_path, "sqlite", path="t.db", query=query)
    rel = read(types, source, ctx, columns=("points",), **JANUARY)
    assert rows(rel, "created") == [
        (90, datetime(2024, 1, 1)),
        (100, datetime(2024, 1, 20)),
        (50, datetime(2024, 1, 31, 23, 59, 59)),
    ]
    assert (
        'SELECT "points", "created" FROM (SELECT id, created, score * 10 AS points FROM tickets '
        "WHERE team = 'a') AS __pdca_src WHERE \"created\" >= '2023-12-30' AND \"created\" < "
        "'2024-02-03'"
    ) in log


def test_sqlite_empty_window_keeps_column_types(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    tickets_db(tmp_path / "t.db")
    source = make(tmp_path, "sqlite", path="t.db", table="tickets")
    rel = read(types, source, ctx, columns=("score", "team"), start=datetime(2030, 1, 1))
    assert rel.fetchall() == []
    assert col_types(rel) == {"score": "BIGINT", "team": "VARCHAR", "created": "TIMESTAMP"}


def test_sqlite_mixed_column_becomes_text(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    con = sqlite3.connect(tmp_path / "m.db")
    con.execute("CREATE TABLE t (created TEXT, code)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [("2024-01-01", 1), ("2024-01-02", "A7")])
    con.commit()
    con.close()
    rel = read(types, make(tmp_path, "sqlite", path="m.db", table="t"), ctx)
    assert rows(rel, "created") == [(datetime(2024, 1, 1), "1"), (datetime(2024, 1, 2), "A7")]


def test_sqlite_missing_file_is_not_created(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    expected = r"^playbook.yaml:6:11: source 'tickets': file 'nope.db' not found \(looked for "
    with pytest.raises(SourceError, match=expected + r".*nope.db\); fix 'path'"):
        read(types, make(tmp_path, "sqlite", path="nope.db", table="tickets"), ctx)
    assert not (tmp_path / "nope.db").exists()


def test_sqlite_missing_table_lists_tables(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    tickets_db(tmp_path / "t.db")
    with pytest.raises(SourceError) as err:
        read(types, make(tmp_path, "sqlite", path="t.db", table="ticket"), ctx, **JANUARY)
    assert str(err.value) == (
        "playbook.yaml:8:12: source 'tickets': table 'ticket' not found in the database "
        "(tables: team_a, tickets); did you mean 'tickets'?; fix 'table'"
    )


def test_sqlite_not_a_database(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    (tmp_path / "t.db").write_text("id,created\n" * 200)
    expected = r"^playbook.yaml:6:11: source 'tickets': .*t.db is not a SQLite database"
    with pytest.raises(SourceError, match=expected):
        read(types, make(tmp_path, "sqlite", path="t.db", table="tickets"), ctx)


def test_sqlite_bad_query(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    tickets_db(tmp_path / "t.db")
    source = make(tmp_path, "sqlite", path="t.db", query="SELECT id, created, scor FROM tickets")
    with pytest.raises(SourceError) as err:
        read(types, source, ctx)
    assert str(err.value) == (
        "playbook.yaml:8:12: source 'tickets': the database refused the query: no such column: scor"
    )


def test_sqlite_epoch_timestamps_are_refused(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    con = sqlite3.connect(tmp_path / "e.db")
    con.execute("CREATE TABLE t (created INTEGER, score INTEGER)")
    con.execute("INSERT INTO t VALUES (1704448800, 3)")
    con.commit()
    con.close()
    expected = (
        r"^playbook.yaml:7:16: source 'tickets': column 'created' \(its 'timestamp'\) holds "
        r"integer values such as '1704448800', not ISO 8601 text; convert it in a 'query'"
    )
    with pytest.raises(SourceError, match=expected):
        read(types, make(tmp_path, "sqlite", path="e.db", table="t"), ctx, **JANUARY)


def test_sqlite_columns(tmp_path: Path, types: dict[str, Any], ctx, sqlite_spy) -> None:
    log, counter = sqlite_spy
    tickets_db(tmp_path / "t.db")
    source = make(tmp_path, "sqlite", path="t.db", table="tickets")
    assert types["sqlite"].columns(source, ctx) == ["id", "created", "score", "team", "note"]
    assert counter["rows"] == 0
    assert log == ['SELECT * FROM "tickets" AS __pdca_src WHERE 1 = 0']


# -- any SQLAlchemy database: PostgreSQL --------------------------------------------------------
@pytest.fixture(scope="module")
def pg_tickets(pg_url: str) -> str:
    """A tickets table with 4 January rows and many rows outside January."""
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        # in its own schema, so its views do not show up in the table listings tested below
        con.execute(sa.text("CREATE SCHEMA IF NOT EXISTS monitoring"))
        con.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA monitoring"))
        con.execute(sa.text("DROP TABLE IF EXISTS tickets"))
        con.execute(
            sa.text(
                "CREATE TABLE tickets (id int, created timestamp, closed_on date, "
                "score numeric(4,1), team text, note text)"
            )
        )
        con.execute(
            sa.text(
                "INSERT INTO tickets VALUES "
                "(1, '2024-01-01 00:00', '2024-01-02', 9, 'a', 'x'), "
                "(2, '2024-01-15 12:30', '2024-01-16', 7.5, 'b', 'x'), "
                "(3, '2024-01-31 23:59:59', NULL, 5, 'a', 'x'), "
                "(4, '2024-01-20 08:00', '2024-01-21', 10, 'a', 'x'), "
                "(99, '2024-02-01 00:00', NULL, 1, 'a', 'x')"
            )
        )
        con.execute(
            sa.text(
                "INSERT INTO tickets SELECT 100 + i, "
                "timestamp '2022-01-01' + i * interval '1 hour', NULL, i % 11, 'a', 'x' "
                "FROM generate_series(1, 5000) AS i"
            )
        )
    engine.dispose()
    return pg_url


def pg_statements(url: str, like: str) -> list[tuple[str, int]]:
    engine = sa.create_engine(url)
    with engine.connect() as con:
        found = con.execute(
            sa.text("SELECT query, rows FROM monitoring.pg_stat_statements WHERE query LIKE :q"),
            {"q": like},
        ).fetchall()
    engine.dispose()
    return [(q, int(r)) for q, r in found]


@pytest.mark.postgres
def test_sql_pushes_columns_range_and_filter(
    pg_tickets: str, types: dict[str, Any], ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PDCA_TEST_DB", pg_tickets)
    source = make(tmp_path, "sql", url_env="PDCA_TEST_DB", table="tickets")
    rel = read(types, source, ctx, columns=("score",), filter="team = 'a' AND id < 50", **JANUARY)
    assert rows(rel, "created") == [
        (9, datetime(2024, 1, 1)),
        (10, datetime(2024, 1, 20, 8, 0)),
        (5, datetime(2024, 1, 31, 23, 59, 59)),
    ]
    [(query, fetched)] = pg_statements(pg_tickets, '%FROM "tickets" AS __pdca_src WHERE "created"%')
    assert query == (
        'SELECT "score", "created" FROM "tickets" AS __pdca_src WHERE "created" >= $1 AND '
        '"created" < $2 AND (team = $3 AND id < $4)'
    )
    assert fetched == 3  # the server sent 3 rows, not the 5000 outside January


@pytest.mark.postgres
def test_sql_types_and_query(pg_tickets: str, types: dict[str, Any], ctx, tmp_path: Path) -> None:
    query = "SELECT id, closed_on, score FROM tickets WHERE closed_on IS NOT NULL;"
    source = make(tmp_path, "sql", timestamp="closed_on", url=pg_tickets, query=query)
    rel = read(types, source, ctx, columns=("id", "score"), **JANUARY)
    assert col_types(rel)["closed_on"] == "TIMESTAMP"
    assert col_types(rel)["score"] == "DECIMAL(2,1)" or col_types(rel)["score"].startswith(
        "DECIMAL"
    )
    assert [(i, float(s), c) for i, s, c in rows(rel)] == [
        (1, 9.0, datetime(2024, 1, 2)),
        (2, 7.5, datetime(2024, 1, 16)),
        (4, 10.0, datetime(2024, 1, 21)),
    ]
    assert types["sql"].columns(source, ctx) == ["id", "closed_on", "score"]


@pytest.mark.postgres
def test_sql_missing_table_lists_tables(
    pg_tickets: str, types: dict[str, Any], ctx, tmp_path
) -> None:
    source = make(tmp_path, "sql", url=pg_tickets, table="public.tikets")
    with pytest.raises(SourceError) as err:
        read(types, source, ctx, **JANUARY)
    assert str(err.value) == (
        "playbook.yaml:8:12: source 'tickets': table 'public.tikets' not found in the database "
        "(tables: tickets); fix 'table'"
    )


@pytest.mark.postgres
def test_sql_bad_filter_is_refused_by_the_database(
    pg_tickets: str, types: dict[str, Any], ctx, tmp_path: Path
) -> None:
    source = make(tmp_path, "sql", url=pg_tickets, table="tickets")
    with pytest.raises(SourceError) as err:
        read(types, source, ctx, columns=("score",), filter="no_such_function(team)", **JANUARY)
    assert str(err.value).startswith(
        "playbook.yaml:4:3: source 'tickets': the database refused the read with the metric's "
        "filter: function no_such_function(text) does not exist"
    )


def test_sql_missing_environment_variable(
    tmp_path: Path, types: dict[str, Any], ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PDCA_SUPPORT_DB", raising=False)
    source = make(tmp_path, "sql", url_env="PDCA_SUPPORT_DB", table="tickets")
    with pytest.raises(SourceError) as err:
        read(types, source, ctx)
    assert str(err.value) == (
        "playbook.yaml:9:14: source 'tickets': environment variable PDCA_SUPPORT_DB is not set "
        "(option 'url_env'); set it to the database URL before running pdca, e.g. export "
        "PDCA_SUPPORT_DB='postgresql+psycopg://user:password@host/database'"
    )


def test_sql_bad_urls_never_show_the_password(tmp_path: Path, types: dict[str, Any], ctx) -> None:
    cases = {
        "not a url": "'url' is not a database URL; write it as dialect+driver://",
        "nosuchdb://u:hunter2@host/db": "no SQLAlchemy dialect 'nosuchdb' (from 'url')",
        "postgresql+psycopg://u:hunter2@127.0.0.1:1/db": (
            "cannot connect to postgresql+psycopg://u:***@127.0.0.1:1/db: "
        ),
    }
    for url, expected in cases.items():
        with pytest.raises(SourceError) as err:
            read(types, make(tmp_path, "sql", url=url, table="tickets"), ctx)
        message = str(err.value)
        assert message.startswith(f"playbook.yaml:9:10: source 'tickets': {expected}"), message
        assert "hunter2" not in message


def test_sql_sqlite_url_is_relative_to_the_playbook(
    tmp_path: Path, types: dict[str, Any], ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    tickets_db(tmp_path / "data" / "t.db")
    monkeypatch.chdir("/")
    source = make(tmp_path, "sql", url="sqlite:///data/t.db", table="tickets")
    rel = read(types, source, ctx, columns=("id",), filter="team = 'b'", **JANUARY)
    assert rows(rel) == [(2, datetime(2024, 1, 15, 12, 30))]
    missing = make(tmp_path, "sql", url="sqlite:///data/none.db", table="tickets")
    with pytest.raises(SourceError, match=r"SQLite file 'data/none.db' not found"):
        read(types, missing, ctx)
    assert not (tmp_path / "data" / "none.db").exists()
