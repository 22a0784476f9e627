"""The contract for data source plugins.

A source type turns a playbook ``sources:`` entry into a DuckDB relation. pdca
then narrows that relation to each metric's rows (time range, ``filter``) in SQL.
Sources backed by another database receive the same narrowing in the
:class:`DataRequest` and push it into their own query, so that a metric over
last month never loads a whole table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import duckdb

    from pdca.playbook.model import Source

OptionProblem = tuple[str | None, str]
"""A problem with a source's options: (option key or None for the entry, message)."""


@dataclass(frozen=True)
class DataRequest:
    """What one metric needs from a source.

    ``columns`` are the source columns read (``None``: all of them); rows have
    ``start <= timestamp < end`` where those are set, and satisfy ``filter`` (a
    SQL boolean expression written in the playbook) where it is set.
    """

    columns: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    filter: str | None = None


@dataclass
class SourceContext:
    """Shared by all sources during one check: the DuckDB connection and the cache folder."""

    con: duckdb.DuckDBPyConnection
    cache_dir: Path | None = None
    periods: Any = None
    """The check's period cache (:class:`pdca.check.periodcache.PeriodCache`), or None:
    with one, database statements start at the first period the state does not hold
    as final (the window is still computed from its rows)."""
    columnar: set[str] = field(default_factory=set)
    """Ids of the sources whose rows this check reads from a columnar file (Parquet, or
    a text file's Parquet copy in the cache): a scan of a few of their columns costs
    little, so pdca reads them where they are instead of copying them into memory."""


class SourceType:
    """Base of every source plugin. Subclasses set ``name``, ``summary``, ``option_docs``."""

    name: str = ""
    summary: str = ""
    #: options this source accepts beyond ``type``/``timestamp``: name -> description
    option_docs: ClassVar[Mapping[str, str]] = {}
    required: tuple[str, ...] = ()
    #: True when :meth:`relation` applies the whole :class:`DataRequest` in the
    #: source's own query (databases): pdca then asks once per metric, and never
    #: re-applies ``filter``, which may be written in the database's dialect.
    #: False (files): pdca asks once per check with an empty request and narrows
    #: the rows in DuckDB, so one read serves every metric.
    pushdown: bool = False

    def check(self, source: Source) -> list[OptionProblem]:
        """Problems with the entry's options, found by ``pdca validate`` without reading data."""
        problems: list[OptionProblem] = []
        for key in self.required:
            if source.options.get(key) in (None, ""):
                problems.append((None, f"source type '{self.name}' needs '{key}'"))
        for key in source.options:
            if key not in self.option_docs:
                known = ", ".join(sorted(self.option_docs)) or "none"
                problems.append(
                    (key, f"source type '{self.name}' has no option '{key}' (known: {known})")
                )
        return problems

    def relation(
        self, source: Source, request: DataRequest, ctx: SourceContext
    ) -> duckdb.DuckDBPyRelation:
        """The source's rows as a relation whose timestamp column is a TIMESTAMP.

        Raise :class:`pdca.SourceError` for data that cannot be read, saying why.
        """
        raise NotImplementedError

    def newest(self, source: Source, request: DataRequest, ctx: SourceContext) -> datetime | None:
        """The newest timestamp among the rows ``request`` selects (its ``end`` and ``filter``).

        Asked for freshness, only of ``pushdown`` sources, and only when a metric
        has no row in its whole history (pdca reads file sources' newest rows in
        DuckDB itself). The default reads the rows' timestamps through
        :meth:`relation`; a database overrides it with one ``max()`` in its own query.
        """
        from pdca.kpi import quote

        if source.timestamp is None:
            return None
        # a pushdown source applies the whole request itself, ``end`` included
        rel = self.relation(source, replace(request, columns=()), ctx)
        found = rel.aggregate(f"max(CAST({quote(source.timestamp)} AS TIMESTAMP))").fetchall()
        return found[0][0] if found else None

    def aggregate(
        self, source: Source, wanted: Sequence[Any], ctx: SourceContext
    ) -> Mapping[str, Any]:
        """KPIs the source computes itself, so that only aggregates leave it.

        ``wanted`` are :class:`pdca.data.pushdown.Wanted` (a metric's KPI kind, field,
        filter, time frame); the answer maps the metric ids it could compute to
        :class:`pdca.data.pushdown.Pushed`. Metrics left out are computed from the
        rows :meth:`relation` gives. The default computes none; the built-in
        database sources compute the KPIs :mod:`pdca.data.pushdown` lists.
        """
        return {}

    def columns(self, source: Source, ctx: SourceContext) -> list[str]:
        """The source's column names, for messages and ``pdca validate --data``.

        The default asks :meth:`relation` for everything, which costs nothing for
        lazy DuckDB relations; a source that fetches rows to build its relation
        (``pushdown`` sources) must override this with a cheaper question.
        """
        return list(self.relation(source, DataRequest(), ctx).columns)
