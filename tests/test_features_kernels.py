"""The compiled readers of the eager path: sorting, distinct counts, parts side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import talentml as tml
from talentml.datasets import SIMULATION_SECRET, simulate_workforce
from talentml.features import _build, _kernels

DAY = 86_400_000_000
HOUR = 3_600_000_000


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 6), st.integers(-4, 4)), max_size=80),
    sparse=st.booleans(),
)
def test_order_by_k_then_is_a_stable_sort(rows, sparse):
    k = np.array([r[0] for r in rows], dtype=np.int64) * (10**12 if sparse else 1)
    v = np.array([r[1] for r in rows], dtype=np.int64)
    order = _kernels.order_by_k_then(k, v)
    expected = np.lexsort((v, k))  # stable: ties keep their input order
    if order is None:
        assert np.array_equal(expected, np.arange(len(rows)))
    else:
        assert np.array_equal(order, expected)


@settings(max_examples=150, deadline=None)
@given(
    records=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 4), st.integers(0, 40 * 24)), max_size=60
    ),
    probes=st.lists(st.tuples(st.integers(0, 4), st.integers(-2 * 24, 60 * 24)), max_size=12),
    window=st.integers(1, 12),
)
def test_distinct_counts_match_brute_force(records, probes, window):
    """F(x) - A(x - w) + B(x - w) is the number of keys with a record in [x - w, x)."""
    records = sorted(records, key=lambda r: (r[0], r[2]))
    k = np.array([r[0] for r in records], dtype=np.int64)
    key = np.array([r[1] for r in records], dtype=np.int64)
    t = np.array([r[2] for r in records], dtype=np.int64) * HOUR
    probes = sorted(probes)
    pk = np.array([p[0] for p in probes] * 2, dtype=np.int64)
    x = np.array([p[1] for p in probes], dtype=np.int64) * HOUR
    pt = np.concatenate([x, x - window * DAY])  # block 0: x; block 1: x - w (same order)
    m = len(probes)
    pairs = [("first", 0, 0, m), ("a", window, m, 2 * m), ("b", window, m, 2 * m)]
    first, a, b = _kernels.distinct_counts(k, t, key, pairs, pk, pt)
    for i, (emp, hour) in enumerate(probes):
        hi = hour * HOUR
        lo = hi - window * DAY
        expected = len({r[1] for r in records if r[0] == emp and lo <= r[2] * HOUR < hi})
        assert first[i] - a[i] + b[i] == expected
        assert first[i] == len({r[1] for r in records if r[0] == emp and r[2] * HOUR < hi})


def test_kernels_warm_up_without_error():
    _kernels.warm()


def test_parts_side_by_side_give_the_same_features(monkeypatch):
    """Chunks computed in threads, each with its own DuckDB cursor, give the same features."""
    org = simulate_workforce(
        n_employees=30, start="2024-01-01", end="2024-12-31", random_state=3, show_progress=False
    )
    statements = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    spine = tml.features.make_spine(org.employees, start="2024-05-01", end="2024-12-01", freq="MS")
    tables = dict(
        statements=statements,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
    )
    monkeypatch.setattr(_build, "CHUNK_STATEMENTS", max(2, len(statements) // 3))
    one = tml.features.build(spine, **tables)
    monkeypatch.setattr(_build, "PARALLEL_TASKS", 2)
    seen = []
    real_fork = _build._frame.DuckDBSession.fork

    def fork(self):
        seen.append(1)
        return real_fork(self)

    monkeypatch.setattr(_build._frame.DuckDBSession, "fork", fork)
    two = tml.features.build(spine, **tables)
    assert len(seen) >= 3  # reviews, HRIS and every chunk ran on cursors of their own
    pd.testing.assert_frame_equal(two, one, check_exact=False, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("values", [np.array([3, 1, 2], dtype=np.int8), np.arange(3)])
def test_prefix_sums_follow_the_order(values):
    order = np.array([2, 0, 1])
    got = _kernels.prefix_sum_int(values, order)
    assert got.tolist() == [0, *np.cumsum(values[order]).tolist()]
