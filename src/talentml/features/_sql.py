"""SQL text shared by the feature families, and the two dialects they run on (DuckDB, Spark).

Every feature is defined once, as SQL. The few places where DuckDB and Spark SQL differ are
methods of :class:`Dialect`: turning a timestamp into integer microseconds, integer division,
the local time of an instant in an IANA time zone, exploding a list, a tolerant integer cast.
Everything else (CTEs, window functions, ``CASE``, ``UNION ALL``) is written in the common
subset of the two, with explicit casts so that both engines return the same types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._pit import DAY_US

__all__ = ["DIALECTS", "Dialect", "DuckDBDialect", "Query", "SparkDialect"]

HOUR_US = 3_600_000_000


class Dialect:
    """The SQL differences between engines."""

    name = "base"
    string = "VARCHAR"

    def epoch_us(self, expr: str) -> str:
        """Integer microseconds since the epoch of a UTC timestamp expression."""
        raise NotImplementedError

    def idiv(self, a: str, b: str | int) -> str:
        """Integer division of non-negative integers."""
        raise NotImplementedError

    def explode(self, expr: str) -> str:
        """Table-generating expression: one row per element of a list column."""
        raise NotImplementedError

    def list_size(self, expr: str) -> str:
        """Number of elements of a list column."""
        raise NotImplementedError

    def try_bigint(self, expr: str) -> str:
        """A string as BIGINT, or NULL when it is not an integer."""
        return f"TRY_CAST({expr} AS BIGINT)"

    def local_time_ctes(
        self, source: str, out: str, *, days: tuple[str, str, int]
    ) -> list[tuple[str, str]]:
        """CTEs adding ``local_us`` (wall-clock microseconds in ``tz``) to ``source``.

        ``source`` has columns ``tz`` (IANA name), ``tz_id`` (an integer per name) and
        ``s_us`` (the instant, microseconds since the epoch); ``out`` is the name of the CTE
        with every column of ``source`` plus ``local_us``. ``days`` = (table, time column,
        slack in us) bounds the instants: every ``s_us`` is within ``slack`` before a value
        of that column.
        """
        raise NotImplementedError

    def employee_key(self) -> str:
        """Expression of the employee key ``k`` over the employees table."""
        return "CAST(ROW_NUMBER() OVER (ORDER BY employee_id) AS BIGINT)"

    def timezone_key(self) -> str:
        """Expression of the time-zone key ``tz_id`` over the employees table."""
        return "CAST(DENSE_RANK() OVER (ORDER BY timezone) AS BIGINT)"


class DuckDBDialect(Dialect):
    """DuckDB (embedded; pandas, polars and DuckDB relations)."""

    name = "duckdb"
    string = "VARCHAR"

    def epoch_us(self, expr: str) -> str:
        # epoch_ns works for TIMESTAMPTZ and TIMESTAMPTZ_NS (pandas' nanoseconds); truncate.
        return f"(epoch_ns({expr}) // 1000)"

    def idiv(self, a: str, b: str | int) -> str:
        return f"(({a}) // ({b}))"

    def explode(self, expr: str) -> str:
        return f"unnest({expr})"

    def list_size(self, expr: str) -> str:
        return f"len({expr})"

    def local_time_ctes(
        self, source: str, out: str, *, days: tuple[str, str, int]
    ) -> list[tuple[str, str]]:
        # ICU time-zone conversion is slow row by row, and UTC offsets change only at
        # transitions: convert once per (time zone, UTC day) at the day's first and last
        # second; where the two agree the offset holds all day, otherwise (a transition day)
        # convert the row itself, at whole seconds (offsets change on whole seconds). The
        # days come from the range of the time column (a cheap min/max), not from the rows.
        table, column, slack = days
        day_s = DAY_US // 1_000_000
        rng, grid, offsets = f"{out}_rng", f"{out}_days", f"{out}_off"
        return [
            (
                rng,
                f"""SELECT ({self.epoch_us(f"MIN({column})")} - {slack}) // {DAY_US} AS d0,
                  {self.epoch_us(f"MAX({column})")} // {DAY_US} AS d1 FROM {table}""",
            ),
            (
                grid,
                f"""SELECT z.tz, z.tz_id, g.d FROM (SELECT DISTINCT tz, tz_id FROM emp) z
                CROSS JOIN (SELECT unnest(range(r.d0, r.d1 + 1)) AS d FROM {rng} r) g""",
            ),
            (
                offsets,
                f"""SELECT tz_id, d,
                  epoch_us(timezone(tz, to_timestamp(d * {day_s}))) - d * {DAY_US} AS o1,
                  epoch_us(timezone(tz, to_timestamp(d * {day_s} + {day_s - 1})))
                    - (d * {day_s} + {day_s - 1}) * 1000000 AS o2
                FROM {grid}""",
            ),
            (
                out,
                f"""SELECT s.*, s.s_us + CASE WHEN o.o1 = o.o2 THEN o.o1 ELSE
                    epoch_us(timezone(s.tz, to_timestamp(s.s_us // 1000000)))
                      - (s.s_us // 1000000) * 1000000 END AS local_us
                FROM {source} s JOIN {offsets} o
                  ON o.tz_id = s.tz_id AND o.d = s.s_us // {DAY_US}""",
            ),
        ]


