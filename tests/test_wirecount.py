"""bench/wirecount.py counts the bytes it relays exactly; pushdown's bytes do not grow with rows.

The relay is how bench_sql.py shows that a database source sends a check
aggregates, not rows, so its count is checked first against a real loopback
server sending and receiving known numbers of bytes. Then, on a real
PostgreSQL server, a check of metrics the database computes receives about the
same bytes from 2,000 rows as from 20,000 over the same weeks, while a metric
computed from its rows (a plugin KPI) receives several times more.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from benchmods import bench_module
from pdca import hookimpl, load_playbook
from pdca.check import measure
from pdca.kpi import FunctionKpi
from pdca.plugins import build_registry, get_plugin_manager

wirecount = bench_module("wirecount")


class Server:
    """A loopback server: to each connection it sends ``reply`` bytes (in uneven chunks),
    after reading everything the client sends until the client's end of writing."""

    def __init__(self, reply: int):
        self.reply = reply
        self.received: list[int] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                got = 0
                while chunk := conn.recv(4096):
                    got += len(chunk)
                self.received.append(got)
                left, size = self.reply, 1
                while left:
                    part = min(left, size)
                    conn.sendall(b"x" * part)
                    left -= part
                    size = size * 7 % 100_003  # 1, 7, 49, ... bytes: chunks of every size

    def close(self) -> None:
        self.listener.close()


def exchange(port: int, send: int) -> int:
    """Send ``send`` bytes to ``port``, end writing, read to the end; the bytes read."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"y" * send)
        sock.shutdown(socket.SHUT_WR)
        got = 0
        while chunk := sock.recv(65536):
            got += len(chunk)
    return got


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server(reply=1_234_567)
    yield srv
    srv.close()


def test_the_count_is_the_bytes_each_side_sent(server: Server) -> None:
    with wirecount.WireCount("127.0.0.1", server.port) as wire:
        assert wire.counts() == wirecount.Counts(0, 0, 0)
        assert exchange(wire.port, 5_000) == 1_234_567
        assert wire.counts() == wirecount.Counts(
            to_client=1_234_567, to_server=5_000, connections=1
        )
        assert exchange(wire.port, 1) == 1_234_567
    assert server.received == [5_000, 1]
    assert wire.counts() == wirecount.Counts(2 * 1_234_567, 5_001, 2)


def test_connections_at_once_are_each_relayed_and_all_counted(server: Server) -> None:
    got: list[int] = []
    with wirecount.WireCount("127.0.0.1", server.port) as wire:
        threads = [
            threading.Thread(target=lambda n=n: got.append(exchange(wire.port, n)))
            for n in (10, 20_000, 300)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert got == [1_234_567] * 3
    assert sorted(server.received) == [10, 300, 20_000]
    assert wire.counts() == wirecount.Counts(3 * 1_234_567, 20_310, 3)


def test_a_server_that_is_not_there_is_a_refused_connection() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    with (
        wirecount.WireCount("127.0.0.1", dead) as wire,
        socket.create_connection(("127.0.0.1", wire.port)) as sock,
    ):
        assert sock.recv(10) == b""  # closed at once
    assert wire.counts() == wirecount.Counts(0, 0, 0)


# -- on PostgreSQL: pushdown's bytes do not grow with rows --------------------------------

AS_OF = date(2026, 3, 1)


class SpreadPlugin:
    """A plugin KPI (max - min): the database cannot compute it, so its rows are read."""

    @hookimpl
    def pdca_register_kpis(self, register: Any) -> None:
        register(FunctionKpi("spread", lambda values: float(max(values) - min(values))))


def bytes_of_check(url: str, table: str, metrics: str, folder: Path) -> int:
    """The bytes PostgreSQL sends to one ``check`` of ``metrics`` over ``table``; the
    metrics must be computed where their KPI says (the database, or here from rows)."""
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    with wirecount.WireCount(parsed.host, parsed.port) as wire:
        proxied = parsed.set(host="127.0.0.1", port=wire.port).render_as_string(False)
        path = folder / f"{table}.yaml"
        path.write_text(
            f"playbook: {table}\ntitle: T\n"
            f"sources: {{t: {{type: sql, url: '{proxied}', table: {table}, timestamp: ts}}}}\n"
            f"metrics:\n{metrics}",
            encoding="utf-8",
        )
        manager = get_plugin_manager(entry_points=False, extra=[("spread", SpreadPlugin())])
        result = measure.check(
            load_playbook(path, plugin_manager=manager), build_registry(manager), AS_OF
        )
        for mid, entry in result["metrics"].items():
            assert not entry.get("error"), (mid, entry["error"])
            assert entry["computed"] == ("local" if mid == "spread" else "database"), mid
        counted = wire.counts()
    assert counted.connections >= 1
    return counted.to_client


PUSHED = (
    "  nps: {source: t, kpi: nps, field: score, target: 30}\n"
    "  late: {source: t, kpi: mean, field: hours, target: 5, segment_by: team}\n"
    "  kept: {source: t, kpi: retention, field: customer, target: 50}\n"
    "  clv: {source: t, kpi: clv, target: 5,"
    " params: {customer: customer, revenue: hours, margin: 0.5}}\n"
)
PULLED = "  spread: {source: t, kpi: spread, field: hours, target: 5}\n"


def test_pushdown_bytes_follow_periods_not_rows(pg_url: str, tmp_path: Path) -> None:
    import psycopg
    import sqlalchemy as sa

    from pg_server import fresh_database

    for url in fresh_database(pg_url, "wire"):
        parsed = sa.make_url(url)
        dsn = parsed.set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(dsn, autocommit=True) as con:
            for table, rows in (("small", 2_000), ("large", 20_000)):
                # the same 12 weeks before AS_OF, every row in them; three teams, 500
                # customers (retention and clv: counts per week come back, not customers)
                con.execute(
                    f"CREATE TABLE {table} AS SELECT TIMESTAMP '2025-12-07' + "
                    f"g * 84.0 / {rows} * INTERVAL '1 day' AS ts, g % 11 AS score, "
                    f"(g % 97) / 4.0 AS hours, (ARRAY['a','b','c'])[1 + g % 3] AS team, "
                    f"'c' || (g * 7919 % 500) AS customer "
                    f"FROM generate_series(1, {rows}) AS g"
                )
        small = bytes_of_check(url, "small", PUSHED, tmp_path)
        large = bytes_of_check(url, "large", PUSHED, tmp_path)
        # the same weeks, windows and segments: only the counts' text is a digit longer
        assert small > 0 and abs(large - small) <= 0.05 * small, (small, large)
        pulled_small = bytes_of_check(url, "small", PULLED, tmp_path)
        pulled_large = bytes_of_check(url, "large", PULLED, tmp_path)
        # ten times the rows: well over five times the bytes (the fixed cost of a
        # connection and the queries about the table is what keeps it from ten)
        assert pulled_large > 5 * pulled_small, (pulled_small, pulled_large)
        assert pulled_large > 10 * large
