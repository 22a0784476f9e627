"""Benchmark tickets: the support desk's model at any size, written in chunks through pyarrow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np

from pdca.examples.desk_model import (
    CHANNELS,
    CONTACT_REASONS,
    PRIORITIES,
    REGIONS,
    DeskWorld,
    desk_scores,
    desk_tickets,
)
from pdca.examples.scenarios import DateLike, time_frame
from pdca.examples.timeline import (
    HOURS_CUSTOMER,
    WEEKDAY_CUSTOMER,
    daily_rates,
    holiday_dates,
    stamp,
    times_of_day,
)


def day_chunks(counts: np.ndarray, chunk_rows: int) -> Iterator[tuple[int, int]]:
    """Split days into runs of at least ``chunk_rows`` rows, so chunks never split a day."""
    first, acc = 0, 0
    for i, c in enumerate(counts):
        acc += int(c)
        if acc >= chunk_rows:
            yield first, i + 1
            first, acc = i + 1, 0
    if first < len(counts):
        yield first, len(counts)


def generate_tickets(
    n_rows: int,
    path: Path | str,
    fmt: str = "csv",
    seed: int = 0,
    *,
    start: DateLike = date(2025, 1, 6),
    end: DateLike = date(2026, 1, 5),
    countermeasure: DateLike | None = None,
    chunk_rows: int = 1_000_000,
    agents: int = 400,
) -> Path:
    """Write exactly ``n_rows`` support tickets (with survey scores) to ``path`` for benchmarks.

    Same model as :func:`generate_support_desk`, vectorised and written in chunks of
    whole days through pyarrow, so ten million rows take seconds and never sit in
    Python lists. Categories are dictionary-encoded, ids are integers and the flags
    are booleans, which keeps the files lean and fast to scan. ``fmt`` is ``csv``
    or ``parquet``; ``end`` is exclusive.
    """
    import pyarrow as pa

    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    if n_rows < 0:
        raise ValueError("n_rows must not be negative")
    start_d, end_d, cm = time_frame(start, end, countermeasure)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    weeks = (end_d - start_d).days // 7 + 1
    customers = int(min(max(n_rows * 0.3, 100), 3_000_000))
    world = DeskWorld.draw(rng, customers=customers, agents=agents, weeks=weeks)
    days, rate = daily_rates(
        start_d,
        end_d,
        1.0,
        WEEKDAY_CUSTOMER,
        holiday_dates(start_d, end_d, swedish=False),
        world.week_volume,
        growth=0.08,
    )
    counts = rng.multinomial(n_rows, rate / rate.sum())
    dicts = {
        "channel": pa.array(CHANNELS),
        "priority": pa.array(PRIORITIES),
        "region": pa.array(REGIONS),
        "category": pa.array(CONTACT_REASONS),
        "agent": pa.array([f"agent-{a + 1:03d}" for a in range(agents)]),
    }

    def dictionary(name: str, codes: np.ndarray) -> pa.Array:
        return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int16)), dicts[name])

    schema = pa.schema(
        [
            ("ticket_id", pa.int64()),
            ("created_at", pa.timestamp("s")),
            *((name, pa.dictionary(pa.int16(), pa.string())) for name in dicts),
            ("customer_id", pa.int64()),
            ("first_response_minutes", pa.float64()),
            ("resolved_first_contact", pa.bool_()),
            ("resolution_hours", pa.float64()),
            ("sla_met", pa.bool_()),
            ("likelihood_to_recommend", pa.int8()),
            ("satisfaction", pa.int8()),
        ]
    )
    next_id = 1

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal next_id
        for lo, hi in day_chunks(counts, chunk_rows):
            c = counts[lo:hi]
            m = int(c.sum())
            if m == 0:
                continue
            ts = np.sort(stamp(np.repeat(days[lo:hi], c), times_of_day(rng, m, HOURS_CUSTOMER)))
            t = desk_tickets(rng, ts, world, start_d, cm, ramp_days=7.0)
            s = desk_scores(rng, t, world)
            ids = np.arange(next_id, next_id + m, dtype=np.int64)
            next_id += m
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(ids),
                    pa.array(ts),
                    dictionary("channel", t["channel"]),
                    dictionary("priority", t["priority"]),
                    dictionary("region", t["region"]),
                    dictionary("category", t["reason"]),
                    dictionary("agent", t["agent"]),
                    pa.array(t["customer"].astype(np.int64) + 1),
                    pa.array(t["first_response"]),
                    pa.array(t["fcr"]),
                    pa.array(t["resolution"]),
                    pa.array(t["sla_met"]),
                    pa.array(s["ltr"]),
                    pa.array(s["satisfaction"]),
                ],
                schema=schema,
            )

    if fmt == "parquet":
        import pyarrow.parquet as pq

        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for batch in batches():
                writer.write_batch(batch)
            if n_rows == 0:
                writer.write_table(schema.empty_table())
    else:
        import pyarrow.csv as pacsv

        # pyarrow quotes every string header; categories never need quotes, so write plain.
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        with path.open("wb") as f:
            f.write((",".join(schema.names) + "\n").encode())
            with pacsv.CSVWriter(f, schema, write_options=options) as writer:
                for batch in batches():
                    writer.write_batch(batch)
    return path
