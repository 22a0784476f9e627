"""The metric session: one table per metric, narrowed, with errors that point at the playbook."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from pdca import hookimpl
from pdca.builtins.sources import CsvSource
from pdca.data.base import DataRequest, SourceContext, SourceType
from pdca.data.session import DataSession
from pdca.errors import Location, SourceError
from pdca.kpi import Kpi, KpiQuery, KpiValue, SqlKpi
from pdca.playbook.model import Metric, Playbook, Source
from pdca.plugins import Registry, build_registry, get_plugin_manager

PB = "playbook.yaml"
CSV = (
    "id,created,score,team,channel\n"
    "1,2023-12-31 23:59:59,1,a,mail\n"
    "2,2024-01-01 00:00:00,9,a,mail\n"
    "3,2024-01-10 10:00:00,7,b,phone\n"
    "4,2024-01-20 16:30:00,5,a,phone\n"
    "5,2024-01-31 23:59:59,8,b,mail\n"
    "6,2024-02-01 00:00:00,2,a,mail\n"
)
START, END = datetime(2024, 1, 1), datetime(2024, 2, 1)


class Mean(SqlKpi):
    """avg(field): enough of a KPI to prove the table feeds the KPI contract."""

    name = "mean"

    def sql(self, q: KpiQuery) -> str:
        return f"avg({q.column})"


class Ratio(Kpi):
    """Reads two columns: the field and params['of']."""

    name = "ratio"

    def columns(self, field: str | None, params: Mapping[str, Any]) -> list[str]:
        return [c for c in (field, params.get("of")) if c]


class Count(SqlKpi):
    name = "count"
    requires_field = False

    def sql(self, q: KpiQuery) -> str:
        return "count(*)"


def metric(
    id: str = "m", source: str = "tickets", field: str | None = "score", **kw: Any
) -> Metric:
    locs = {
        "source": Location(PB, 20, 13),
        "field": Location(PB, 22, 12),
        "params": Location(PB, 23, 5),
        "filter": Location(PB, 24, 13),
        "segment_by": Location(PB, 25, 17),
    }
    return Metric(
        id=id, source=source, kpi="mean", target=1.0, field=field,
        loc=Location(PB, 19, 3), locs=locs, **kw,
    )  # fmt: skip


def source(
    base: Path,
    type_: str = "csv",
    timestamp: str | None = "created",
    id: str = "tickets",
    **opts: Any,
) -> Source:
    locs = {
        "type": Location(PB, 6, 11),
        "path": Location(PB, 7, 11),
        "timestamp": Location(PB, 8, 16),
    }
    return Source(
        id=id, type=type_, options=opts or {"path": "t.csv"}, timestamp=timestamp,
        base_dir=base, loc=Location(PB, 5, 3), locs=locs,
    )  # fmt: skip


def playbook(base: Path, *sources: Source) -> Playbook:
    return Playbook(id="pb", title="pb", path=base / PB, sources={s.id: s for s in sources})


@pytest.fixture
def registry() -> Registry:
    return build_registry(get_plugin_manager(entry_points=False))


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "t.csv").write_text(CSV)
    return tmp_path


@pytest.fixture
def session(files: Path, registry: Registry) -> Iterator[DataSession]:
    s = DataSession(playbook(files, source(files)), registry)
    yield s
    s.close()


def fetch(s: DataSession, table: str, order: str = "__ts") -> list[tuple[Any, ...]]:
    return s.con.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()


def names(s: DataSession, table: str) -> list[str]:
    return [d[0] for d in s.con.execute(f"SELECT * FROM {table} LIMIT 0").description]


# -- the metric table -------------------------------------------------------------------------
def test_table_holds_window_rows_and_needed_columns(session: DataSession) -> None:
    table = session.metric_table(metric(), Mean(), START, END)
    assert table == '"__pdca_metric_m"'
    assert names(session, table) == ["__ts", "score"]
    # [start, end): the row at 2024-01-01 00:00 is in, the one at 2024-02-01 00:00 is out
    assert fetch(session, table) == [
        (datetime(2024, 1, 1), 9),
        (datetime(2024, 1, 10, 10), 7),
        (datetime(2024, 1, 20, 16, 30), 5),
        (datetime(2024, 1, 31, 23, 59, 59), 8),
    ]


def test_filter_segment_and_extra_columns(session: DataSession) -> None:
    m = metric(filter="channel = 'mail' OR score < 6", segment_by="team", params={"of": "id"})
    table = session.metric_table(m, Ratio(), START, END)
    assert names(session, table) == ["__ts", "score", "id", "team"]
    assert fetch(session, table) == [
        (datetime(2024, 1, 1), 9, 2, "a"),
        (datetime(2024, 1, 20, 16, 30), 5, 4, "a"),
        (datetime(2024, 1, 31, 23, 59, 59), 8, 5, "b"),
    ]


def test_table_feeds_a_kpi(session: DataSession) -> None:
    table = session.metric_table(metric(), Mean(), START, END)
    q = KpiQuery(
        con=session.con, table=table, field="score", params={}, period="month",
        window_start=datetime(2024, 1, 15), end=END, history_start=START,
    )  # fmt: skip
    result = Mean().compute(q)
    assert result.window == KpiValue(6.5, 2)  # (5 + 8) / 2
    assert result.series == {date(2024, 1, 1): KpiValue(7.25, 4)}  # (9 + 7 + 5 + 8) / 4


def test_source_is_read_once_for_all_metrics(files: Path) -> None:
    calls: list[DataRequest] = []

    class CountingCsv(CsvSource):
        name = "counting_csv"

        def relation(self, source: Source, request: DataRequest, ctx: SourceContext) -> Any:
            calls.append(request)
            return super().relation(source, request, ctx)

    s = DataSession(playbook(files, source(files, "counting_csv")), registry_with(CountingCsv()))
    try:
        a = s.metric_table(metric("a"), Mean(), START, END)
        b = s.metric_table(metric("b", filter="team = 'b'"), Mean(), START, END)
        assert s.columns("tickets") == ["id", "created", "score", "team", "channel"]
        assert [r[1] for r in fetch(s, a)] == [9, 7, 5, 8]
        assert [r[1] for r in fetch(s, b)] == [7, 8]
    finally:
        s.close()
    assert calls == [DataRequest()]


def registry_with(*source_types: SourceType) -> Registry:
    class Plugin:
        @hookimpl
        def pdca_register_source_types(self, register: Callable[[SourceType], None]) -> None:
            for t in source_types:
                register(t)

    return build_registry(get_plugin_manager(entry_points=False, extra=[("extra", Plugin())]))


def test_source_without_timestamp_is_a_snapshot(files: Path, registry: Registry) -> None:
    (files / "backlog.csv").write_text("team,open\na,3\nb,4\na,5\n")
    snap = source(files, timestamp=None, id="backlog", path="backlog.csv")
    with DataSession(playbook(files, snap), registry) as s:
        m = metric(source="backlog", field="open", segment_by="team")
        table = s.metric_table(m, Mean(), START, END)
        last_instant = datetime(2024, 1, 31, 23, 59, 59, 999999)
        assert fetch(s, table, "open") == [
            (last_instant, 3, "a"),
            (last_instant, 4, "b"),
            (last_instant, 5, "a"),
        ]
        q = KpiQuery(
            con=s.con, table=table, field="open", params={}, period="week",
            window_start=datetime(2024, 1, 4), end=END, history_start=START,
        )  # fmt: skip
        result = Mean().compute(q)
    assert result.window == KpiValue(4.0, 3)
    assert result.series == {date(2024, 1, 29): KpiValue(4.0, 3)}  # one point: the current period


def test_count_without_field_keeps_only_ts(session: DataSession) -> None:
    table = session.metric_table(metric(field=None, filter="team = 'a'"), Count(), START, END)
    assert names(session, table) == ["__ts"]
    assert len(fetch(session, table)) == 2


def test_metric_table_is_replaced_on_a_second_call(session: DataSession) -> None:
    session.metric_table(metric(), Mean(), START, END)
    table = session.metric_table(metric(), Mean(), datetime(2024, 1, 15), END)
    assert [r[1] for r in fetch(session, table)] == [5, 8]


def test_parquet_cache_through_the_session(files: Path, registry: Registry) -> None:
    cache = files / "cache"
    pb = playbook(files, source(files))
    written: list[tuple[Path, int]] = []
    for _ in range(2):
        with DataSession(pb, registry, cache_dir=cache) as s:
            table = s.metric_table(metric(), Mean(), START, END)
            assert [r[1] for r in fetch(s, table)] == [9, 7, 5, 8]
        (entry,) = cache.glob("*.parquet")
        written.append((entry, entry.stat().st_mtime_ns))
    assert written[0] == written[1]  # the second session read the entry, it did not rewrite it


# -- errors that point at the playbook ----------------------------------------------------------
def test_unknown_field_column(session: DataSession) -> None:
    with pytest.raises(SourceError) as err:
        session.metric_table(metric(field="scor"), Mean(), START, END)
    assert str(err.value) == (
        "playbook.yaml:22:12: metric 'm' reads column 'scor' which source 'tickets' does not have "
        "(available: id, created, score, team, channel); did you mean 'score'?"
    )


def test_unknown_segment_and_param_columns(session: DataSession) -> None:
    with pytest.raises(
        SourceError, match=r"^playbook.yaml:25:17: metric 'm' reads column 'region' "
    ):
        session.metric_table(metric(segment_by="region"), Mean(), START, END)
    with pytest.raises(SourceError, match=r"^playbook.yaml:23:5: metric 'm' reads column 'total' "):
        session.metric_table(metric(params={"of": "total"}), Ratio(), START, END)


def test_filter_that_does_not_parse(session: DataSession) -> None:
    with pytest.raises(SourceError) as err:
        session.metric_table(metric(filter="team = "), Mean(), START, END)
    assert str(err.value) == (
        "playbook.yaml:24:13: metric 'm' filter 'team = ' is not a SQL condition: "
        'syntax error at or near ")"'
    )


def test_filter_with_unknown_column(session: DataSession) -> None:
    with pytest.raises(SourceError) as err:
        session.metric_table(metric(filter="teem = 'a'"), Mean(), START, END)
    assert str(err.value) == (
        "playbook.yaml:24:13: metric 'm' filter \"teem = 'a'\" names column 'teem' which source "
        "'tickets' does not have (available: id, created, score, team, channel); did you mean "
        "'team'?"
    )


def test_filter_with_double_quoted_text(session: DataSession) -> None:
    with pytest.raises(
        SourceError, match=r"names column 'mail' .*; text values take single quotes"
    ):
        session.metric_table(metric(filter='channel = "mail"'), Mean(), START, END)


def test_filter_with_several_statements(session: DataSession) -> None:
    with pytest.raises(
        SourceError, match=r"^playbook.yaml:24:13: metric 'm' filter .* is not a SQL "
    ):
        session.metric_table(metric(filter="true); DROP TABLE x; SELECT (1"), Mean(), START, END)


def test_filter_with_type_error(session: DataSession) -> None:
    with pytest.raises(SourceError) as err:
        session.metric_table(metric(filter="team + 1 > 2"), Mean(), START, END)
    assert str(err.value).startswith(
        "playbook.yaml:24:13: metric 'm' filter 'team + 1 > 2' does not work on source 'tickets': "
    )


def test_unknown_source_and_source_type(files: Path, registry: Registry) -> None:
    with DataSession(playbook(files, source(files, "excel")), registry) as s:
        with pytest.raises(SourceError) as err:
            s.metric_table(metric(), Mean(), START, END)
        assert str(err.value) == (
            "playbook.yaml:6:11: source 'tickets' has type 'excel', which no plugin provides "
            "(known: csv, json, parquet, sql, sqlite)"
        )
        with pytest.raises(
            SourceError, match=r"^playbook.yaml:20:13: no source 'nope' in the playbook"
        ):
            s.metric_table(metric(source="nope"), Mean(), START, END)


def test_late_bad_value_in_a_guessed_column(files: Path, registry: Registry) -> None:
    lines = ["id,created,score"] + [f"{i},2024-01-02,{i % 10}" for i in range(30_000)]
    (files / "late.csv").write_text("\n".join([*lines, "30000,2024-01-03,n/a"]) + "\n")
    pb = playbook(files, source(files, path="late.csv"))
    with DataSession(pb, registry) as s, pytest.raises(SourceError) as err:
        s.metric_table(metric(), Mean(), START, END)
    message = str(err.value)
    assert message.startswith("playbook.yaml:19:3: metric 'm': reading source 'tickets' failed: ")
    assert 'Could not convert string "n/a"' in message
    assert message.endswith("set it with the csv option 'types'")


def test_plugin_crash_is_reported_against_the_source(files: Path) -> None:
    class Broken(SourceType):
        name = "broken"

        def relation(self, source: Source, request: DataRequest, ctx: SourceContext) -> Any:
            raise KeyError("boom")

    pb = playbook(files, source(files, "broken"))
    with DataSession(pb, registry_with(Broken())) as s, pytest.raises(SourceError) as err:
        s.columns("tickets")
    assert str(err.value) == (
        "playbook.yaml:5:3: source 'tickets' (type 'broken' from plugin 'extra') failed: "
        "KeyError: 'boom'"
    )


# -- pushdown sources -----------------------------------------------------------------------------
def test_pushdown_source_gets_each_metrics_request(files: Path) -> None:
    calls: list[DataRequest] = []

    class Remote(SourceType):
        """Stands in for a database: answers from Arrow, records what it was asked."""

        name = "remote"
        pushdown = True

        def columns(self, source: Source, ctx: SourceContext) -> list[str]:
            return ["created", "score", "team"]

        def relation(self, source: Source, request: DataRequest, ctx: SourceContext) -> Any:
            calls.append(request)
            table = pa.table(
                {
                    "score": [9, 5],
                    "created": pa.array([datetime(2024, 1, 1), datetime(2024, 3, 1)]),
                }
            )
            return ctx.con.from_arrow(table)

    pb = playbook(files, source(files, "remote", options_dummy=1))
    with DataSession(pb, registry_with(Remote())) as s:
        m = metric(filter="team = 'a'", segment_by=None)
        table = s.metric_table(m, Mean(), START, END)
        # the session still enforces the time range on what a source returns
        assert fetch(s, table) == [(datetime(2024, 1, 1), 9)]
    assert calls == [DataRequest(columns=("score",), start=START, end=END, filter="team = 'a'")]


def sqlite_playbook(base: Path) -> Playbook:
    con = sqlite3.connect(base / "support.db")
    con.execute("CREATE TABLE tickets (id, created, score, team, channel)")
    for line in CSV.splitlines()[1:]:
        con.execute("INSERT INTO tickets VALUES (?, ?, ?, ?, ?)", line.split(","))
    con.commit()
    con.close()
    return playbook(base, source(base, "sqlite", path="support.db", table="tickets"))


def test_sqlite_through_the_session(files: Path, registry: Registry) -> None:
    with DataSession(sqlite_playbook(files), registry) as s:
        assert s.columns("tickets") == ["id", "created", "score", "team", "channel"]
        m = metric(filter="channel = 'phone'", segment_by="team")
        table = s.metric_table(m, Mean(), START, END)
        assert fetch(s, table) == [
            (datetime(2024, 1, 10, 10), "7", "b"),
            (datetime(2024, 1, 20, 16, 30), "5", "a"),
        ]


def test_database_refusing_the_filter_points_at_it(files: Path, registry: Registry) -> None:
    m = metric(filter="regexp_matches(team, 'a')")
    with DataSession(sqlite_playbook(files), registry) as s, pytest.raises(SourceError) as err:
        s.metric_table(m, Mean(), START, END)
    assert str(err.value) == (
        "playbook.yaml:24:13: metric 'm' filter \"regexp_matches(team, 'a')\" was refused by the "
        "database of source 'tickets': no such function: regexp_matches"
    )


def test_database_column_errors_use_the_database_columns(files: Path, registry: Registry) -> None:
    expected = r"^playbook.yaml:22:12: metric 'm' reads column 'points' which source 'tickets' does"
    with (
        DataSession(sqlite_playbook(files), registry) as s,
        pytest.raises(SourceError, match=expected),
    ):
        s.metric_table(metric(field="points"), Mean(), START, END)


@pytest.mark.postgres
def test_postgres_through_the_session(pg_url: str, files: Path, registry: Registry) -> None:
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        # a schema of its own: test_sources lists the tables of 'public'
        con.execute(sa.text("CREATE SCHEMA IF NOT EXISTS session_test"))
        con.execute(sa.text("DROP TABLE IF EXISTS session_test.tickets"))
        con.execute(
            sa.text("CREATE TABLE session_test.tickets (created timestamptz, score int, team text)")
        )
        con.execute(
            sa.text(
                "INSERT INTO session_test.tickets VALUES ('2024-01-05 10:00+00', 9, 'a'), "
                "('2024-01-06 10:00+00', 3, 'b'), ('2024-02-05 10:00+00', 1, 'a')"
            )
        )
    engine.dispose()
    pg = source(files, "sql", url=pg_url, table="session_test.tickets")
    with DataSession(playbook(files, pg), registry) as s:
        s.con.execute("SET TimeZone = 'UTC'").fetchall()
        table = s.metric_table(metric(filter="team = 'a'"), Mean(), START, END)
        assert fetch(s, table) == [(datetime(2024, 1, 5, 10, 0), 9)]