class SparkDialect(Dialect):
    """Spark SQL (PySpark DataFrames, computed natively on the cluster)."""

    name = "spark"
    string = "STRING"

    def epoch_us(self, expr: str) -> str:
        return f"unix_micros({expr})"

    def idiv(self, a: str, b: str | int) -> str:
        return f"(({a}) div ({b}))"

    def explode(self, expr: str) -> str:
        return f"explode({expr})"

    def list_size(self, expr: str) -> str:
        return f"size({expr})"

    def employee_key(self) -> str:
        # Spark partitions and joins by the id itself: no single-partition numbering window
        return "employee_id"

    def timezone_key(self) -> str:
        return "timezone"

    def local_time_ctes(
        self, source: str, out: str, *, days: tuple[str, str, int]
    ) -> list[tuple[str, str]]:
        # from_utc_timestamp shifts by the zone's offset at that instant and does not depend
        # on the session time zone; unix_micros reads the shifted value back as integers.
        return [
            (
                out,
                f"""SELECT s.*, unix_micros(from_utc_timestamp(timestamp_micros(s.s_us), s.tz))
                    AS local_us FROM {source} s""",
            )
        ]


DIALECTS: dict[str, Dialect] = {"duckdb": DuckDBDialect(), "spark": SparkDialect()}


@dataclass
class Query:
    """A list of named CTEs and a final ``SELECT``, rendered as one SQL statement."""

    ctes: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, sql: str) -> str:
        if any(n == name for n, _ in self.ctes):
            raise ValueError(f"CTE {name!r} defined twice")
        self.ctes.append((name, sql))
        return name

    def extend(self, ctes: list[tuple[str, str]]) -> None:
        for name, sql in ctes:
            self.add(name, sql)

    def render(self, select: str) -> str:
        if not self.ctes:
            return select
        body = ",\n".join(f"{name} AS (\n{sql}\n)" for name, sql in self.ctes)
        return f"WITH {body}\n{select}"


def flag(condition: str) -> str:
    """A condition as 1.0 / 0.0 (a weight for cumulative sums)."""
    return f"CASE WHEN {condition} THEN 1.0 ELSE 0.0 END"


def days_between(later_us: str, earlier_us: str) -> str:
    """Fractional days from ``earlier`` to ``later`` (DOUBLE)."""
    return f"(CAST(({later_us}) - ({earlier_us}) AS DOUBLE) / {float(DAY_US)})"


def ratio(num: str, den: str) -> str:
    """``num / den`` as DOUBLE, NULL when the denominator is zero or NULL."""
    return f"(CAST({num} AS DOUBLE) / NULLIF(CAST({den} AS DOUBLE), 0.0))"


def weekdays(d: Dialect, start_day: str, end_day: str) -> str:
    """Number of Monday-to-Friday dates in ``[start_day, end_day)`` (UTC day numbers >= 0)."""
    n = f"GREATEST(({end_day}) - ({start_day}), 0)"
    full = d.idiv(n, 7)
    rem = f"(({n}) - 7 * {full})"
    dow = f"((({start_day}) + 3) % 7)"  # 1970-01-01 was a Thursday; Monday = 0
    head = f"LEAST({rem}, GREATEST(5 - {dow}, 0))"
    tail = f"GREATEST({rem} - (7 - {dow}), 0)"
    return f"(5 * {full} + {head} + {tail})"
