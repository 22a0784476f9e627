"""A typed column read without the text cast gives exactly the values the text cast gives."""

from __future__ import annotations

import math

import duckdb
import pytest

from pdca.builtins.kpiparts import number_sql
from pdca.kpi import INTEGER_TYPES

VALUES = {
    "TINYINT": ["-128", "0", "127", "NULL"],
    "INTEGER": ["-5", "0", "2147483647", "NULL"],
    "BIGINT": ["-9223372036854775808", "9007199254740993", "NULL"],
    "UBIGINT": ["18446744073709551615", "0", "NULL"],
    "HUGEINT": ["170141183460469231731687303715884105727", "-1", "NULL"],
    "DECIMAL(18,3)": ["123456789012345.678", "-0.001", "NULL"],
    "DOUBLE": ["1.5", "'nan'", "'inf'", "'-inf'", "-0.0", "1e308", "NULL"],
    "FLOAT": ["1.5", "'nan'", "'inf'", "3.4e38", "NULL"],
}


@pytest.mark.parametrize("kind", list(VALUES))
def test_typed_and_untyped_reads_agree(kind: str) -> None:
    con = duckdb.connect()
    rows = ", ".join(f"(CAST({v} AS {kind}))" for v in VALUES[kind])
    con.execute(f"CREATE TABLE t AS SELECT * FROM (VALUES {rows}) AS v(x)")
    typed, untyped = number_sql('"x"', kind), number_sql('"x"')
    assert typed != untyped  # the typed form is really the shorter one
    found = con.execute(f"SELECT {typed}, {untyped} FROM t").fetchall()
    assert len(found) == len(VALUES[kind])
    for a, b in found:
        assert (a is None and b is None) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    # non-finite values are unusable either way
    assert all(a is None or math.isfinite(a) for a, _ in found)


def test_every_integer_type_takes_the_plain_cast() -> None:
    for kind in INTEGER_TYPES:
        assert number_sql('"x"', kind) == 'CAST("x" AS DOUBLE)'
    assert number_sql('"x"', "VARCHAR") == number_sql('"x"')  # text keeps the safe cast
