"""The point-in-time rule and its windows: the one implementation every feature family uses.

A fact is **visible** at ``as_of`` only if its available time (``stored`` for statements,
``submitted_at`` for reviews and competency ratings, ``recorded_at`` for HR events) is strictly
before ``as_of``. A visible fact is **inside a window** ``w`` when its available time is at or
after ``as_of - w``. An HR event is **in effect** at ``t`` when its ``effective_date`` is at or
before ``t`` (and it is visible). Nothing here reads the clock.

All times are compared as integer microseconds since the Unix epoch (UTC), computed once at the
boundary (:meth:`talentml.features._sql.Dialect.epoch_us`). Integer arithmetic makes the
comparisons exact and identical on every engine, and independent of any session time zone or
daylight-saving rule: a window of ``"90D"`` is exactly 90 x 86,400 seconds. Sub-microsecond
digits are truncated on both sides of every comparison, which can only hide a fact, never reveal
one (``floor(a) < floor(b)`` implies ``a < b``).

Additive aggregates (counts, sums) are computed as *cumulative sums before a probe time*: the
facts of an employee and the probe rows (one per spine row and boundary, such as ``as_of`` and
``as_of - 90D``) are sorted together by time, with probes **before** facts of the same time
(:data:`PROBE`, :data:`FACT`), and summed with a running window. The running sum at a probe at
``x`` therefore covers exactly the facts with available time ``< x``, and a window is a
difference of two probes: ``sum(as_of) - sum(as_of - w)`` covers ``as_of - w <= time < as_of``.
This is :func:`visible` and :func:`in_window`, in O(N log N), without a range join.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "DAY_US",
    "FACT",
    "PROBE",
    "Window",
    "cumulative_window",
    "effective_at",
    "in_window",
    "parse_window",
    "parse_windows",
    "to_utc",
    "visible",
]

#: Microseconds in a day (exact; windows are fixed durations).
DAY_US = 86_400_000_000
#: Sort rank of a probe row among facts of the same time: probes come first, so a probe at
#: ``x`` sees only facts strictly before ``x``.
PROBE = 0
#: Sort rank of a fact row.
FACT = 1

_WINDOW = re.compile(r"^\s*(\d+)\s*([DW])\s*$", re.IGNORECASE)
WINDOW_ERROR = (
    "window {value!r} is not valid: give a whole number of days or weeks as a string, "
    "for example '30D', '90D', '365D' or '12W'"
)


@dataclass(frozen=True, order=True)
class Window:
    """A fixed look-back window of whole days.

    Attributes
    ----------
    days : int
        Length in days.
    label : str
        Suffix used in feature names, e.g. ``"90d"``.
    """

    days: int

    @property
    def label(self) -> str:
        return f"{self.days}d"

    @property
    def us(self) -> int:
        """Length in microseconds."""
        return self.days * DAY_US

    @property
    def text(self) -> str:
        """The window as written in the catalog, e.g. ``"90D"``."""
        return f"{self.days}D"


def parse_window(value: str) -> Window:
    """Parse ``"30D"`` or ``"12W"`` into a :class:`Window`; anything else raises ValueError."""
    if not isinstance(value, str):
        raise ValueError(WINDOW_ERROR.format(value=value))
    match = _WINDOW.match(value)
    if not match:
        raise ValueError(WINDOW_ERROR.format(value=value))
    n, unit = int(match.group(1)), match.group(2).upper()
    days = n * 7 if unit == "W" else n
    if days <= 0:
        raise ValueError(WINDOW_ERROR.format(value=value) + "; it must be positive")
    return Window(days)


def parse_windows(values) -> tuple[Window, ...]:
    """Parse and check a sequence of windows: at least one, no duplicates, sorted by length."""
    if isinstance(values, str):
        values = (values,)
    try:
        items = list(values)
    except TypeError:
        raise ValueError(
            f"windows must be a sequence of strings such as ('30D', '90D'), got {values!r}"
        ) from None
    if not items:
        raise ValueError("windows must name at least one window, e.g. ('30D', '90D', '365D')")
    parsed = [parse_window(v) for v in items]
    seen: dict[int, str] = {}
    for raw, win in zip(items, parsed, strict=True):
        if win.days in seen:
            raise ValueError(
                f"windows {seen[win.days]!r} and {raw!r} are the same length ({win.days} days)"
            )
        seen[win.days] = raw
    return tuple(sorted(parsed))


def to_utc(value, *, name: str) -> pd.Timestamp:
    """An explicit point in time as a UTC timestamp (naive values are read as UTC)."""
    if value is None:
        raise ValueError(f"{name} is required: talentml never reads the clock")
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}={value!r} is not a date or time") from exc
    if ts is pd.NaT:
        raise ValueError(f"{name} is missing (NaT)")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


# --------------------------------------------------------------------------- SQL predicates
# Every family builds its conditions from these four functions, so the rule lives here only.
# Arguments are SQL expressions of integer microseconds.


def visible(available_us: str, as_of_us: str) -> str:
    """SQL: the fact is known at ``as_of`` (available time strictly before it)."""
    return f"({available_us} < {as_of_us})"


def in_window(available_us: str, as_of_us: str, window: Window) -> str:
    """SQL: a visible fact falls inside ``window`` before ``as_of``."""
    return f"({visible(available_us, as_of_us)} AND {available_us} >= {as_of_us} - {window.us})"


def effective_at(effective_us: str, at_us: str) -> str:
    """SQL: an HR event has taken effect at ``at`` (effective date at or before it)."""
    return f"({effective_us} <= {at_us})"


def cumulative_window(partition: str, time: str = "t", rank: str = "kind") -> str:
    """SQL window spec of a running sum where a probe sees exactly the facts before it.

    Rows are ordered by ``time`` then ``rank`` (:data:`PROBE` before :data:`FACT`), and the
    frame runs from the first row to the current one, so at a probe row of time ``x`` the
    frame holds the facts with time ``< x`` (probe rows carry zero weights).
    """
    return (
        f"PARTITION BY {partition} ORDER BY {time}, {rank} "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    )


# --------------------------------------------------------------------------- Arrow kernel
def sort_order(k, t):
    """Indices that sort facts by ``(k, t)`` (one integer sort when the pair fits 63 bits)."""
    import numpy as np

    k = np.asarray(k, dtype=np.int64)
    t = np.asarray(t, dtype=np.int64)
    if len(t) == 0:
        return np.arange(0)
    k_lo, t_lo = int(k.min()), int(t.min())
    span = int(t.max()) - t_lo + 1
    if (int(k.max()) - k_lo + 1) * span < 2**63:
        return np.argsort((k - k_lo) * span + (t - t_lo))
    return np.lexsort((t, k))


class RunningReader:
    """Running sums (or maxima) of each employee's facts, read at probe times.

    The vectorized twin of the SQL :func:`cumulative_window`, used when DuckDB computes
    eagerly: :meth:`read` gives, for every probe ``(k, x)``, the SUM (or MAX) of a series
    over the facts of employee ``k`` with time ``t < x`` (:func:`visible`), and
    :meth:`count` the number of those facts. The searches and integer sums are compiled
    kernels (:mod:`talentml.features._kernels`).

    Parameters
    ----------
    event_k, event_t : numpy.ndarray
        Employee key (integers) and time (int64 microseconds) of each fact, sorted by
        ``(k, t)``.
    probe_k, probe_t : numpy.ndarray
        Employee key and time of each probe. Probes are searched by block (a slice or index
        array) on first use; searches are fastest when a block is sorted by ``(k, t)``.
    check : bool, default True
        Verify that the facts are sorted (callers that just sorted them skip it).
    """

    def __init__(self, event_k, event_t, probe_k, probe_t, *, check: bool = True) -> None:
        import numpy as np

        from . import _kernels

        event_k = np.ascontiguousarray(event_k, dtype=np.int64)
        event_t = np.ascontiguousarray(event_t, dtype=np.int64)
        self.probe_k = np.asarray(probe_k, dtype=np.int64)
        self.probe_t = np.asarray(probe_t, dtype=np.int64)
        n = len(event_t)
        if check and n > 1 and _kernels.order_by_k_then(event_k, event_t) is not None:
            raise ValueError("facts must be sorted by (k, t)")
        self.n, self.m = n, len(self.probe_t)
        self.event_k, self.event_t = event_k, event_t
        self._positions: dict = {}
        # the distinct employee keys and where their facts start: a probe finds its
        # employee, then its place among that employee's facts, by two binary searches
        self.uk, self.off = _kernels.group_offsets(event_k)

    def positions(self, block=None):
        """``(pos, start)`` of the probes of ``block``: facts before each probe, and before
        its employee's first fact."""
        from . import _kernels

        key = (
            ("all",)
            if block is None
            else ((block.start, block.stop) if isinstance(block, slice) else id(block))
        )
        if key in self._positions:
            return self._positions[key]
        pk = self.probe_k if block is None else self.probe_k[block]
        pt = self.probe_t if block is None else self.probe_t[block]
        got = _kernels.positions(self.uk, self.off, self.event_t, pk, pt)
        self._positions[key] = got
        return got

    def count(self, blocks):
        """Number of the employee's facts before each probe, for each block."""
        out = []
        for b in blocks:
            pos, start = self.positions(b)
            out.append((pos - start).astype("float64"))
        return out

    def running(self, values, agg: str = "SUM", *, order=None):
        """The running series of ``values`` over the sorted facts (see :meth:`read`).

        ``order``: the permutation that sorted the facts, when ``values`` are still in
        their original order (applied on the fly, without a sorted copy of ``values``).
        """
        import numpy as np

        from . import _kernels

        if agg == "SUM":
            values = np.asarray(values)
            if np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_:
                return _kernels.prefix_sum_int(values, order)
            if order is not None:
                values = values[order]
            run = np.zeros(self.n + 1, dtype=np.longdouble)
            np.cumsum(np.nan_to_num(values.astype(np.float64), nan=0.0), out=run[1:])
            return run
        if agg == "MAX":
            # the time of the last fact itself needs no running maximum (sorted by time)
            if values is self.event_t:
                return self.event_t
            if order is not None:
                values = np.asarray(values)[order]
            return self._running_max(values)
        raise ValueError(f"unknown aggregate {agg!r}")

    def read(self, values, agg: str = "SUM", probes=None, *, order=None):
        """The series ``values`` (aligned with the facts) at the probes.

        ``probes``: None (all), a block, or a list of blocks (one result per block; the
        running sum is computed once). ``agg="SUM"``: counts (integer arrays) add up
        exactly, other values in extended precision, so that a reading hardly depends on
        the other employees summed before it. ``agg="MAX"``: ``values`` are integer times
        (NaN where a fact has none); NaN when no value is visible. ``order``: see
        :meth:`running`.
        """
        import numpy as np

        many = isinstance(probes, list)
        blocks = probes if many else [probes]
        out = []
        if self.n == 0:
            if agg not in ("SUM", "MAX"):
                raise ValueError(f"unknown aggregate {agg!r}")
            for b in blocks:
                size = len(self.positions(b)[0])
                out.append(np.full(size, np.nan if agg == "MAX" else 0.0))
            return out if many else out[0]
        run = self.running(values, agg, order=order)
        for b in blocks:
            pos, start = self.positions(b)
            if agg == "SUM":
                out.append((run[pos] - run[start]).astype(np.float64))
            else:
                got = run[np.maximum(pos - 1, 0)].astype(np.float64)
                out.append(np.where(pos > start, got, np.nan))
        return out if many else out[0]

    def _running_max(self, values):
        """Running maximum that restarts with each employee (NaN before the first value)."""
        import numpy as np

        v = np.asarray(values, dtype=np.float64)
        out = np.full(self.n, np.nan)
        for e0, e1 in zip(self.off[:-1].tolist(), self.off[1:].tolist(), strict=True):
            seg = v[e0:e1]
            # NaN-aware running maximum of one employee's values
            run = np.fmax.accumulate(seg) if len(seg) else seg
            out[e0:e1] = run
        return out


def running_at_probes(event_k, event_t, weights: dict, aggs: dict, probe_k, probe_t) -> dict:
    """Every series of ``weights`` read at every probe (see :class:`RunningReader`).

    Examples
    --------
    >>> import numpy as np
    >>> from talentml.features._pit import running_at_probes
    >>> k, t = np.array([0, 0, 1]), np.array([10, 20, 10])
    >>> out = running_at_probes(k, t, {"n": np.array([1, 1, 1])}, {"n": "SUM"},
    ...                         np.array([0, 0, 1]), np.array([20, 21, 10]))
    >>> out["n"].tolist()  # strictly before the probe time
    [1.0, 2.0, 0.0]
    """
    reader = RunningReader(event_k, event_t, probe_k, probe_t)
    return {name: reader.read(weights[name], agg) for name, agg in aggs.items()}
